import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OnstageServer } from '../../server/src/app.ts';
import { eventually } from '../helpers/browser.ts';
import { startRedis } from '../helpers/redis.ts';
import { startServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/socket-client.ts';

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
