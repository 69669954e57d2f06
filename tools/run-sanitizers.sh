#!/usr/bin/env bash
# Sanitizer builds for CI (issue 5): ASan+UBSan and TSan, each in its own build folder,
# building only what the tests need and running the unit, SigV4 and integration tests.
#   tools/run-sanitizers.sh            both, asan first
#   tools/run-sanitizers.sh asan       ASan + UBSan only
#   tools/run-sanitizers.sh tsan       TSan only
# Extra arguments after the kind go to `meson test` (e.g. a test name to run just that).
# Each run prints its build and test durations; the exit status is non-zero if any
# sanitizer reported (the runtimes are told to abort on the first report) or a test failed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${COURIER_JOBS:-2}
kinds=(asan tsan)
if [[ $# -ge 1 ]]; then
    case $1 in
        asan|tsan) kinds=("$1"); shift ;;
        *) echo "usage: $0 [asan|tsan [meson test arguments...]]" >&2; exit 2 ;;
    esac
fi
extra=("$@")

# The tests need only these; examples, benchmarks, fuzz targets and courier-load (used by
# the soak suite only) are left out.
targets=(tests/unit/unit_tests tests/integration/integration_tests tools/courier-sigv4)

configure()
{
    local dir=$1 sanitize=$2 extra_args=$3
    if [[ ! -f $dir/build.ninja ]]; then
        # -O1 -g1, not debugoptimized (-O2 -g): a third of the compile time (the ASan build
        # took about 65 CPU minutes, now about 20), still fast enough to run the tests, and
        # line tables are all a sanitizer report needs for its stacks.
        # b_lundef=false: with -Wl,--no-undefined a shared libcourier (default_library=shared)
        # fails to link, its sanitizer runtime symbols being resolved only in the executable.
        meson setup "$dir" --buildtype=plain -Doptimization=1 -Ddebug=false \
            -Dcpp_args="-g1 $extra_args" -Db_sanitize="$sanitize" -Db_lundef=false \
            -Dexamples=false -Dbench=false -Dfuzz=false -Dtools=true -Dtests=true -Dintegration_tests=true
    fi
}

run_kind()
{
    local kind=$1 dir sanitize start built
    local extra_args=""
    case $kind in
        asan) dir=build-asan; sanitize=address,undefined ;;
        # -Wno-tsan: GCC warns at every atomic_thread_fence inlined from libstdc++ and Asio
        # (hundreds of lines per file); TSan does not model fences, which is why its
        # suppressions file exists, not a defect of ours.
        tsan) dir=build-tsan; sanitize=thread; extra_args=-Wno-tsan ;;
    esac
    start=$(date +%s)
    configure "$dir" "$sanitize" "$extra_args"
    # nice: the machine is shared with other builds, which must not be starved.
    local kind_targets=("${targets[@]}")
    [[ $kind == tsan ]] && kind_targets+=(tests/integration/broker_thread_tests)
    nice -n 10 ninja -C "$dir" -j "$jobs" "${kind_targets[@]}"
    built=$(date +%s)
    local supp=$root/tools/sanitizers
    # halt_on_error / abort: any report fails the test that triggered it, with a stack.
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp"
    # Leak checking is on at exit of every test binary; fake stacks (use-after-return) stay
    # off, as Asio's coroutine frames live on the heap and it would only cost time.
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0"
    export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp:history_size=4"
    local status=0
    # Sanitized code runs 2-15x slower: the timeouts are stretched accordingly.
    local common=(-C "$dir" --no-rebuild --print-errorlogs --num-processes "$jobs" --timeout-multiplier 3)
    if [[ ${#extra[@]} -gt 0 ]]; then
        nice -n 5 meson test "${common[@]}" "${extra[@]}" || status=$?
    else
        # The soak suite (tests/faults) is left out: minutes of load under a sanitizer's
        # slowdown would not fit the CI budget.
        nice -n 5 meson test "${common[@]}" --suite unit --suite integration || status=$?
        nice -n 5 meson test "${common[@]}" sigv4-suite || status=$?
        # Broker connections and routes on an io_context that several threads run.
        if [[ $kind == tsan ]]; then
            nice -n 5 meson test "${common[@]}" rabbitmq-threads || status=$?
        fi
    fi
    local end
    end=$(date +%s)
    echo "$kind: build $((built - start)) s, tests $((end - built)) s, status $status"
    return $status
}

overall=0
for kind in "${kinds[@]}"; do
    run_kind "$kind" || overall=1
done
exit $overall
