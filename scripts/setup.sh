#!/usr/bin/env bash
# Installs what muir needs (Debian 12 packages), configures build/ (Ninja,
# clang-22, lld-22, Release) unless it is configured, builds, and runs the
# main job: verify examples/gpt2.mlir and print its parameter table.
#
#   scripts/setup.sh              # the main job on examples/gpt2.mlir
#   scripts/setup.sh model.mlir   # the same on another model
#
# Idempotent: a second run installs nothing and rebuilds nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

model="${1:-examples/gpt2.mlir}"

muir_install_deps
muir_build

cd "$MUIR_ROOT"
muir_log "main job: muirc summary $model"
"$MUIR_BUILD_DIR/bin/muirc" summary "$model"
