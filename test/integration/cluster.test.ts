import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OnstageServer } from '../../server/src/app.ts';
import { eventually } from '../helpers/browser.ts';
import { metricValue } from '../helpers/metrics.ts';
import { startRedis } from '../helpers/redis.ts';
import { startServer } from '../helpers/server.ts';
import { obsOffer } from '../helpers/obs-offer.ts';
import { RawClient, testToken } from '../helpers/socket-client.ts';

/** Two nodes joined through a real Redis: the registry, and one origin per room. */
let redis: Awaited<ReturnType<typeof startRedis>>;
let a: OnstageServer;
let b: OnstageServer;
const env = (id: string) => ({ NODE_ID: id, CLUSTER_HEARTBEAT_MS: '200', CLUSTER_NODE_TTL_MS: '1000', ORIGIN_LEASE_MS: '2000' });

before(async () => {
  redis = await startRedis();
  a = await startServer({ ...env('node-a'), REDIS_URL: redis.url });
  b = await startServer({ ...env('node-b'), REDIS_URL: redis.url });
});
after(async () => {
  await a?.close();
  await b?.close();
  redis?.stop();
});

type ClusterView = { mode: string; nodeId: string; nodes: { nodeId: string; url: string; rooms: string[]; edgeRooms: string[] }[] };
const view = async (node: OnstageServer) => (await (await fetch(`${node.url}/api/cluster`)).json()) as ClusterView;

test('nodes register and see each other; a node that leaves is gone within the node TTL', { timeout: 20_000 }, async () => {
  const seen = await eventually(() => view(a), (v) => v.nodes.length === 2, 5000);
  assert.equal(seen.mode, 'redis');
  assert.deepEqual(seen.nodes.map((n) => n.nodeId).sort(), ['node-a', 'node-b']);
  assert.equal(seen.nodes.find((n) => n.nodeId === 'node-b')?.url, b.url);
  const c = await startServer({ ...env('node-c'), REDIS_URL: redis.url });
  await eventually(() => view(a), (v) => v.nodes.some((n) => n.nodeId === 'node-c'), 5000);
  await c.close();
  const left = await eventually(() => view(a), (v) => !v.nodes.some((n) => n.nodeId === 'node-c'), 5000);
  assert.ok(!left.nodes.some((n) => n.nodeId === 'node-c'), 'node-c is gone');
});

test('a room has one origin: another node serves its viewers as an edge and sends a second host to the origin', { timeout: 20_000 }, async () => {
  const host = await RawClient.connect(a.url, { room: 'one-origin', role: 'host' });
  await host.ok('join', { roomId: 'one-origin', role: 'host' });
  const listed = await eventually(() => view(b), (v) => v.nodes.find((n) => n.nodeId === 'node-a')?.rooms.includes('one-origin') ?? false, 5000);
  assert.ok(listed.nodes.find((n) => n.nodeId === 'node-a')?.rooms.includes('one-origin'), 'node-a lists the room');

  const viewer = await RawClient.connect(b.url, { room: 'one-origin', role: 'viewer', sub: 'viewer-on-b' });
  const welcome = await viewer.ok<{ live: boolean; participantId: string }>('join', { roomId: 'one-origin', role: 'viewer' });
  assert.equal(welcome.live, true, 'the viewer on node-b sees the show of node-a live');
  const edges = await eventually(() => view(a), (v) => v.nodes.find((n) => n.nodeId === 'node-b')?.edgeRooms.includes('one-origin') ?? false, 5000);
  assert.ok(edges.nodes.find((n) => n.nodeId === 'node-b')?.edgeRooms.includes('one-origin'), 'node-b lists the room as one it serves as an edge');

  const secondHost = await RawClient.connect(b.url, { room: 'one-origin', role: 'host', sub: 'other-host' });
  const refused = await secondHost.send('join', { roomId: 'one-origin', role: 'host' });
  assert.equal(!refused.ok && refused.error.code, 'ROOM_ON_OTHER_NODE');
  assert.match(!refused.ok ? refused.error.message : '', new RegExp(a.url.replace(/[.[\]]/g, '\\$&')), 'the answer names the origin node');
  secondHost.close();

  const ended = viewer.next<{ reason: string }>('showEnded');
  await host.ok('leave', {});
  assert.equal((await ended).reason, 'host_left', 'the viewer on the edge is told the show ended');
  host.close();
  viewer.close();
  // The room closed on node-a and its claim was released: node-b can now be its origin.
  const newHost = await RawClient.connect(b.url, { room: 'one-origin', role: 'host' });
  await eventually(async () => (await newHost.send('join', { roomId: 'one-origin', role: 'host' })).ok, (ok) => ok, 5000);
  newHost.close();
});

