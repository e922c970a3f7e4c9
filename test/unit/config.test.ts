import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../server/src/config.ts';

test('defaults: a single node on loopback that announces 127.0.0.1', () => {
  const c = loadConfig({});
  assert.deepEqual(c.http, {
    host: '127.0.0.1',
    port: 3000,
    limits: { maxConnections: 10_000, maxPerAddress: 200, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 },
  });
  assert.equal(c.authTimeoutMs, 5_000);
  assert.deepEqual(c.ops, { host: '127.0.0.1', port: undefined, metricsToken: undefined });
  assert.deepEqual(c.rtc, { listenIp: '127.0.0.1', announcedAddress: '127.0.0.1', basePort: 40000, speakerThresholdDb: -80, viewersPerRouter: 200 });
  assert.equal(c.room.graceMs, 30_000);
  assert.deepEqual(c.heartbeat, { intervalMs: 10_000, timeoutMs: 5_000 });
  assert.equal(c.room.stage.maxSize, 4);
  assert.equal(c.auth.secretGenerated, true);
  assert.equal(c.auth.devTokens, true);
  assert.ok(c.workers >= 1);
  assert.equal(c.logLevel, 'info');
});

test('serving a LAN: listen on all interfaces, announce the reachable address', () => {
  const c = loadConfig({ HOST: '0.0.0.0', ANNOUNCED_ADDRESS: '203.0.113.7', RTC_PORT: '50000', WORKERS: '4' });
  assert.deepEqual(c.rtc, { listenIp: '0.0.0.0', announcedAddress: '203.0.113.7', basePort: 50000, speakerThresholdDb: -80, viewersPerRouter: 200 });
  assert.equal(c.workers, 4);
});

test('bad values are refused with a message naming each variable', () => {
  assert.throws(
    () => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', HOST: 'localhost' }),
    (err: unknown) =>
      err instanceof ConfigError && /PORT="eighty"/.test(err.message) && /LOG_LEVEL="loud"/.test(err.message) && /HOST=/.test(err.message),
  );
  assert.throws(() => loadConfig({ WORKERS: '0' }), ConfigError);
  assert.throws(() => loadConfig({ PORT: '70000' }), ConfigError);
});

test('a wildcard media address needs ANNOUNCED_ADDRESS', () => {
  assert.throws(() => loadConfig({ HOST: '0.0.0.0' }), /ANNOUNCED_ADDRESS is required/);
});

test('the worker port range must fit', () => {
  assert.throws(() => loadConfig({ RTC_PORT: '65535', WORKERS: '2' }), /leaves no room/);
});

test('production: a TOKEN_SECRET turns development tokens off unless asked for', () => {
  const secret = 'x'.repeat(32);
  const c = loadConfig({ TOKEN_SECRET: secret });
  assert.deepEqual(c.auth, { secret, secretGenerated: false, devTokens: false });
  assert.equal(loadConfig({ TOKEN_SECRET: secret, DEV_TOKENS: 'true' }).auth.devTokens, true);
  assert.throws(() => loadConfig({ TOKEN_SECRET: 'short' }), /TOKEN_SECRET.*at least 32/);
});

test('the server API and webhooks: off by default; credentials in pairs; webhook URLs need the signing secret', () => {
  const off = loadConfig({});
  assert.equal(off.serverApi, undefined);
  assert.equal(off.webhooks, undefined);
  const secret = 's'.repeat(32);
  assert.deepEqual(loadConfig({ API_KEY: 'backend', API_SECRET: secret }).serverApi, { key: 'backend', secret });
  assert.throws(() => loadConfig({ API_KEY: 'backend' }), /API_KEY and API_SECRET go together/);
  assert.throws(() => loadConfig({ API_KEY: 'backend', API_SECRET: 'short' }), /API_SECRET.*at least 32/);
  assert.throws(() => loadConfig({ API_KEY: 'a b', API_SECRET: secret }), /API_KEY/);
  const hooks = loadConfig({ WEBHOOK_URLS: 'http://a.example/h, https://b.example/h', WEBHOOK_SECRET: secret }).webhooks;
  assert.deepEqual(hooks, { urls: ['http://a.example/h', 'https://b.example/h'], secret });
  assert.throws(() => loadConfig({ WEBHOOK_URLS: 'http://a.example/h' }), /WEBHOOK_SECRET is required/);
  assert.throws(() => loadConfig({ WEBHOOK_URLS: 'ftp://a.example/h', WEBHOOK_SECRET: secret }), /WEBHOOK_URLS/);
});

test('object storage: off by default; a bucket turns it on, path-style with an endpoint; credentials in pairs', () => {
  assert.equal(loadConfig({}).recorder.objectStorage, undefined);
  const minio = loadConfig({ S3_BUCKET: 'shows', S3_ENDPOINT: 'http://127.0.0.1:9000', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' }).recorder.objectStorage;
  assert.deepEqual(minio, {
    bucket: 'shows',
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9000',
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    prefix: 'recordings/',
    forcePathStyle: true,
    urlTtlSeconds: 3600,
  });
  assert.equal(loadConfig({ S3_BUCKET: 'shows' }).recorder.objectStorage?.forcePathStyle, false, 'AWS: virtual-hosted style');
  assert.throws(() => loadConfig({ S3_BUCKET: 'shows', S3_ACCESS_KEY_ID: 'k' }), /go together/);
  assert.throws(() => loadConfig({ S3_BUCKET: 'Not A Bucket' }), /S3_BUCKET/);
});
