#!/usr/bin/env bash
# Installs the Debian 12 packages courier needs, skipping those already installed.
#   tools/install-deps.sh          build dependencies
#   tools/install-deps.sh --tests  also what the integration tests need (Node/npm, then
#                                  the pinned fauxqs server via tools/install-test-deps.sh,
#                                  and RabbitMQ 3.10 for the STOMP and AMQP tests)
#   tools/install-deps.sh --fuzz   also clang 14 and its runtime (libFuzzer, ASan, UBSan)
#   tools/install-deps.sh --cmake  also CMake (to use an installed courier from CMake)
# Flags combine: tools/install-deps.sh --tests --cmake.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ meson ninja-build pkg-config python3
          libboost1.81-dev libboost-url1.81-dev libsimdjson-dev libfmt-dev libssl-dev openssl
          libboost-program-options1.81-dev doctest-dev)
with_tests=false
for flag in "$@"; do
    case "$flag" in
        --tests) with_tests=true ;;
        --fuzz) packages+=(clang libclang-rt-14-dev) ;;
        --cmake) packages+=(cmake) ;;
        *) echo "install-deps: unknown flag $flag (--tests, --fuzz, --cmake)" >&2; exit 2 ;;
    esac
done
if $with_tests && ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

sudo=""
[[ "$(id -u)" == 0 ]] || sudo=sudo

# RabbitMQ for the broker tests, which start their own broker as a child process on
# loopback ports (tests/integration/rabbitmq_server.cpp). Its package would start a system
# broker listening on 0.0.0.0 (and an epmd): a policy-rc.d that answers 101 ("action
# forbidden") while the package installs keeps invoke-rc.d and deb-systemd-invoke from
# starting anything, and on a systemd host the units are then also disabled and stopped,
# so that none comes up at the next boot either. The rabbitmq_stomp plugin ships in the
# same package; the tests enable it in their own enabled-plugins file.
install_rabbitmq()
{
    if ! dpkg-query -W -f='${Status}' rabbitmq-server 2>/dev/null | grep -q "install ok installed"; then
        echo "installing: rabbitmq-server (services kept stopped)"
        local policy=/usr/sbin/policy-rc.d own_policy=false
        if [[ ! -e "$policy" ]]; then
            printf '#!/bin/sh\n# tools/install-deps.sh: no service starts while rabbitmq-server installs\nexit 101\n' \
                | $sudo tee "$policy" >/dev/null
            $sudo chmod 755 "$policy"
            own_policy=true
        fi
        local rc=0
        $sudo apt-get update -q || rc=$?
        ((rc != 0)) || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
            rabbitmq-server || rc=$?
        if $own_policy; then
            $sudo rm -f "$policy"
        fi
        ((rc == 0)) || exit $rc
    fi
    if [[ -d /run/systemd/system ]]; then
        $sudo systemctl disable --now rabbitmq-server.service epmd.socket epmd.service \
            >/dev/null 2>&1 || true
    fi
    [[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] \
        || { echo "install-deps: /usr/lib/rabbitmq/bin/rabbitmq-server missing" >&2; exit 1; }
}

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if $with_tests; then
    tools/install-test-deps.sh
    install_rabbitmq
fi
