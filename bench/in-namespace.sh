#!/usr/bin/env bash
# Runs a benchmark inside a private network namespace that has only loopback: browsers' WebRTC
# then cannot send anywhere else (the machines' network rule; see MACHINE-NOTES).
set -euo pipefail
if [[ $(id -u) -eq 0 ]]; then ns=(unshare --net); else ns=(unshare --net --map-root-user); fi
exec "${ns[@]}" sh -c 'ip link set lo up && exec "$@"' sh "$@"
