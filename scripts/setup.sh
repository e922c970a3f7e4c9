#!/usr/bin/env bash
# One-time (and idempotent) setup on Debian 12: system packages, the mediasoup worker (built
# offline, cached outside the clone), and npm dependencies. Run as root (it installs packages).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$SECONDS
say() { printf '[setup %4ss] %s\n' "$((SECONDS - started))" "$*" >&2; }

# Packages the server uses: GStreamer with PyGObject (the recorder's stage mixer composites and
# encodes), FFmpeg (packages the mixer's output, RTMP ingest, recordings), gdb (the worker watchdog
# logs a hung worker's stacks), curl and procps (health checks, process tools). The tests also use Chromium (end-to-end tests),
# iproute2 and util-linux (a private network namespace), redis-server (cluster tests start their
# own) and docker-compose (it checks docker-compose.yml). `--server-only` (the container image)
# leaves the test packages out.
packages=(ffmpeg gdb curl procps python3-gi gir1.2-gst-plugins-base-1.0 gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav)
[[ ${1:-} == --server-only ]] || packages+=(chromium iproute2 util-linux redis-server docker-compose)
need=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
done
if [[ ${#need[@]} -gt 0 ]]; then
  [[ $(id -u) -eq 0 ]] || { say "missing packages: ${need[*]}; run this script as root"; exit 1; }
  say "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The dashboard test runs Debian's Prometheus; not its node exporter (a recommended package whose
# service would take port 9100 on machines with systemd).
if [[ ${1:-} != --server-only ]] && ! dpkg-query -W -f='${Status}' prometheus 2>/dev/null | grep -q 'ok installed'; then
  [[ $(id -u) -eq 0 ]] || { say "missing package: prometheus; run this script as root"; exit 1; }
  say "installing prometheus"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

say "mediasoup worker"
worker_bin=$(bash scripts/build-mediasoup-worker.sh | tail -n 1)

say "npm dependencies"
# With MEDIASOUP_WORKER_BIN set, mediasoup's postinstall skips its (online) worker download.
MEDIASOUP_WORKER_BIN="$worker_bin" npm ci --no-audit --no-fund --loglevel=error

# The SDK as an app installs it, and the example app that uses it (its test installs a fresh pack
# offline, from the npm cache this fills).
say "client SDK package and the example app"
npm pack -w client-sdk --pack-destination client-sdk --loglevel=error >/dev/null
(cd examples/watch-app && npm install --no-audit --no-fund --no-package-lock --loglevel=error)

# Put the worker where mediasoup looks by default, so `npm start` needs no variable.
install -D -m 0755 "$worker_bin" node_modules/mediasoup/worker/out/Release/mediasoup-worker
say "done: node $(node_modules/.bin/node --version), worker $worker_bin"
