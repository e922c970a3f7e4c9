import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OnstageServer } from '../../server/src/app.ts';
import { startServer } from '../helpers/server.ts';
import { RawClient, testToken } from '../helpers/socket-client.ts';

let server: OnstageServer;
before(async () => {
  server = await startServer({ GRACE_MS: '1500' });
});
after(async () => {
  await server?.close();
});

type Joined = { participantId: string; resumed: boolean; live: boolean; stage: { seats: { participantId: string }[] } };

/** Cuts the client's connection on the server side, as a network drop would. */
function dropConnection(client: RawClient): void {
  const socket = server.io.sockets.sockets.get(client.socket.id!);
  assert.ok(socket, 'server-side socket found');
  socket.conn.close();
}

test('a host who drops and returns within the grace period keeps the show and the stage', { timeout: 20_000 }, async () => {
  const room = 'blip';
  const hostToken = testToken({ room, role: 'host', sub: 'the-host' });
  const host = await RawClient.connect(server.url, hostToken);
  const first = await host.ok<Joined>('join', { roomId: room, role: 'host' });
  const viewer = await RawClient.connect(server.url, { room, role: 'viewer', sub: 'v1' });
  const v = await viewer.ok<Joined>('join', { roomId: room, role: 'viewer' });
  await host.ok('inviteToStage', { participantId: v.participantId });
  await viewer.ok('answerInvite', { accept: true });

  const away = viewer.next<{ until: number }>('hostAway');
  dropConnection(host);
  assert.ok((await away).until > Date.now(), 'viewers are told the host is reconnecting');

  const back = viewer.next('hostBack');
  const host2 = await RawClient.connect(server.url, hostToken); // same token, no new round trip
  const resumed = await host2.ok<Joined>('join', { roomId: room, role: 'host' });
  await back;
  assert.equal(resumed.resumed, true);
  assert.equal(resumed.participantId, first.participantId, 'same participant');
  assert.deepEqual(resumed.stage.seats.map((s) => s.participantId), [first.participantId, v.participantId], 'co-host kept the seat');

  // A viewer who drops and comes back resumes too.
  const viewerToken = testToken({ room, role: 'viewer', sub: 'v2' });
  const v2 = await RawClient.connect(server.url, viewerToken);
  const v2first = await v2.ok<Joined>('join', { roomId: room, role: 'viewer' });
  dropConnection(v2);
  const v2again = await RawClient.connect(server.url, viewerToken);
  const v2resumed = await v2again.ok<Joined>('join', { roomId: room, role: 'viewer' });
  assert.equal(v2resumed.resumed, true);
  assert.equal(v2resumed.participantId, v2first.participantId);
  for (const c of [host, host2, viewer, v2, v2again]) c.close();
});

test('a second connection of the same person replaces the first', { timeout: 10_000 }, async () => {
  const token = testToken({ room: 'twice', role: 'viewer', sub: 'same' });
  const a = await RawClient.connect(server.url, token);
  await a.ok('join', { roomId: 'twice', role: 'viewer' });
  const replaced = a.next<{ reason: string }>('removed');
  const b = await RawClient.connect(server.url, token);
  const joined = await b.ok<Joined>('join', { roomId: 'twice', role: 'viewer' });
  assert.equal(joined.resumed, true);
  assert.equal((await replaced).reason, 'replaced');
  assert.equal(await b.ok('sendChat', { text: 'still here' }).then(() => 'ok'), 'ok');
  b.close();
});

test('a host who stays away past the grace period ends the show', { timeout: 10_000 }, async () => {
  const room = 'gone';
  const host = await RawClient.connect(server.url, { room, role: 'host' });
  await host.ok('join', { roomId: room, role: 'host' });
  const viewer = await RawClient.connect(server.url, { room, role: 'viewer' });
  await viewer.ok('join', { roomId: room, role: 'viewer' });
  const ended = viewer.next<{ reason: string }>('showEnded', 5000);
  const started = Date.now();
  dropConnection(host);
  assert.equal((await ended).reason, 'host_timeout');
  const waited = Date.now() - started;
  assert.ok(waited >= 1400 && waited < 4000, `ended after the grace period (${waited} ms)`);
  viewer.close();
  host.close();
});

test('rooms close and release their router once everyone is gone for good', { timeout: 10_000 }, async () => {
  const rooms = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return Number(/^onstage_rooms (\S+)$/m.exec(text)?.[1]);
  };
  const c = await RawClient.connect(server.url, { room: 'brief', role: 'viewer' });
  await c.ok('join', { roomId: 'brief', role: 'viewer' });
  assert.ok((await rooms()) >= 1);
  await c.ok('leave', {});
  c.close();
  // Earlier tests' dropped participants leave when their grace period (1.5 s) ends.
  const deadline = Date.now() + 5_000;
  while ((await rooms()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await rooms(), 0);
});
