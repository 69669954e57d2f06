#!/usr/bin/env bash
# Quick start, first command: install what is missing, build, run the example service
# on the embedded in-memory queue.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh examples/quickstart
exec build/examples/quickstart