test('without REDIS_URL a node is a cluster of one', { timeout: 20_000 }, async () => {
  const single = await startServer();
  try {
    const v = await view(single);
    assert.equal(v.mode, 'single');
    assert.equal(v.nodes.length, 1);
  } finally {
    await single.close();
  }
});

test('a full node (NODE_MAX_PARTICIPANTS) sends newcomers to another node; the join answer names the other nodes', { timeout: 20_000 }, async () => {
  const full = await startServer({ ...env('node-full'), REDIS_URL: redis.url, NODE_MAX_PARTICIPANTS: '2' });
  try {
    const room = 'crowded';
    await eventually(() => view(full), (v) => v.nodes.length === 3, 5000);
    const host = await RawClient.connect(full.url, { room, role: 'host' });
    const first = await RawClient.connect(full.url, { room, role: 'viewer', sub: 'first' });
    await host.ok('join', { roomId: room, role: 'host' });
    const welcome = await first.ok<{ nodes: string[] }>('join', { roomId: room, role: 'viewer' });
    assert.deepEqual([...welcome.nodes].sort(), [a.url, b.url].sort(), 'the join answer lists the other nodes');

    const third = await RawClient.connect(full.url, { room, role: 'viewer', sub: 'third' });
    const refused = await third.send('join', { roomId: room, role: 'viewer' });
    assert.ok(!refused.ok && refused.error.code === 'NODE_FULL', 'the third participant is refused with NODE_FULL');
    assert.ok(!refused.ok && [a.url, b.url].includes(refused.error.redirect ?? ''), `…and sent to another node (${!refused.ok && refused.error.redirect})`);
    const there = await RawClient.connect(refused.error.redirect!, { room, role: 'viewer', sub: 'third' });
    const joined = await there.ok<{ live: boolean }>('join', { roomId: room, role: 'viewer' });
    assert.equal(joined.live, true, 'where it was sent, it watches the same show (an edge of the full node)');
    const metrics = await (await fetch(`${full.url}/metrics`)).text();
    assert.match(metrics, /onstage_cluster_joins_sent_away_total 1\b/);
    for (const c of [host, first, third, there]) c.close();
  } finally {
    await full.close();
  }
});

