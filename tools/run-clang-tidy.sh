#!/usr/bin/env bash
# clang-tidy with the repository's .clang-tidy over the library's sources (or the files
# given), using build/compile_commands.json (run tools/build.sh first). Slow: about half a
# minute per file on 2 cores; meant for a change's files, not for CI.
#   tools/run-clang-tidy.sh                       every file in src/
#   tools/run-clang-tidy.sh src/core/worker.cpp   just these
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f build/compile_commands.json ]] || { echo "run tools/build.sh first (needs build/compile_commands.json)" >&2; exit 2; }
if [[ $# -gt 0 ]]; then
    files=("$@")
else
    mapfile -t files < <(git ls-files 'src/*.cpp')
fi
# GCC's precompiled-header flags mean nothing to clang: drop them from the commands.
mkdir -p build/tidy
sed -e 's/ -include courier_pch.hpp//g' -e 's/ -fpch-preprocess//g' -e 's/ -Winvalid-pch//g' \
    build/compile_commands.json > build/tidy/compile_commands.json
clang-tidy -p build/tidy --quiet "${files[@]}"
