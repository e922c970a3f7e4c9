import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parse } from 'sdp-transform';
import type { OnstageServer } from '../../server/src/app.ts';
import { obsOffer } from '../helpers/obs-offer.ts';
import { startServer } from '../helpers/server.ts';
import { RawClient, testToken } from '../helpers/socket-client.ts';

/** The WHIP endpoint with the offer OBS sends (no media flows here: the e2e test sends real media). */
let server: OnstageServer;
before(async () => {
  server = await startServer({ GRACE_MS: '30000', ICE_SERVERS: 'stun:stun.example.net:3478, turn:turn.example.net:3478?transport=udp', ICE_SERVER_USERNAME: 'u1', ICE_SERVER_CREDENTIAL: 'c1' });
});
after(() => server?.close());

const publish = (room: string, token: string, offer = obsOffer('4d001f')) =>
  fetch(`${server.url}/whip/${room}`, { method: 'POST', body: offer, headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` } });

test("OBS's offer is answered 201 with an ICE-lite answer, Location, ETag and ICE servers; viewers see the host's two tracks", async () => {
  const room = 'obs-show';
  const token = testToken({ room, role: 'host', sub: 'obs' });
  const res = await publish(room, token);
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('content-type'), 'application/sdp');
  assert.match(res.headers.get('location') ?? '', new RegExp(`^/whip/${room}/[A-Za-z0-9_-]{10,}$`));
  assert.match(res.headers.get('etag') ?? '', /^"[^"]+"$/);
  assert.equal(
    res.headers.get('link'),
    '<stun:stun.example.net:3478>; rel="ice-server", <turn:turn.example.net:3478?transport=udp>; rel="ice-server"; username="u1"; credential="c1"; credential-type="password"',
  );
  const answer = parse(await res.text());
  assert.equal(answer.icelite, 'ice-lite');
  assert.deepEqual(answer.media.map((m) => `${m.type} ${m.direction} ${m.rtp[0]?.codec}`), ['audio recvonly opus', 'video recvonly H264']);

  const { ingest } = (await (await fetch(`${server.url}/api/live/${room}`)).json()) as { ingest?: unknown };
  assert.deepEqual(ingest, { protocol: 'whip', video: 'forward' }, '/api/live says the show comes over WHIP');

  const viewer = await RawClient.connect(server.url, { room, role: 'viewer' });
  const welcome = await viewer.ok<{ live: boolean; producers: { kind: string }[] }>('join', { roomId: room, role: 'viewer' });
  assert.equal(welcome.live, true, 'the room is live');
  assert.deepEqual(welcome.producers.map((p) => p.kind).sort(), ['audio', 'video'], "the encoder's tracks are the host's producers");

  // The encoder reconnects with the same token (its connection dropped): it resumes the host.
  const again = await publish(room, token);
  assert.equal(again.status, 201);
  const old = await fetch(`${server.url}${res.headers.get('location')}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  assert.equal(old.status, 404, 'the replaced session is gone');
  const late = await RawClient.connect(server.url, { room, role: 'viewer' });
  const lateWelcome = await late.ok<{ live: boolean; producers: { kind: string }[] }>('join', { roomId: room, role: 'viewer' });
  assert.deepEqual([lateWelcome.live, lateWelcome.producers.length], [true, 2], 'the show went on with the new session');

  // Only the host identity of the session may end it; then the show ends for viewers.
  const location = again.headers.get('location')!;
  const stranger = await fetch(`${server.url}${location}`, { method: 'DELETE', headers: { authorization: `Bearer ${testToken({ room, role: 'host', sub: 'someone-else' })}` } });
  assert.equal(stranger.status, 403);
  const ended = viewer.next<{ reason: string }>('showEnded');
  const stop = await fetch(`${server.url}${location}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  assert.equal(stop.status, 200);
  assert.equal((await ended).reason, 'host_left');
  viewer.close();
  late.close();
});
