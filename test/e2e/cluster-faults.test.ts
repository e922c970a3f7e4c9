import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR, eventually, goLive, launchBrowser, mediaKeepsFlowing, openPage, viewerMedia } from '../helpers/browser.ts';
import { probe } from '../helpers/hls.ts';
import { metricValue } from '../helpers/metrics.ts';
import { startRedis } from '../helpers/redis.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

/**
 * Nodes dying. Three Onstage node processes (their own addresses, one worker each) joined through
 * a real Redis, killed with SIGKILL (process group: the node and its workers at once, as a machine
 * dies): the clients it served go on on the other nodes by themselves.
 */
let redis: Awaited<ReturnType<typeof startRedis>>;
let browser: Browser;
const ADDRESSES = { a: '127.0.0.2', b: '127.0.0.3', c: '127.0.0.4' } as const;
type Name = keyof typeof ADDRESSES;
const nodes = {} as Record<Name, ServerProcess>;
// HLS on: a room's origin records it (the origin-dies test checks the recording across the failure).
const start = (name: Name, dataDir?: string) =>
  startServerProcess({
    HOST: ADDRESSES[name],
    NODE_ID: `node-${name}`,
    REDIS_URL: redis.url,
    WORKERS: '1',
    CLUSTER_HEARTBEAT_MS: '200',
    CLUSTER_NODE_TTL_MS: '1000',
    HLS: 'true',
    ...(dataDir ? { DATA_DIR: dataDir } : {}),
  });
const killed: ServerProcess[] = [];
const kill = async (name: Name) => {
  process.kill(-nodes[name].pid, 'SIGKILL');
  await nodes[name].exited;
  killed.push(nodes[name]);
};

