#!/bin/sh
# A stand-in C compiler for MUIR_PACKAGE_CC that fails after writing half a
# library (its -o argument).
while [ $# -gt 0 ]; do
  if [ "$1" = "-o" ]; then printf '\177ELF half' > "$2"; fi
  shift
done
exit 1
