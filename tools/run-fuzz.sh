#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang in build-fuzz and runs each one for a bounded
# time against a scratch copy of its committed seed corpus, two at a time.
#   tools/run-fuzz.sh [seconds-per-target]     default 45; 10 targets -> about 4 min + build
#   FUZZ_TARGETS="fuzz_sigv4 fuzz_sqs_errors" tools/run-fuzz.sh 600   a subset, longer
#   FUZZ_KEEP=1 tools/run-fuzz.sh               keep the scratch dir (grown corpora, logs)
# Prints one line per target (executions, exec/s, coverage, features, corpus size) and exits
# non-zero if any target crashed, leaked, timed out or tripped ASan/UBSan; the input that did
# it is kept as <scratch>/<target>/crash-* (or leak-*, timeout-*) and the log beside it.
# Reproduce one with: build-fuzz/fuzz/<target> <file>
# The committed corpora are never written: new inputs only go to the scratch copy.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-45}"
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || { echo "usage: $0 [seconds-per-target]" >&2; exit 2; }
all_targets=(fuzz_sqs_responses fuzz_sqs_errors fuzz_sns_envelope fuzz_sns_protocol
             fuzz_json_decode fuzz_shared_config fuzz_credentials fuzz_sigv4 fuzz_stomp fuzz_amqp)
read -r -a targets <<<"${FUZZ_TARGETS:-${all_targets[*]}}"

# The build dependencies plus clang 14 and its runtime (libFuzzer, ASan and UBSan live in
# libclang-rt-14-dev).
tools/install-deps.sh --fuzz

if [[ ! -f build-fuzz/build.ninja ]]; then
    CC=clang CXX=clang++ meson setup build-fuzz --buildtype=debugoptimized -Dfuzz=true -Dtests=false -Dexamples=false \
        -Dtools=false -Dbench=false -Dintegration_tests=false
fi
# Only the fuzz targets: the library proper (Asio, Beast) is not needed by them.
ninja -C build-fuzz "${targets[@]/#/fuzz/}"

work="$(mktemp -d "${TMPDIR:-/tmp}/courier-fuzz.XXXXXX")"

run_one()
{
    local t="$1" dir="$work/$1"
    mkdir -p "$dir/corpus"
    cp fuzz/corpus/"$t"/* "$dir/corpus/"
    local dict=()
    [[ -f "fuzz/$t.dict" ]] && dict=("-dict=fuzz/$t.dict")
    # -timeout: one input taking over 10 s is a hang. -rss_limit_mb: a blow-up is a failure
    # (the parsers cap what they accept). -max_len: bodies past 8 KiB explore nothing new.
    local rc=0
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "build-fuzz/fuzz/$t" "$dir/corpus" "${dict[@]}" -max_total_time="$seconds" \
        -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$dir/" >"$dir/log" 2>&1 || rc=$?
    local execs per_sec cov ft corp
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
    per_sec=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
    corp=$(find "$dir/corpus" -type f | wc -l)
    local verdict="ok"
    if [[ $rc -ne 0 ]] || grep -qE '^==[0-9]+==ERROR|runtime error:|^SUMMARY: ' "$dir/log"; then
        verdict="FAILED (exit $rc): $(grep -m1 -E 'ERROR: |runtime error:|deadly signal' "$dir/log" | cut -c1-160); log $dir/log, input $(ls "$dir" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | head -1)"
    fi
    printf '%-20s %10s execs %7s exec/s  cov %5s  ft %6s  corpus %5s  %s\n' \
        "$t" "${execs:-?}" "${per_sec:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$verdict" >"$dir/result"
}

# Two at a time (2 cores): start the next target as soon as one finishes.
running=0
for t in "${targets[@]}"; do
    if ((running >= 2)); then
        wait -n || true
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait

echo "fuzzing: ${seconds} s per target, scratch dir $work"
failed=0
for t in "${targets[@]}"; do
    cat "$work/$t/result"
    grep -q ' ok$' "$work/$t/result" || failed=1
done
if ((failed)); then
    echo "fuzzing FAILED: inputs and logs kept in $work" >&2
    exit 1
fi
[[ -n "${FUZZ_KEEP:-}" ]] || rm -rf "$work"
echo "fuzzing: every target ok"
