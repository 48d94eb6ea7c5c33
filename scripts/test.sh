#!/usr/bin/env bash
# Builds (incrementally; configures build/ first if needed) and runs the
# whole test suite through ctest: the lit suite (test/), the clang-format
# check and the generated-docs check. Exits non-zero on any failure.
#
#   scripts/test.sh                  # everything
#   scripts/test.sh -R lit           # extra arguments go to ctest
#
# Missing Debian packages are installed first (a no-op when all are there).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

muir_install_deps
muir_build
muir_log "test: ctest --test-dir $MUIR_BUILD_DIR"
ctest --test-dir "$MUIR_BUILD_DIR" --output-on-failure "$@"
