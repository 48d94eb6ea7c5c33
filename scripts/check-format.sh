#!/usr/bin/env bash
# Checks that the C and C++ sources under include/ lib/ tools/ runtime/
# examples/ are formatted as .clang-format says, with clang-format 22 (other
# versions format differently). Lists the files that differ and exits 1.
#
#   scripts/check-format.sh          # check (ctest runs this as `clang-format`)
#   scripts/check-format.sh --fix    # reformat the offending files in place
#
# CLANG_FORMAT overrides the binary.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

fix=0
case "${1:-}" in
--fix) fix=1 ;;
"") ;;
*)
  echo "usage: $0 [--fix]" >&2
  exit 2
  ;;
esac

cf="${CLANG_FORMAT:-}"
if [ -z "$cf" ]; then
  for c in /usr/lib/llvm-22/bin/clang-format clang-format-22; do
    if command -v "$c" >/dev/null 2>&1; then
      cf="$c"
      break
    fi
  done
fi
if [ -z "$cf" ]; then
  echo "check-format: clang-format 22 not found (apt-get install clang-format-22)" >&2
  exit 2
fi

dirs=()
for d in include lib tools runtime examples; do
  [ -d "$d" ] && dirs+=("$d")
done
files=()
if [ "${#dirs[@]}" -gt 0 ]; then
  while IFS= read -r -d '' f; do
    files+=("$f")
  done < <(find "${dirs[@]}" -type f \( -name '*.h' -o -name '*.hpp' \
    -o -name '*.c' -o -name '*.cc' -o -name '*.cpp' -o -name '*.cu' \) \
    -print0 | sort -z)
fi

bad=()
for f in "${files[@]}"; do
  if ! "$cf" --dry-run -Werror "$f" >/dev/null 2>&1; then
    bad+=("$f")
  fi
done

if [ "${#bad[@]}" -eq 0 ]; then
  echo "check-format: ${#files[@]} files formatted ($("$cf" --version | head -1))"
  exit 0
fi
if [ "$fix" -eq 1 ]; then
  "$cf" -i "${bad[@]}"
  printf 'check-format: reformatted %s\n' "${bad[@]}"
  exit 0
fi
echo "check-format: ${#bad[@]} of ${#files[@]} files differ from .clang-format:"
printf '  %s\n' "${bad[@]}"
echo "fix with: scripts/check-format.sh --fix   (or: $cf -i FILE...)"
exit 1
