#!/usr/bin/env bash
# Installs what muir needs (Debian 12 packages), configures build/ (Ninja,
# clang-22, lld-22, Release) unless it is configured, builds, and runs the
# main job: the parametrisation report of GPT-2 small (examples/cards/
# gpt2-small.json) transferred from its base model (gpt2-base.json) under
# CompleteP with AdamW: every weight's init std, multiplier, lr, weight
# decay, eps and betas, with their scaling exponents.
#
#   scripts/setup.sh                       # the main job on the shipped cards
#   scripts/setup.sh model.mlir [flags]    # muirc report on another model
#
# Idempotent: a second run installs nothing and rebuilds nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"


muir_install_deps
muir_build

cd "$MUIR_ROOT"
if [ $# -gt 0 ]; then
  muir_log "main job: muirc report $*"
  exec "$MUIR_BUILD_DIR/bin/muirc" report "$@"
fi
muir_log "main job: muirc report on examples/cards/gpt2-{base,small}.json"
"$MUIR_BUILD_DIR/bin/muirc" report \
  --card examples/cards/gpt2-small.json --base-card examples/cards/gpt2-base.json \
  --scheme completep --optimizer adamw \
  --lr 6e-4 --init-std 0.02 --weight-decay 0.1 --eps 1e-8 --beta1 0.9 --beta2 0.95
