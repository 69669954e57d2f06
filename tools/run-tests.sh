#!/usr/bin/env bash
# Quick start, second command (and what CI runs): install what is missing, build, run
# every test (unit tests, the SigV4 suite, integration tests against fauxqs).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --tests
tools/build.sh
status=0
meson test -C build --print-errorlogs --num-processes 2 || status=$?
# One closing line with the totals, counted from meson's own log.
python3 - build/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    result = json.loads(line)["result"]
    if result in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif result == "SKIP":
        skipped += 1
    else:
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
