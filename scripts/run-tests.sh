#!/bin/sh
# Runs the whole suite: unit tests, then integration tests. As root it first
# makes the unprivileged users the rootless tests run as (one with a subuid
# range, one without). Ends with one "N passed, N failed, N skipped" line.
set -u
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" -eq 0 ]; then
  "$HERE/setup-test-users.sh"
fi

meson test -C "$BUILD" --print-errorlogs --num-processes 2
status=$?
python3 - "$BUILD/meson-logs/testlog.json" <<'PY'
import json, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
with open(sys.argv[1]) as log:
    for line in log:
        result = json.loads(line)["result"]
        if result in ("OK", "EXPECTEDFAIL"):
            counts["passed"] += 1
        elif result == "SKIP":
            counts["skipped"] += 1
        else:
            counts["failed"] += 1
print(f"tests: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
PY
exit $status
