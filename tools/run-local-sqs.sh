#!/usr/bin/env bash
# A local SQS in one command: fauxqs (the SQS/SNS emulator the integration tests use) on
# 127.0.0.1, in the background, detached from the terminal so that it stays up.
#
#   eval "$(tools/run-local-sqs.sh orders refunds)"   # start it (or reuse it), create two queues
#   tools/run-local-sqs.sh --stop                      # stop it
#
# Installs what it needs first (Node and npm from Debian when missing, then the pinned fauxqs
# via tools/install-test-deps.sh). Prints, on standard output, the `export` lines a shell
# needs to reach it (endpoint, fake keys, region, COURIER_LOCAL_SQS_PID), how to stop it, and
# the URL of each queue named on the command line, created if missing (a name ending in
# .fifo makes a FIFO queue); everything else goes to standard error, so `eval "$(...)"` sets
# the variables. Run again, it reuses the server already listening on that port.
#
# Flags (and environment fallbacks):
#   --port N          COURIER_LOCAL_SQS_PORT    default 4566; 0 lets the kernel pick a free one
#   --region R        COURIER_LOCAL_SQS_REGION  default us-east-1
#   --max-seconds S   the server stops by itself after S seconds (default 86400, a day)
#   --stop            stop the server listening on that port (by its pid) and wait for it
# Memory only: the queues and messages are gone when it stops.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
server_dir="$repo/tests/integration/server"
node="$server_dir/node_modules/.bin/node"

port="${COURIER_LOCAL_SQS_PORT:-4566}"
region="${COURIER_LOCAL_SQS_REGION:-us-east-1}"
max_seconds=86400
stop=false
queues=()

say() { echo "run-local-sqs: $*" >&2; }
fail() { say "$*"; exit 1; }
usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit "$1"; }

while (($#)); do
    case "$1" in
        --port) port="${2:?--port needs a value}"; shift 2 ;;
        --region) region="${2:?--region needs a value}"; shift 2 ;;
        --max-seconds) max_seconds="${2:?--max-seconds needs a value}"; shift 2 ;;
        --stop) stop=true; shift ;;
        -h|--help) usage 0 ;;
        -*) say "unknown flag $1"; usage 2 ;;
        *) queues+=("$1"); shift ;;
    esac
done
[[ "$port" =~ ^[0-9]+$ ]] && ((port <= 65535)) || { say "bad port '$port'"; exit 2; }

# Where a running server is recorded: "PORT PID" in a file per user and port.
state_dir="${TMPDIR:-/tmp}/courier-local-sqs-$(id -u)"
mkdir -p "$state_dir"

# The pid recorded for `port` if that process is alive and is our fauxqs, else nothing.
running_pid()
{
    local file="$state_dir/$1.pid" pid
    [[ -f "$file" ]] || return 0
    read -r pid <"$file" || return 0
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q fauxqs-loopback.mjs; then
        echo "$pid"
    fi
}

if $stop; then
    pid="$(running_pid "$port")"
    [[ -n "$pid" ]] || { say "no local SQS recorded on port $port"; exit 0; }
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$pid" 2>/dev/null || fail "pid $pid did not stop within 10 s"
    rm -f "$state_dir/$port.pid" "$state_dir/$port.log"
    say "stopped (pid $pid)"
    exit 0
fi

# What it needs: npm from Debian when missing, then the pinned Node 22 and fauxqs.
if ! command -v npm >/dev/null 2>&1; then
    sudo=""
    [[ "$(id -u)" == 0 ]] || sudo=sudo
    say "installing nodejs and npm (Debian packages)"
    { $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
        --no-install-recommends nodejs npm; } >&2
fi
"$repo/tools/install-test-deps.sh" >&2

pid=""
if ((port != 0)); then
    pid="$(running_pid "$port")"
fi
if [[ -n "$pid" ]]; then
    say "reusing the local SQS on port $port (pid $pid)"
else
    out="$(mktemp "$state_dir/start.XXXXXX")"
    log="$state_dir/starting.$$.log"
    # setsid: a session of its own, so closing the terminal sends it no SIGHUP and it never
    # reads the terminal (a background reader would be stopped by SIGTTIN). Its stdin is
    # /dev/null, hence --no-stdin-watch (end of stdin would stop it at once).
    FAUXQS_DEFAULT_REGION="$region" setsid "$node" --disable-warning=ExperimentalWarning \
        "$server_dir/fauxqs-loopback.mjs" --port "$port" --no-stdin-watch --max-seconds "$max_seconds" \
        </dev/null >"$out" 2>"$log" &
    # It prints `listening PORT PID` once bound; 30 s covers a slow first start of Node.
    for _ in $(seq 300); do
        grep -q '^listening ' "$out" 2>/dev/null && break
        kill -0 $! 2>/dev/null || break
        sleep 0.1
    done
    read -r word bound pid <"$out" || true
    rm -f "$out"
    if [[ "${word:-}" != listening ]]; then
        cat "$log" >&2
        rm -f "$log"
        fail "fauxqs did not start on 127.0.0.1:$port (another server on that port? try --port N)"
    fi
    port="$bound"
    echo "$pid" >"$state_dir/$port.pid"
    mv "$log" "$state_dir/$port.log"
    say "fauxqs listening on 127.0.0.1:$port (pid $pid)"
fi

endpoint="http://127.0.0.1:$port"
created=()
if ((${#queues[@]})); then
    mapfile -t created < <("$node" "$server_dir/create-queues.mjs" --endpoint "$endpoint" --region "$region" \
        "${queues[@]}") || fail "could not create the queues"
fi

# For `eval`: the export lines, then comments a reader needs (also on stderr when the output is
# not a terminal, since eval swallows them).
notes=("# local SQS: $endpoint (fauxqs, pid $pid, memory only, stops by itself after ${max_seconds} s;"
       "#   log: $state_dir/$port.log)"
       "# stop it: kill \$COURIER_LOCAL_SQS_PID   (or: tools/run-local-sqs.sh --stop --port $port)")
for line in "${created[@]}"; do
    notes+=("# queue ${line%% *}: ${line#* }")
done
cat <<EOF
export AWS_ENDPOINT_URL_SQS=$endpoint AWS_ENDPOINT_URL_SNS=$endpoint
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=$region
export COURIER_LOCAL_SQS_PID=$pid
EOF
printf '%s\n' "${notes[@]}"
[[ -t 1 ]] || printf '%s\n' "${notes[@]}" >&2
