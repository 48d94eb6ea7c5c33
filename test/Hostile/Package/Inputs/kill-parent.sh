#!/bin/sh
# A stand-in C compiler for MUIR_PACKAGE_CC that kills the muirc running it
# with signal $MUIR_TEST_SIGNAL in the middle of `muirc package`: the staging
# directory then holds the table's sources but no library or manifest.
kill -s "$MUIR_TEST_SIGNAL" "$PPID"
sleep 1
exit 1
