#!/usr/bin/env bash
# Configures (once) and builds courier in ./build; only what changed is recompiled.
#   tools/build.sh                      everything
#   tools/build.sh examples/quickstart  just that target (and what it needs)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
    meson setup build --buildtype=debugoptimized
fi
# Two jobs: a machine with 2 cores and Beast in the build is memory- and CPU-bound.
ninja -C build -j "${COURIER_JOBS:-2}" "$@"
