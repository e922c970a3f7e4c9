#!/usr/bin/env bash
# Builds the mediasoup worker with no internet: mediasoup's own postinstall downloads a prebuilt
# binary, which fails offline. We build the worker from the npm tarball's sources against Debian
# packages (plus libsrtp2 built from Debian's source package with OpenSSL, which is about twice as
# cheap per packet as Debian's NSS build, and libuv from Debian's source package with a fix from
# libuv 1.45, see below), apply our patch, and cache the binary outside the clone.
#
# Prints progress on stderr and, as its last stdout line, the path of the worker binary.
# An existing MEDIASOUP_WORKER_BIN is used as is.
#
# Environment: MEDIASOUP_WORKER_BIN, ONSTAGE_CACHE_DIR (default ~/.cache/onstage), JOBS.
set -euo pipefail

MS_VERSION=3.27.1
LIBSRTP_BUILD="libsrtp2-2.5.0 openssl static v1"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
patch_file="$here/mediasoup/mediasoup-$MS_VERSION-worker.patch"
libuv_patch="$here/mediasoup/libuv-1.44.2-write-queue.patch"
started=$SECONDS

say() { printf '[worker-build %4ss] %s\n' "$((SECONDS - started))" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

if [[ -n "${MEDIASOUP_WORKER_BIN:-}" ]]; then
  [[ -x "$MEDIASOUP_WORKER_BIN" ]] || die "MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not an executable file"
  say "using MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN (no build)"
  echo "$MEDIASOUP_WORKER_BIN"
  exit 0
fi

key=$( { echo "$MS_VERSION $LIBSRTP_BUILD"; cat "$patch_file" "$libuv_patch"; } | sha256sum | cut -c1-16)
cache_root=${ONSTAGE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/onstage}
cache_dir="$cache_root/mediasoup-worker-$MS_VERSION-$key"

if [[ -x "$cache_dir/mediasoup-worker" && -x "$cache_dir/srtp-known-answer-test" ]]; then
  say "cache hit: $cache_dir"
  echo "$cache_dir/mediasoup-worker"
  exit 0
fi
say "cache miss: building mediasoup-worker $MS_VERSION (key $key); this takes 5-12 minutes on 2 cores"

install_build_packages() {
  local need=()
  for p in meson ninja-build pkg-config g++ make cmake patch xz-utils dpkg-dev libssl-dev libflatbuffers-dev \
           flatbuffers-compiler libabsl-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
  done
  # meson >= 1.1 is needed; bookworm has 1.0, bookworm-backports has 1.7.
  if dpkg-query -W -f='${Version}' meson 2>/dev/null | grep -q '^1\.0'; then need+=(meson); fi
  local have_src=0
  grep -rqs '^Types: deb-src' /etc/apt/sources.list.d/ && have_src=1
  [[ ${#need[@]} -eq 0 && $have_src -eq 1 ]] && return 0
  [[ $(id -u) -eq 0 ]] || die "missing build packages (${need[*]}) or deb-src entry; run as root to install them"

  local uri
  uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  say "adding bookworm-backports (for meson) and deb-src (for libsrtp2) on $uri"
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" > /etc/apt/sources.list.d/onstage-bookworm-backports.sources
  printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" > /etc/apt/sources.list.d/onstage-bookworm-src.sources
  apt-get update -qq
  say "installing build packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports meson >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ninja-build pkg-config g++ make cmake patch xz-utils dpkg-dev \
    libssl-dev libflatbuffers-dev flatbuffers-compiler libabsl-dev >/dev/null
}

install_build_packages
# Debian's flatc must match Debian's flatbuffers headers (2.0.8).
export PATH="/usr/bin:$PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/onstage-worker-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
log="$work/build.log"

say "building libsrtp2 with OpenSSL from Debian's source package"
(cd "$work" && apt-get source -qq libsrtp2 >>"$log" 2>&1) || die "apt-get source libsrtp2 failed (see above); is a deb-src entry configured?"
srtp_src=$(find "$work" -maxdepth 1 -type d -name 'libsrtp2-*' | head -n 1)
srtp_prefix="$work/srtp-prefix"
(cd "$srtp_src" && CFLAGS="-O2 -fPIC" ./configure --enable-openssl --prefix="$srtp_prefix" >>"$log" 2>&1 \
  && make -j"${JOBS:-$(nproc)}" >>"$log" 2>&1 && make install >>"$log" 2>&1) || { tail -n 30 "$log" >&2; die "libsrtp2 build failed"; }

# Debian's libuv 1.44 writes one queued request per writable event: a worker whose loop turns
# slowly (a CPU-starved worker fanning out to hundreds of consumers) queues its channel messages
# (bursts of a consumer-score notification per consumer) faster than it writes them, and its
# answers to requests wait behind the queue for ever: the "worker stall". libuv 1.45 writes up
# to 32 per event (libuv PR #3728); the patch backports that.
say "building libuv with the libuv 1.45 write-queue fix from Debian's source package"
(cd "$work" && apt-get source -qq libuv1 >>"$log" 2>&1) || die "apt-get source libuv1 failed; is a deb-src entry configured?"
uv_src=$(find "$work" -maxdepth 1 -type d -name 'libuv1-*' | head -n 1)
uv_prefix="$work/uv-prefix"
(cd "$uv_src" && patch -p1 --quiet < "$libuv_patch") || die "the libuv patch did not apply"
(cmake -S "$uv_src" -B "$uv_src/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DLIBUV_BUILD_TESTS=OFF \
  -DCMAKE_INSTALL_PREFIX="$uv_prefix" -DCMAKE_INSTALL_LIBDIR=lib >>"$log" 2>&1 \
  && cmake --build "$uv_src/build" -j"${JOBS:-$(nproc)}" >>"$log" 2>&1 && cmake --install "$uv_src/build" >>"$log" 2>&1) \
  || { tail -n 30 "$log" >&2; die "libuv build failed"; }
export PKG_CONFIG_PATH="$srtp_prefix/lib/pkgconfig:$uv_prefix/lib/pkgconfig"

say "known-answer test of the libsrtp3-on-libsrtp2 shim against this libsrtp2"
(cd "$work" && npm pack --silent "mediasoup@$MS_VERSION" >>"$log" 2>&1) || die "npm pack mediasoup@$MS_VERSION failed"
tar xzf "$work/mediasoup-$MS_VERSION.tgz" -C "$work"
(cd "$work/package" && patch -p1 --quiet < "$patch_file") || die "patch did not apply"
worker_src="$work/package/worker"
g++ -std=c++20 -O2 -Wall -Wextra -I "$worker_src/compat" -I "$srtp_prefix/include" \
  "$worker_src/compat/test/test_srtp_shim.cpp" -o "$work/srtp-known-answer-test" \
  -L "$srtp_prefix/lib" -l:libsrtp2.a -lcrypto
"$work/srtp-known-answer-test" >&2 || die "SRTP known-answer test failed"

say "meson setup"
(cd "$worker_src" && meson setup --wrap-mode=nofallback --buildtype release -Db_ndebug=true build-release >>"$log" 2>&1) \
  || { tail -n 40 "$log" >&2; die "meson setup failed"; }

say "ninja mediasoup-worker (progress every 20 steps)"
set +e
ninja -C "$worker_src/build-release" -j"${JOBS:-$(nproc)}" mediasoup-worker 2>&1 | tee -a "$log" \
  | awk -v t0="$started" '/^\[[0-9]+\/[0-9]+\]/ { split(substr($1, 2), a, "/"); n = a[1] + 0;
      if (n % 20 == 0 || n == a[2] + 0) { printf "[worker-build] step %s\n", substr($1, 2, length($1) - 2) > "/dev/stderr"; fflush("/dev/stderr") } }'
rc=${PIPESTATUS[0]}
set -e
[[ $rc -eq 0 ]] || { grep -E -A5 'error|FAILED' "$log" | head -n 60 >&2; die "ninja failed"; }

bin="$worker_src/build-release/mediasoup-worker"
if ldd "$bin" | grep -Eq 'libnss3|libsrtp2|libuv'; then
  ldd "$bin" >&2
  die "worker links libnss3 or a shared libsrtp2 or libuv; expected our static OpenSSL libsrtp2 and patched libuv"
fi

mkdir -p "$cache_root"
staging=$(mktemp -d "$cache_root/.staging.XXXXXX")
install -m 0755 "$bin" "$staging/mediasoup-worker"
install -m 0755 "$work/srtp-known-answer-test" "$staging/srtp-known-answer-test"
rm -rf "$cache_dir"
mv "$staging" "$cache_dir"
say "built and cached: $cache_dir/mediasoup-worker"
echo "$cache_dir/mediasoup-worker"
