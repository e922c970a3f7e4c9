import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { OnstageServer } from '../../server/src/app.ts';
import { eventually, goLive, launchBrowser, mediaKeepsFlowing, openPage, viewerMedia } from '../helpers/browser.ts';
import { startRedis } from '../helpers/redis.ts';
import { startServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/socket-client.ts';

/** Two nodes through a real Redis; node A drains while a show it is the origin of goes on. */
let redis: Awaited<ReturnType<typeof startRedis>>;
let browser: Browser;
let a: OnstageServer;
let b: OnstageServer;
const API = { key: 'ops', secret: 'a-drain-api-secret-of-32-characters-or-more' };

before(async () => {
  redis = await startRedis();
  const start = (host: string, node: string) =>
    startServer({ HOST: host, NODE_ID: node, REDIS_URL: redis.url, CLUSTER_HEARTBEAT_MS: '200', CLUSTER_NODE_TTL_MS: '1000', API_KEY: API.key, API_SECRET: API.secret });
  [a, b, browser] = await Promise.all([start('127.0.0.2', 'node-a'), start('127.0.0.3', 'node-b'), launchBrowser()]);
});
after(async () => {
  await browser?.close();
  await Promise.all([a?.close(), b?.close()]);
  redis?.stop();
});

/** Viewers (not hosts or co-hosts) connected to a node's signalling now. */
const viewersOn = (node: OnstageServer) => [...node.io.of('/').sockets.values()].filter((s) => (s.data as { claims?: { role: string } }).claims?.role === 'viewer').length;

test('draining node A: readiness 503, its viewers move to node B and keep decoding, newcomers go to B, the show goes on until it ends, then A stops', { timeout: 180_000 }, async () => {
  const room = 'drained-show';
  const host = await openPage(browser, `${a.url}/host/${room}`);
  await goLive(host);
  const viewers = [await openPage(browser, `${a.url}/watch/${room}`), await openPage(browser, `${a.url}/watch/${room}`)];
  for (const v of viewers) await eventually(() => viewerMedia(v), (m) => m.videoFrames > 10, 30_000);
  assert.equal(viewersOn(a), 2);

  const res = await fetch(`${a.url}/api/server/drain`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${API.key}:${API.secret}`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ timeoutMs: 120_000 }),
  });
  assert.equal(res.status, 202);
  const ready = await fetch(`${a.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal(((await ready.json()) as { reason: string }).reason, 'draining');

  // The viewers are sent to B (the SDK reconnects and is redirected) and watch on there.
  const movedAt = Date.now();
  assert.equal(await eventually(async () => viewersOn(a), (n) => n === 0, 30_000), 0, 'no viewer left on A');
  assert.equal(await eventually(async () => viewersOn(b), (n) => n === 2, 30_000), 2, 'both viewers on B');
  for (const v of viewers) {
    const flowing = await eventually(() => mediaKeepsFlowing(v), ({ before: x, after: y }) => y.videoFrames > x.videoFrames + 10, 30_000);
    assert.ok(flowing.after.videoFrames > flowing.before.videoFrames + 10, 'the moved viewer decodes the show on B');
  }
  process.stdout.write(`# drain → both viewers decoding on B: ${Date.now() - movedAt} ms\n`);

  // Newcomers: a viewer who opens A's link ends up on B; a host of a new room is sent to B.
  const late = await openPage(browser, `${a.url}/watch/${room}`);
  await eventually(() => viewerMedia(late), (m) => m.videoFrames > 10, 30_000);
  assert.equal(viewersOn(a), 0, 'the newcomer was not taken on A');
  const newHost = await RawClient.connect(a.url, { room: 'fresh-room', role: 'host' });
  const refused = await newHost.send('join', { roomId: 'fresh-room', role: 'host' });
  assert.ok(!refused.ok && refused.error.code === 'ROOM_ON_OTHER_NODE', `refused with a redirect: ${JSON.stringify(refused)}`);
  assert.equal(refused.error.redirect, b.url, 'a new show is opened on B');
  newHost.close();

  // The show goes on on A (its host stays) until the host ends it; then A stops by itself.
  const hostMedia = await viewerMedia(viewers[0]!);
  assert.ok(hostMedia.videoFrames > 0);
  let stopped = false;
  void a.stopped.then(() => (stopped = true));
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(stopped, false, 'A waits while its show is on');
  await host.locator('#stop').click();
  assert.ok(await eventually(async () => stopped, (s) => s, 20_000), 'A stopped once its show ended');
});
