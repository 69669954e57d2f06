#!/usr/bin/env bash
# Proves courier can be used from another project, as a user would: installs it into a
# temporary prefix (release, without tests, benchmarks or examples), checks what was
# installed, then builds and runs the three consumer projects of tests/consumers:
#   meson-pkgconfig    meson, dependency('courier') through the installed courier.pc
#   cmake              CMake, find_package(courier) and courier::courier
#   meson-subproject   meson, courier as a subproject (a symlink in a temporary copy)
# Each consumer is a small service that handles one message on its memory queue (--testing)
# and exits 0. Prints the time of each step and the size of libcourier.a, and ends with
# `consumers: N passed, N failed`. Everything happens in a temporary folder, removed at the end.
#
#   tools/test-consumers.sh          (about 20 min on 2 cores: courier is compiled twice)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

tools/install-deps.sh --cmake

work="$(mktemp -d "${TMPDIR:-/tmp}/courier-consumers.XXXXXX")"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
multiarch="$(gcc -print-multiarch)"
jobs="${COURIER_JOBS:-2}"
passed=0
failed=0
summary=()

# Runs "$@" and records how long it took under `label`; returns its status.
timed()
{
    local label="$1" start status=0
    shift
    start=$(date +%s)
    "$@" || status=$?
    summary+=("$(printf '%-40s %4d s' "$label" $(($(date +%s) - start)))")
    return $status
}

check()
{
    if eval "$2"; then
        echo "ok: $1"
    else
        echo "FAILED: $1" >&2
        return 1
    fi
}

# --- install --------------------------------------------------------------------------------
timed "courier: configure (release)" meson setup "$work/build" "$repo" --prefix "$prefix" \
    -Dtests=false -Dbench=false -Dexamples=false >"$work/setup.log" \
    || { cat "$work/setup.log"; exit 1; }
timed "courier: build" ninja -C "$work/build" -j "$jobs" >"$work/build.log" \
    || { tail -50 "$work/build.log"; exit 1; }
timed "courier: install" meson install -C "$work/build" --quiet

libdir="$prefix/lib/$multiarch"
archive_bytes=$(stat -c %s "$libdir/libcourier.a")
pc="$libdir/pkgconfig/courier.pc"
installed_ok=true
check "headers installed" '[[ -f $prefix/include/courier/courier.hpp && -f $prefix/include/courier/daemon.hpp ]]' || installed_ok=false
check "libcourier.a under 30 MB ($((archive_bytes / 1024 / 1024)) MB)" '((archive_bytes < 30 * 1024 * 1024))' || installed_ok=false
check "courier.pc: no absolute path but prefix=" '! grep -v "^prefix=" "$pc" | grep -q "=/\| /"' || installed_ok=false
check "courier.pc: no -I/usr/include" '! grep -q -- "-I/usr/include" "$pc"' || installed_ok=false
check "courier.pc: requires fmt, simdjson, openssl" 'grep -qE "^Requires: fmt >= +9, simdjson >= +3, openssl >= +3$" "$pc"' || installed_ok=false
check "courier.pc: Boost as -l flags" 'grep -q -- "-lboost_url -lboost_program_options" "$pc"' || installed_ok=false
check "CMake package files" '[[ -f $libdir/cmake/courier/courierConfig.cmake && -f $libdir/cmake/courier/courierConfigVersion.cmake ]]' || installed_ok=false
check "courier-load installed" '[[ -x $prefix/bin/courier-load ]]' || installed_ok=false
check "nothing else in bin/" '[[ "$(ls "$prefix/bin")" == courier-load ]]' || installed_ok=false
if $installed_ok; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
echo "--- courier.pc"; cat "$pc"

# --- consumers ------------------------------------------------------------------------------
# Builds and runs one consumer; `$1` names it, the rest configures it into "$work/$1-build".
run_consumer()
{
    local name="$1" out="$work/$1.out"
    if "$work/$name-build/consumer" --testing >"$out" 2>&1 && grep -q "hello, courier" "$out"; then
        echo "ok: consumer $name"
        passed=$((passed + 1))
    else
        echo "FAILED: consumer $name" >&2
        cat "$out" >&2
        failed=$((failed + 1))
    fi
}

export PKG_CONFIG_PATH="$libdir/pkgconfig"
timed "meson + pkg-config: configure and build" \
    bash -c "meson setup '$work/meson-pkgconfig-build' tests/consumers/meson-pkgconfig >/dev/null \
             && ninja -C '$work/meson-pkgconfig-build' -j $jobs >/dev/null"
run_consumer meson-pkgconfig
unset PKG_CONFIG_PATH

timed "CMake + find_package: configure and build" \
    bash -c "cmake -S tests/consumers/cmake -B '$work/cmake-build' -DCMAKE_PREFIX_PATH='$prefix' >/dev/null \
             && cmake --build '$work/cmake-build' -j $jobs >/dev/null"
run_consumer cmake

# A copy of the consumer with courier linked in as subprojects/courier, as a user would have it.
cp -rL tests/consumers/meson-subproject "$work/meson-subproject"
mkdir "$work/meson-subproject/subprojects"
ln -s "$repo" "$work/meson-subproject/subprojects/courier"
timed "meson subproject: configure and build" \
    bash -c "meson setup '$work/meson-subproject-build' '$work/meson-subproject' >'$work/sub-setup.log' \
             && ninja -C '$work/meson-subproject-build' -j $jobs >'$work/sub-build.log'" \
    || { cat "$work/sub-setup.log"; tail -30 "$work/sub-build.log"; exit 1; }
# As a subproject courier builds its library and nothing of its own tests, tools or examples.
targets="$(meson introspect --targets "$work/meson-subproject-build" \
    | python3 -c 'import json,sys; print(" ".join(sorted(t["name"] for t in json.load(sys.stdin))))')"
echo "subproject build targets: $targets"
if [[ "$targets" == "consumer courier" ]]; then
    run_consumer meson-subproject
else
    echo "FAILED: the subproject built more than the library: $targets" >&2
    failed=$((failed + 1))
fi

echo "--- times (${jobs} jobs) and sizes"
printf '%s\n' "${summary[@]}"
echo "libcourier.a: $archive_bytes bytes"
echo "consumers: $passed passed, $failed failed"
((failed == 0))