test('a new room opens on the least-loaded node: a busy node (PLACEMENT_LOAD_GAP) sends its host there; rooms already open stay put', { timeout: 20_000 }, async () => {
  const busy = await startServer({ ...env('node-busy'), REDIS_URL: redis.url, PLACEMENT_LOAD_GAP: '1' });
  const clients: RawClient[] = [];
  const connect = async (url: string, claims: Parameters<typeof RawClient.connect>[1]) => {
    const client = await RawClient.connect(url, claims);
    clients.push(client);
    return client;
  };
  try {
    // Three people in a room on the busy node: 3 per worker, against 0 on the others.
    const room = 'busy-room';
    await (await connect(busy.url, { room, role: 'host' })).ok('join', { roomId: room, role: 'host' });
    for (const sub of ['v1', 'v2']) await (await connect(busy.url, { room, role: 'viewer', sub })).ok('join', { roomId: room, role: 'viewer' });
    await eventually(() => view(a), (v) => v.nodes.find((n) => n.nodeId === 'node-busy')?.rooms.includes(room) ?? false, 5000);
    await eventually(async () => (await view(busy)).nodes.length, (n) => n === 3, 5000);

    const newHost = await connect(busy.url, { room: 'fresh-room', role: 'host' });
    const refused = await newHost.send('join', { roomId: 'fresh-room', role: 'host' });
    assert.ok(!refused.ok && refused.error.code === 'ROOM_ON_OTHER_NODE', 'the busy node does not open a new room');
    assert.ok(!refused.ok && [a.url, b.url].includes(refused.error.redirect ?? ''), `…it sends the host to a less loaded node (${!refused.ok && refused.error.redirect})`);
    const there = await connect(refused.error.redirect!, { room: 'fresh-room', role: 'host' });
    await there.ok('join', { roomId: 'fresh-room', role: 'host' });
    const placedOn = await eventually(() => view(busy), (v) => v.nodes.some((n) => n.rooms.includes('fresh-room')), 5000);
    assert.equal(placedOn.nodes.find((n) => n.rooms.includes('fresh-room'))?.url, refused.error.redirect, 'the room opened where the host was sent');

    const late = await connect(busy.url, { room, role: 'viewer', sub: 'late' });
    await late.ok('join', { roomId: room, role: 'viewer' });
    const metrics = await (await fetch(`${busy.url}/metrics`)).text();
    assert.match(metrics, /onstage_cluster_rooms_placed_away_total 1\b/, 'the placement is counted; the late viewer of the open room joined here');
  } finally {
    for (const c of clients) c.close();
    await busy.close();
  }
});

test("a WHIP encoder that reaches a node other than the room's origin is redirected there (307)", { timeout: 20_000 }, async () => {
  const room = 'whip-elsewhere';
  const host = await RawClient.connect(a.url, { room, role: 'host' });
  await host.ok('join', { roomId: room, role: 'host' });
  await eventually(() => view(b), (v) => v.nodes.find((n) => n.nodeId === 'node-a')?.rooms.includes(room) ?? false, 5000);
  const res = await fetch(`${b.url}/whip/${room}`, {
    method: 'POST',
    body: obsOffer(),
    headers: { 'content-type': 'application/sdp', authorization: `Bearer ${testToken({ room, role: 'host', sub: 'encoder' })}` },
    redirect: 'manual',
  });
  assert.equal(res.status, 307);
  assert.equal(res.headers.get('location'), `${a.url}/whip/${room}`);
  host.close();
});

test("a viewer whose connection to an edge drops is away at the origin and leaves it after the grace period", { timeout: 20_000 }, async () => {
  const [origin, edge] = [
    await startServer({ ...env('grace-origin'), REDIS_URL: redis.url, GRACE_MS: '500' }),
    await startServer({ ...env('grace-edge'), REDIS_URL: redis.url, GRACE_MS: '500' }),
  ];
  try {
    const room = 'edge-grace';
    const host = await RawClient.connect(origin.url, { room, role: 'host' });
    await host.ok('join', { roomId: room, role: 'host' });
    await eventually(() => view(edge), (v) => v.nodes.find((n) => n.nodeId === 'grace-origin')?.rooms.includes(room) ?? false, 5000);
    const viewer = await RawClient.connect(edge.url, { room, role: 'viewer', sub: 'vanishing' });
    await viewer.ok('join', { roomId: room, role: 'viewer' });
    const participants = () => metricValue(origin.url, 'onstage_participants');
    assert.equal(await eventually(participants, (n) => n === 2, 5000), 2, 'the origin counts the viewer on the edge');
    viewer.socket.disconnect();
    assert.equal(await eventually(participants, (n) => n === 1, 5000), 1, 'the viewer left the origin once the grace period was over');
    host.close();
  } finally {
    await edge.close();
    await origin.close();
  }
});
