#!/usr/bin/env bash
# Checks that every tracked C++ source and header follows .clang-format (Debian 12's
# clang-format 14, installed with apt-get if missing) and names the files that do not.
#   tools/check-format.sh          check (what CI runs first; exit 1 if a file differs)
#   tools/check-format.sh --fix    format them in place
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null 2>&1; then
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo=sudo
    $sudo apt-get install -y clang-format >&2
fi
# Regular files only: `clang-format -i` on a symlink (tests/consumers/*/service.cpp) would
# replace it with a copy.
mapfile -t files < <(git ls-files -s '*.cpp' '*.hpp' | awk '$1 != "120000" { print $4 }')
if [[ "${1:-}" == "--fix" ]]; then
    clang-format -i "${files[@]}"
    exit 0
fi
bad=()
for f in "${files[@]}"; do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
    echo "check-format: ${#bad[@]} file(s) differ from .clang-format (tools/check-format.sh --fix formats them):" >&2
    printf '  %s\n' "${bad[@]}" >&2
    exit 1
fi
echo "check-format: ${#files[@]} files follow .clang-format"
