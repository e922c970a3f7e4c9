#!/usr/bin/env bash
# The whole suite: typecheck, unit tests, then everything that opens sockets inside a private
# network namespace that has only loopback (the machines' network rule; see MACHINE-NOTES).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

echo "== typecheck"
tsc -p tsconfig.json

echo "== unit"
node --test --test-reporter=spec 'test/unit/**/*.test.ts'

echo "== integration and end-to-end (private network and mount namespaces, loopback only)"
# A private mount namespace too: fault tests mount small tmpfs disks that vanish with it.
if [[ $(id -u) -eq 0 ]]; then ns=(unshare --net --mount); else ns=(unshare --net --mount --map-root-user); fi
files=("$@")
[[ ${#files[@]} -gt 0 ]] || files=('test/integration/**/*.test.ts' 'test/e2e/**/*.test.ts')
"${ns[@]}" sh -c 'ip link set lo up && exec node --test --test-reporter=spec --test-concurrency=1 "$@"' sh "${files[@]}"
