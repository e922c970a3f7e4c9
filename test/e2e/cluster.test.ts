import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { OnstageServer } from '../../server/src/app.ts';
import { eventually, goLive, launchBrowser, mediaKeepsFlowing, openPage, viewerMedia } from '../helpers/browser.ts';
import { metricValue } from '../helpers/metrics.ts';
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
  // HLS (FFmpeg) on A only: the first show's origin, whose HLS every node serves.
  const start = (name: keyof typeof ADDRESSES) =>
    startServer({ HOST: ADDRESSES[name], NODE_ID: `node-${name}`, REDIS_URL: redis.url, CLUSTER_HEARTBEAT_MS: '200', CLUSTER_NODE_TTL_MS: '1000', HLS: name === 'a' ? 'true' : 'false' });
  [nodes.a, nodes.b, nodes.c, browser] = await Promise.all([start('a'), start('b'), start('c'), launchBrowser()]);
});
after(async () => {
  await browser?.close();
  await Promise.all(Object.values(nodes).map((n) => n.close()));
  redis?.stop();
});

const participantId = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { onstage: { client: { participantId: string } } }).onstage.client.participantId);

const metric = (node: OnstageServer, series: string) => metricValue(node.url, series);

test('a show with its origin on node A is watched on nodes B and C; the host is sent to A; chat crosses nodes; each edge gets each producer once', { timeout: 180_000 }, async () => {
  const room = 'cluster-show';
  // A viewer arrives first, on A: A becomes the room's origin. The host opens the studio on B and
  // is sent on to A by the SDK (a host's media enters at the origin).
  const early = await openPage(browser, `${nodes.a.url}/watch/${room}`);
  await early.waitForSelector('#badge:text("WAITING")', { timeout: 15_000 });
  const host = await openPage(browser, `${nodes.b.url}/host/${room}`);
  await goLive(host);
  await eventually(() => viewerMedia(early), (m) => m.videoFrames > 10 && m.audioBytes > 1000, 30_000);

  const onB = [await openPage(browser, `${nodes.b.url}/watch/${room}`), await openPage(browser, `${nodes.b.url}/watch/${room}`)];
  const onC = await openPage(browser, `${nodes.c.url}/watch/${room}`);
  for (const [name, page] of [['B (1st)', onB[0]!], ['B (2nd)', onB[1]!], ['C', onC]] as const) {
    await eventually(() => viewerMedia(page), (m) => m.videoFrames > 10 && m.audioBytes > 1000, 30_000);
    // Right after its first frames a viewer may pause once (its layer goes up, it waits for that
    // layer's keyframe, longer on a loaded machine); then the media must keep flowing.
    const { before: b, after: a } = await eventually(
      () => mediaKeepsFlowing(page),
      ({ before: x, after: y }) => y.videoFrames > x.videoFrames + 10 && y.audioBytes > x.audioBytes,
      15_000,
    );
    assert.ok(a.videoFrames > b.videoFrames + 10, `viewer on ${name}: decoded frames rise (${b.videoFrames} → ${a.videoFrames})`);
    assert.ok(a.audioBytes > b.audioBytes, `viewer on ${name}: audio bytes rise (${b.audioBytes} → ${a.audioBytes})`);
  }

  // Two viewers on B, one on C: the origin sends video and audio once to each edge.
  assert.equal(await metric(nodes.a, 'onstage_cluster_pipe_producers_out{edge="node-b"}'), 2, 'A sends 2 producers to B');
  assert.equal(await metric(nodes.a, 'onstage_cluster_pipe_producers_out{edge="node-c"}'), 2, 'A sends 2 producers to C');
  assert.equal(await metric(nodes.b, `onstage_cluster_pipe_producers_in{room="${room}"}`), 2, 'B receives 2 producers');
  const pipedBytes = () => metric(nodes.a, 'onstage_cluster_pipe_bytes_out_total{edge="node-b"}');
  const bytesBefore = await pipedBytes();
  const bytesLater = await eventually(pipedBytes, (n) => n > bytesBefore + 20_000, 5000);
  assert.ok(bytesLater > bytesBefore + 20_000, `the pipe to B carries the show (${bytesBefore} → ${bytesLater} bytes)`);

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

  // HLS and live status are made on the origin; the edges pass them on.
  const liveOnC = await eventually(
    async () => (await (await fetch(`${nodes.c.url}/api/live/${room}`)).json()) as { live: boolean; hlsUrl: string | null },
    (l) => l.hlsUrl !== null,
    30_000,
  );
  assert.equal(liveOnC.live, true, 'node C says the show is live (from its origin, A)');
  const master = await fetch(`${nodes.b.url}/hls/${room}/master.m3u8`);
  assert.equal(master.status, 200, 'node B serves the HLS master playlist of a show whose origin is A');
  assert.equal(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  assert.equal(await master.text(), await (await fetch(`${nodes.a.url}/hls/${room}/master.m3u8`)).text(), 'the same playlist as on A');
  const variant = await (await fetch(`${nodes.c.url}/hls/${room}/v1/index.m3u8`)).text();
  const segment = variant.split('\n').find((l) => l.endsWith('.m4s'));
  assert.ok(segment, `a segment is listed (${variant.slice(0, 200)})`);
  const bytes = Buffer.from(await (await fetch(`${nodes.c.url}/hls/${room}/v1/${segment}`)).arrayBuffer());
  assert.equal(bytes.toString('latin1', 4, 8), 'moof', 'the segment fetched through node C is an MP4 fragment');
  // A blocking playlist reload waits on the origin, through the edge, for the next segment.
  const next = Number(/seg(\d+)\.m4s/.exec(segment)![1]) + 1;
  const blocked = await fetch(`${nodes.c.url}/hls/${room}/v1/index.m3u8?_HLS_msn=${next}`);
  assert.equal(blocked.status, 200);
  assert.match(await blocked.text(), new RegExp(`seg0*${next}\\.m4s`), 'the awaited segment is listed');
  assert.equal((await fetch(`${nodes.b.url}/hls/no-such-room/master.m3u8`)).status, 404, 'a room with no show is still 404 on an edge');

  // The show ends for viewers on every node.
  const endedOnB = readerOnB.next<{ reason: string }>('showEnded', 10_000);
  await host.locator('#stop').click();
  assert.equal((await endedOnB).reason, 'host_left');
  const media = await eventually(() => viewerMedia(onC), (m) => m.videoBytes + m.audioBytes === 0, 10_000);
  assert.equal(media.videoBytes + media.audioBytes, 0, 'the viewer on C has no consumers left');
  chatterOnC.close();
  readerOnB.close();
});

test('a viewer on node C comes on stage: a viewer on node B and the host on A see and hear them; a mute and the removal cross nodes', { timeout: 180_000 }, async () => {
  const room = 'cluster-stage';
  const host = await openPage(browser, `${nodes.a.url}/host/${room}`);
  await goLive(host);
  const cohost = await openPage(browser, `${nodes.c.url}/watch/${room}`);
  const viewer = await openPage(browser, `${nodes.b.url}/watch/${room}`);
  await eventually(() => viewerMedia(viewer), (m) => m.videoFrames > 5, 30_000);
  const [hostId, cohostId] = [await participantId(host), await participantId(cohost)];

  await cohost.locator('#request-stage').click();
  await host.locator('#requests button', { hasText: 'accept' }).click({ timeout: 10_000 });
  await cohost.waitForSelector('#leave-stage:not([hidden])', { timeout: 10_000 });

  const both = await eventually(
    () => viewerMedia(viewer),
    (m) => (m.byParticipant[hostId]?.framesDecoded ?? 0) > 30 && (m.byParticipant[cohostId]?.framesDecoded ?? 0) > 30 && (m.byParticipant[cohostId]?.audioBytes ?? 0) > 1000,
    30_000,
  );
  const later = await new Promise((r) => setTimeout(r, 1500)).then(() => viewerMedia(viewer));
  for (const [who, id] of [['host', hostId], ['co-host', cohostId]] as const) {
    assert.ok((later.byParticipant[id]?.framesDecoded ?? 0) > (both.byParticipant[id]?.framesDecoded ?? 0), `${who} frames rise at the viewer on B`);
    assert.ok((later.byParticipant[id]?.audioBytes ?? 0) > (both.byParticipant[id]?.audioBytes ?? 0), `${who} audio rises at the viewer on B`);
  }
  const atHost = await eventually(() => viewerMedia(host), (m) => (m.byParticipant[cohostId]?.framesDecoded ?? 0) > 10, 10_000);
  assert.ok((atHost.byParticipant[cohostId]?.framesDecoded ?? 0) > 10, 'the host on A decodes the co-host on C');

  // The host mutes the co-host's microphone on C: the viewer on B stops getting it.
  await host.locator('#stage-list button', { hasText: 'mute mic' }).click();
  await viewer.waitForSelector('.tile .label:text("mic off")', { timeout: 5_000 });
  await new Promise((r) => setTimeout(r, 1000));
  const m1 = await viewerMedia(viewer);
  await new Promise((r) => setTimeout(r, 1500));
  const m2 = await viewerMedia(viewer);
  assert.equal(m2.byParticipant[cohostId]?.audioBytes, m1.byParticipant[cohostId]?.audioBytes, 'no audio from the muted co-host at B');
  assert.ok((m2.byParticipant[cohostId]?.framesDecoded ?? 0) > (m1.byParticipant[cohostId]?.framesDecoded ?? 0), 'their video goes on');

  await host.locator('#stage-list button', { hasText: 'remove' }).click();
  const gone = await eventually(() => viewerMedia(viewer), (m) => m.byParticipant[cohostId] === undefined, 5_000);
  assert.equal(gone.byParticipant[cohostId], undefined, 'the viewer on B no longer receives the removed co-host');
  assert.ok((gone.byParticipant[hostId]?.framesDecoded ?? 0) > 0, 'and still receives the host');
  await host.locator('#stop').click();
});

test('Redis stopped for 10 s: the show keeps flowing to the edge, local joins work, new cross-node rooms get UNAVAILABLE; the cluster heals', { timeout: 120_000 }, async () => {
  const room = 'redis-outage';
  const host = await openPage(browser, `${nodes.a.url}/host/${room}`);
  await goLive(host);
  const onB = await openPage(browser, `${nodes.b.url}/watch/${room}`);
  await eventually(() => viewerMedia(onB), (m) => m.videoFrames > 10 && m.audioBytes > 1000, 30_000);

  const port = redis.port;
  redis.stop();
  const failuresBefore = await metric(nodes.a, 'onstage_cluster_redis_failures_total');
  // Past the origin lease (ORIGIN_LEASE_MS, 10 s by default): the origin must not give the room up.
  // Frames in every 2 s window (no stall), and 5 a second or more over the whole outage: on the 2
  // busy cores one window now and then decodes only about 10 of the 60 frames sent.
  const outageStart = await viewerMedia(onB);
  for (let second = 0; second < 11; second += 2) {
    const { before: b, after: a } = await mediaKeepsFlowing(onB, 2000);
    assert.ok(a.videoFrames > b.videoFrames, `viewer on B keeps decoding with Redis down (${b.videoFrames} → ${a.videoFrames} around ${second} s)`);
  }
  const outageEnd = await viewerMedia(onB);
  assert.ok(outageEnd.videoFrames - outageStart.videoFrames >= 60, `viewer on B decoded 5 frames a second or more with Redis down (${outageStart.videoFrames} → ${outageEnd.videoFrames} over six 2 s windows)`);
  const localViewer = await RawClient.connect(nodes.a.url, { room, role: 'viewer', sub: 'local-during-outage' });
  const welcome = await localViewer.ok<{ live: boolean }>('join', { roomId: room, role: 'viewer' });
  assert.equal(welcome.live, true, 'a viewer joining the origin node itself gets in');
  const crossNode = await RawClient.connect(nodes.c.url, { room, role: 'viewer', sub: 'cross-during-outage' });
  assert.equal(await crossNode.code('join', { roomId: room, role: 'viewer' }), 'UNAVAILABLE', 'a cross-node join is refused with UNAVAILABLE');
  assert.ok((await metric(nodes.a, 'onstage_cluster_redis_failures_total')) > failuresBefore, 'failed Redis commands are counted');

  redis = await startRedis(port);
  const healed = await eventually(
    async () => (await crossNode.send('join', { roomId: room, role: 'viewer' })).ok,
    (ok) => ok,
    15_000,
  );
  assert.ok(healed, 'after Redis is back, the viewer on C joins the show of A');
  type View = { nodes: { nodeId: string; rooms: string[]; edgeRooms: string[] }[] };
  const view = await eventually(async () => (await (await fetch(`${nodes.b.url}/api/cluster`)).json()) as View, (v) => v.nodes.length === 3 && (v.nodes.find((n) => n.nodeId === 'node-c')?.edgeRooms.includes(room) ?? false), 10_000);
  assert.equal(view.nodes.length, 3, 'all three nodes are registered again');
  assert.ok(view.nodes.find((n) => n.nodeId === 'node-a')?.rooms.includes(room), 'node A is still the origin of the show');
  assert.ok(view.nodes.find((n) => n.nodeId === 'node-c')?.edgeRooms.includes(room), 'node C serves it as an edge');
  const { before: b, after: a } = await mediaKeepsFlowing(onB, 2000);
  assert.ok(a.videoFrames > b.videoFrames + 10, 'viewer on B still decoding after Redis came back');
  localViewer.close();
  crossNode.close();
  await host.locator('#stop').click();
});
