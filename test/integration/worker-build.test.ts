import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';

const script = new URL('../../scripts/build-mediasoup-worker.sh', import.meta.url).pathname;

test('the worker build script reuses its cache on a second run', { timeout: 60_000 }, () => {
  // setup.sh has already run the script once on this machine (building or reusing the worker).
  const env = { ...process.env };
  delete env['MEDIASOUP_WORKER_BIN'];
  const started = performance.now();
  const run = spawnSync('bash', [script], { env, encoding: 'utf8' });
  const ms = performance.now() - started;
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /cache hit/);
  const bin = run.stdout.trim().split('\n').at(-1) ?? '';
  assert.ok(existsSync(bin), `worker binary at ${bin}`);
  process.stdout.write(`# warm-cache worker build: ${ms.toFixed(0)} ms\n`);

  // Linked against our OpenSSL build of libsrtp2, not Debian's NSS one.
  const ldd = execFileSync('ldd', [bin], { encoding: 'utf8' });
  assert.doesNotMatch(ldd, /libnss3|libsrtp2/);
  assert.match(ldd, /libcrypto\.so/);

  // The libsrtp3-on-libsrtp2 shim's known-answer and round-trip tests, against that libsrtp2.
  const kat = spawnSync(join(dirname(bin), 'srtp-known-answer-test'), { encoding: 'utf8' });
  assert.equal(kat.status, 0, kat.stderr);
  assert.match(kat.stdout, /known-answer AES_CM_128_HMAC_SHA1_80: done/);
  assert.match(kat.stdout, /known-answer AEAD_AES_128_GCM: done/);
  assert.match(kat.stdout, / 0 failed/);
});

test('an explicit MEDIASOUP_WORKER_BIN is used as is; a wrong one is a clear error', () => {
  const ok = spawnSync('bash', [script], { env: { ...process.env, MEDIASOUP_WORKER_BIN: '/bin/true' }, encoding: 'utf8' });
  assert.equal(ok.status, 0);
  assert.equal(ok.stdout.trim(), '/bin/true');
  const bad = spawnSync('bash', [script], { env: { ...process.env, MEDIASOUP_WORKER_BIN: '/nonexistent' }, encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /not an executable file/);
});
