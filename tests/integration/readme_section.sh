#!/usr/bin/env bash
# Runs the shell commands of one README.md section, in order, as a reader pasting them would:
# the lines of its ```bash blocks, in one bash with -e and pipefail.
#
#   readme_section.sh README.md "### Running against SQS, or a local fauxqs" BUILD_DIR PATTERN...
#
# The commands run in a scratch folder that looks like the repository (tools/, tests/, src/
# and the rest are symlinks) except that build/ is BUILD_DIR, so the section uses the build
# under test and nothing it writes lands in the repository. HOME is a fresh folder (no
# ~/.aws), AWS_* and COURIER_* variables are cleared, and COURIER_LOCAL_SQS_PORT=0 makes
# tools/run-local-sqs.sh take a free loopback port instead of 4566. Whatever local SQS the
# section started is stopped by its pid at the end, failed or not, and waited for. Passes
# when the commands exit 0 and their output matches every PATTERN (grep -E).
set -euo pipefail

readme="$(realpath "$1")"
heading="$2"
build_dir="$(realpath "$3")"
shift 3
repo="$(dirname "$readme")"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/courier-readme.XXXXXX")"
state_dir="$scratch/tmp/courier-local-sqs-$(id -u)"

# Stops every server the section started (recorded by run-local-sqs.sh) and waits for it.
cleanup()
{
    local file pid
    for file in "$state_dir"/*.pid; do
        [[ -f "$file" ]] || continue
        read -r pid <"$file" || continue
        if kill -0 "$pid" 2>/dev/null; then
            echo "readme_section: stopping the local SQS left running (pid $pid)"
            kill "$pid"
            for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        fi
    done
    rm -rf "$scratch"
}
trap cleanup EXIT

# The section: from its heading to the next heading of the same or a higher level.
level="${heading%% *}"
awk -v heading="$heading" -v level="$level" '
    $0 == heading { inside = 1; next }
    inside && /^#+ / { split($0, h, " "); if (length(h[1]) <= length(level)) exit }
    inside && /^```bash$/ { code = 1; next }
    inside && /^```$/ { code = 0; next }
    inside && code { print }
' "$readme" >"$scratch/section.sh"
[[ -s "$scratch/section.sh" ]] || { echo "readme_section: no bash block under '$heading'" >&2; exit 1; }
echo "--- the commands of '$heading'"
cat "$scratch/section.sh"

mkdir "$scratch/repo" "$scratch/home" "$scratch/tmp"
for entry in "$repo"/* "$repo"/.[!.]*; do
    name="$(basename "$entry")"
    [[ "$name" == build* || "$name" == .git ]] && continue
    ln -s "$entry" "$scratch/repo/$name"
done
ln -s "$build_dir" "$scratch/repo/build"

echo "--- running them"
set +e
(
    cd "$scratch/repo"
    for v in $(env | grep -oE '^(AWS|COURIER)_[A-Z0-9_]+'); do unset "$v"; done
    export HOME="$scratch/home" TMPDIR="$scratch/tmp" COURIER_LOCAL_SQS_PORT=0
    bash -euo pipefail -x "$scratch/section.sh"
) 2>&1 | tee "$scratch/output"
status=${PIPESTATUS[0]}
set -e
if ((status != 0)); then
    echo "readme_section: the commands failed (exit status $status)" >&2
    exit 1
fi
for pattern in "$@"; do
    grep -qE -- "$pattern" "$scratch/output" || { echo "readme_section: no output matches '$pattern'" >&2; exit 1; }
done
echo "readme_section: every command of '$heading' ran; the output has ${#@} expected line(s)"
