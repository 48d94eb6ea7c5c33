# Shared by scripts/setup.sh, scripts/test.sh and .ci/run: source it, don't
# run it. Every step is idempotent, so running a script twice costs a no-op
# build.
#
# Knobs (environment):
#   MUIR_BUILD_DIR    build folder (default: <repo>/build)
#   MUIR_BUILD_TYPE   CMAKE_BUILD_TYPE on first configure (default: Release)
#   MUIR_JOBS         parallel build jobs (default: ninja's own choice)
#   MUIR_CMAKE_ARGS   extra arguments for the first configure

MUIR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MUIR_BUILD_DIR="${MUIR_BUILD_DIR:-$MUIR_ROOT/build}"
MUIR_BUILD_TYPE="${MUIR_BUILD_TYPE:-Release}"
MUIR_LLVM_PREFIX=/usr/lib/llvm-22

# Debian 12 packages: the MLIR 22 toolchain (the -tools packages are needed
# by MLIRTargets.cmake's import check, pitfall P14), the compiler and linker,
# clang's runtime libraries (libFuzzer and AddressSanitizer, without which
# the fuzz targets in test/fuzz are not built), clang-format for the format
# check, python3-numpy/torch for the numerics checks and the PyTorch
# integration; for the transfer experiments (python/muir/transfer,
# examples/trainers) matplotlib, OpenBLAS and zlib for the C trainer, and the
# data: Fashion-MNIST and a byte-level corpus (fortunes).
MUIR_APT_PACKAGES=(
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  clang-22 lld-22 libclang-rt-22-dev clang-format-22
  cmake ninja-build
  python3 python3-numpy python3-torch
  python3-matplotlib libopenblas-dev zlib1g-dev
  dataset-fashion-mnist fortunes
)

muir_log() { printf '==> %s\n' "$*" >&2; }

# Runs a command as root: directly when we are root, through sudo otherwise.
muir_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  else
    sudo "$@"
  fi
}

# Installs the packages that are missing; `apt-get update` only runs when
# something is missing, so a provisioned machine pays nothing.
muir_install_deps() {
  local missing=() pkg
  for pkg in "${MUIR_APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
      grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    muir_log "packages: all ${#MUIR_APT_PACKAGES[@]} installed"
    return 0
  fi
  muir_log "packages: installing ${missing[*]}"
  muir_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  muir_as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
}

# Configures $MUIR_BUILD_DIR unless it already is; after that, ninja re-runs
# CMake by itself whenever a CMakeLists.txt changes.
muir_configure() {
  if [ -f "$MUIR_BUILD_DIR/CMakeCache.txt" ] &&
    [ -f "$MUIR_BUILD_DIR/build.ninja" ]; then
    return 0
  fi
  muir_log "configure: $MUIR_BUILD_DIR ($MUIR_BUILD_TYPE)"
  # shellcheck disable=SC2086 # MUIR_CMAKE_ARGS is a list of words
  cmake -G Ninja -S "$MUIR_ROOT" -B "$MUIR_BUILD_DIR" \
    -DCMAKE_BUILD_TYPE="$MUIR_BUILD_TYPE" \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_USE_LINKER=lld-22 \
    -DMLIR_DIR="$MUIR_LLVM_PREFIX/lib/cmake/mlir" \
    -DLLVM_EXTERNAL_LIT="$MUIR_LLVM_PREFIX/bin/lit" \
    ${MUIR_CMAKE_ARGS:-}
}

# Builds everything in the default target (tools, libraries, generated docs).
muir_build() {
  muir_configure
  # compile_commands.json at the root, for clangd and clang-tidy.
  if [ "$MUIR_BUILD_DIR" = "$MUIR_ROOT/build" ] &&
    [ ! -e "$MUIR_ROOT/compile_commands.json" ]; then
    ln -sfn build/compile_commands.json "$MUIR_ROOT/compile_commands.json"
  fi
  muir_log "build: $MUIR_BUILD_DIR"
  cmake --build "$MUIR_BUILD_DIR" ${MUIR_JOBS:+--parallel "$MUIR_JOBS"}
}