before(async () => {
  redis = await startRedis();
  [nodes.a, nodes.b, nodes.c, browser] = await Promise.all([start('a'), start('b'), start('c'), launchBrowser()]);
});
after(async () => {
  await browser?.close();
  for (const [name, node] of Object.entries(nodes)) writeFileSync(join(RESULTS_DIR, `cluster-faults-node-${name}.log`), node.log.join('\n'));
  killed.forEach((node, i) => writeFileSync(join(RESULTS_DIR, `cluster-faults-killed-${i}.log`), node.log.join('\n')));
  for (const node of Object.values(nodes)) {
    try {
      process.kill(-node.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  redis?.stop();
});

const participantId = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { onstage: { client: { participantId: string } } }).onstage.client.participantId);

/** Frames and audio rising over a second, checked until they do (a reconnect restarts the counts). */
async function decodesAgain(page: Page, who: string): Promise<void> {
  const { before: b, after: a } = await eventually(
    () => mediaKeepsFlowing(page, 1000),
    ({ before, after }) => after.videoFrames > before.videoFrames + 10 && after.audioBytes > before.audioBytes,
    40_000,
  );
  assert.ok(a.videoFrames > b.videoFrames + 10, `${who}: decoded frames rise (${b.videoFrames} → ${a.videoFrames})`);
  assert.ok(a.audioBytes > b.audioBytes, `${who}: audio bytes rise (${b.audioBytes} → ${a.audioBytes})`);
}

type ClusterView = { nodes: { nodeId: string; rooms: string[]; edgeRooms: string[] }[] };
const clusterView = async (node: ServerProcess) => (await (await fetch(`${node.url}/api/cluster`)).json()) as ClusterView;

test('an edge node dies: its viewer goes on on another node, as the same participant, and decodes again', { timeout: 120_000 }, async (t) => {
  const room = 'edge-dies';
  const host = await openPage(browser, `${nodes.a.url}/host/${room}`);
  await goLive(host);
  const viewer = await openPage(browser, `${nodes.b.url}/watch/${room}`);
  await decodesAgain(viewer, 'viewer on B');
  const before = await participantId(viewer);

  await kill('b');
  const killedAt = performance.now();
  await decodesAgain(viewer, 'the viewer of B, after B died');
  t.diagnostic(`B killed → its viewer decoding again (frames rising over 1 s, measured at its end): ${Math.round(performance.now() - killedAt)} ms`);
  assert.equal(await participantId(viewer), before, 'it resumed the same participant (its place in the room)');
  const view = await clusterView(nodes.a);
  assert.deepEqual(view.nodes.map((n) => n.nodeId).sort(), ['node-a', 'node-c'], 'B is gone from the cluster');
  await host.locator('#stop').click();
  await Promise.all([host.context().close(), viewer.context().close()]);
  nodes.b = await start('b');
});

test('the origin node dies: the host goes on on a live node, which takes the room over; viewers on the other nodes watch again', { timeout: 150_000 }, async (t) => {
  const room = 'origin-dies';
  const host = await openPage(browser, `${nodes.a.url}/host/${room}`);
  await goLive(host);
  const onB = await openPage(browser, `${nodes.b.url}/watch/${room}`);
  const onC = await openPage(browser, `${nodes.c.url}/watch/${room}`);
  await decodesAgain(onB, 'viewer on B');
  await decodesAgain(onC, 'viewer on C');

  // A few seconds of show on A first, so the recording it leaves behind has some to hold.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const deadOrigin = nodes.a;
  await kill('a');
  const killedAt = performance.now();
  const killedAtIso = new Date().toISOString();
  await decodesAgain(onB, 'viewer on B, after the origin died');
  t.diagnostic(`origin A killed → viewer on B decoding again: ${Math.round(performance.now() - killedAt)} ms`);
  await decodesAgain(onC, 'viewer on C, after the origin died');
  const view = await eventually(() => clusterView(nodes.b), (v) => v.nodes.some((n) => n.rooms.includes(room)), 10_000);
  const origin = view.nodes.find((n) => n.rooms.includes(room));
  assert.ok(origin && origin.nodeId !== 'node-a', `a live node is the room's origin now (${origin?.nodeId})`);
  const other = origin.nodeId === 'node-b' ? nodes.c : nodes.b;
  const originNode = origin.nodeId === 'node-b' ? nodes.b : nodes.c;
  assert.equal(await metricValue(originNode.url, 'onstage_cluster_origin_takeovers_total'), 1, 'the takeover is counted on the new origin');
  assert.ok((await metricValue(other.url, 'onstage_cluster_origin_links_lost_total')) >= 1, 'the edge counted the lost origin link');
  const live = await host.evaluate(() => (globalThis as unknown as { onstage: { live: boolean } }).onstage.live);
  assert.equal(live, true, 'the host page is still live');
  // A few seconds more of show on the new origin, so its recording has some to hold.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await host.locator('#stop').click();

  // The recording covers both sides of the failure: the dead origin's part (finished from its
  // files when that node starts again) and the new origin's, both listed and served by a third node.
  nodes.a = await start('a', deadOrigin.dataDir);
  type Listed = { id: string; status: string; startedAt: string; url?: string };
  const listed = await eventually(
    async () => ((await (await fetch(`${other.url}/api/recordings?room=${room}`)).json()) as { recordings: Listed[] }).recordings,
    (r) => r.length === 2 && r.every((x) => x.status === 'ready'),
    40_000,
  );
  assert.deepEqual(listed.map((r) => r.status), ['ready', 'ready'], 'two finished recordings of the show, one per origin');
  const [afterKill, beforeKill] = listed as [Listed, Listed];
  assert.ok(beforeKill.startedAt < killedAtIso && afterKill.startedAt > killedAtIso, `one started before the kill (${beforeKill.startedAt}), one after (${afterKill.startedAt}; killed ${killedAtIso})`);
  for (const [what, recording] of [['before the kill (node A)', beforeKill], [`after it (${origin.nodeId})`, afterKill]] as const) {
    const probed = await probe(`${other.url}${recording.url}`);
    t.diagnostic(`recording ${what}: ${probed.duration.toFixed(2)} s, served through ${other.url}`);
    assert.ok(probed.duration >= 2, `the recording ${what} holds ${probed.duration} s of the show`);
    assert.ok(probed.streams.some((s) => s.codec_type === 'video'), `the recording ${what} has video`);
  }
});
