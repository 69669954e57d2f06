#!/usr/bin/env bash
# Installs the Debian 12 packages courier needs, skipping those already installed.
#   tools/install-deps.sh          build dependencies
#   tools/install-deps.sh --tests  also what the integration tests need (Node/npm, then
#                                  the pinned fauxqs server via tools/install-test-deps.sh)
#   tools/install-deps.sh --fuzz   also clang 14 and its runtime (libFuzzer, ASan, UBSan)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ meson ninja-build pkg-config python3
          libboost1.81-dev libboost-url1.81-dev libsimdjson-dev libfmt-dev libssl-dev openssl
          doctest-dev)
with_tests=false
[[ "${1:-}" == "--tests" ]] && with_tests=true
[[ "${1:-}" == "--fuzz" ]] && packages+=(clang libclang-rt-14-dev)
if $with_tests && ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    sudo=""
    [[ "$(id -u)" == 0 ]] || sudo=sudo
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if $with_tests; then
    tools/install-test-deps.sh
fi
