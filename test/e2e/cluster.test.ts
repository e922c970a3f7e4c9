import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { OnstageServer } from '../../server/src/app.ts';
import { eventually, goLive, launchBrowser, mediaKeepsFlowing, openPage, viewerMedia } from '../helpers/browser.ts';
import { startRedis } from '../helpers/redis.ts';
import { startServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/socket-client.ts';

/**
 * Three nodes on their own loopback addresses joined through a real Redis: the host goes live in
 * Chromium on node A (the origin); viewers on nodes B and C (edges) are served there, with the
 * room's media piped from A once per edge node.
 */
let redis: Awaited<ReturnType<typeof startRedis>>;
let browser: Browser;
const nodes: Record<'a' | 'b' | 'c', OnstageServer> = {} as never;
const ADDRESSES = { a: '127.0.0.2', b: '127.0.0.3', c: '127.0.0.4' } as const;

before(async () => {
  redis = await startRedis();
  const start = (name: keyof typeof ADDRESSES) =>
    startServer({ HOST: ADDRESSES[name], NODE_ID: `node-${name}`, REDIS_URL: redis.url, CLUSTER_HEARTBEAT_MS: '200', CLUSTER_NODE_TTL_MS: '1000' });
  [nodes.a, nodes.b, nodes.c, browser] = await Promise.all([start('a'), start('b'), start('c'), launchBrowser()]);
});
after(async () => {
  await browser?.close();
  await Promise.all(Object.values(nodes).map((n) => n.close()));
  redis?.stop();
});

/** The value of one series of a metric in a node's /metrics text, or 0 when absent. */
async function metric(node: OnstageServer, series: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

test('a show on node A is watched on nodes B and C; chat crosses nodes; each edge gets each producer once', { timeout: 180_000 }, async () => {
  const room = 'cluster-show';
  const host = await openPage(browser, `${nodes.a.url}/host/${room}`);
  await goLive(host);

  const onB = [await openPage(browser, `${nodes.b.url}/watch/${room}`), await openPage(browser, `${nodes.b.url}/watch/${room}`)];
  const onC = await openPage(browser, `${nodes.c.url}/watch/${room}`);
  for (const [name, page] of [['B (1st)', onB[0]!], ['B (2nd)', onB[1]!], ['C', onC]] as const) {
    await eventually(() => viewerMedia(page), (m) => m.videoFrames > 10 && m.audioBytes > 1000, 30_000);
    const { before: b, after: a } = await mediaKeepsFlowing(page);
    assert.ok(a.videoFrames > b.videoFrames + 10, `viewer on ${name}: decoded frames rise (${b.videoFrames} → ${a.videoFrames})`);
    assert.ok(a.audioBytes > b.audioBytes, `viewer on ${name}: audio bytes rise (${b.audioBytes} → ${a.audioBytes})`);
  }

  // Two viewers on B, one on C: the origin sends video and audio once to each edge.
  assert.equal(await metric(nodes.a, 'onstage_cluster_pipe_producers_out{edge="node-b"}'), 2, 'A sends 2 producers to B');
  assert.equal(await metric(nodes.a, 'onstage_cluster_pipe_producers_out{edge="node-c"}'), 2, 'A sends 2 producers to C');
  assert.equal(await metric(nodes.b, `onstage_cluster_pipe_producers_in{room="${room}"}`), 2, 'B receives 2 producers');

  // Chat sent on C reaches a participant on B and the host on A.
  const chatterOnC = await RawClient.connect(nodes.c.url, { room, role: 'viewer', sub: 'chatter' });
  const readerOnB = await RawClient.connect(nodes.b.url, { room, role: 'viewer', sub: 'reader' });
  await chatterOnC.ok('join', { roomId: room, role: 'viewer' });
  await readerOnB.ok('join', { roomId: room, role: 'viewer' });
  const seenOnB = readerOnB.next<{ text: string; displayName: string }>('chatMessage');
  await chatterOnC.ok('sendChat', { text: 'hello from node C' });
  assert.equal((await seenOnB).text, 'hello from node C', 'the viewer on B sees the chat sent on C');
  const hostSaw = await eventually(
    () => host.evaluate(() => document.body.innerText.includes('hello from node C')),
    (seen) => seen,
    5000,
  );
  assert.ok(hostSaw, 'the host on A sees the chat sent on C');

  // The show ends for viewers on every node.
  const endedOnB = readerOnB.next<{ reason: string }>('showEnded', 10_000);
  await host.locator('#stop').click();
  assert.equal((await endedOnB).reason, 'host_left');
  const media = await eventually(() => viewerMedia(onC), (m) => m.videoBytes + m.audioBytes === 0, 10_000);
  assert.equal(media.videoBytes + media.audioBytes, 0, 'the viewer on C has no consumers left');
  chatterOnC.close();
  readerOnB.close();
});
