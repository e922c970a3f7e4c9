import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OnstageServer } from '../../server/src/app.ts';
import { startServer } from '../helpers/server.ts';
import { RawClient, testToken } from '../helpers/socket-client.ts';

let server: OnstageServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

const refusal = (token: string) =>
  RawClient.connect(server.url, token).then(
    (c) => {
      c.close();
      return 'connected';
    },
    (err: { code?: string }) => err.code ?? 'no code',
  );

test('connections without a valid token are refused with distinct codes', async () => {
  assert.equal(await refusal(''), 'TOKEN_MISSING');
  assert.equal(await refusal('not.a.token'), 'TOKEN_INVALID');
  assert.equal(await refusal(testToken({ room: 'r', role: 'host', secret: 'another-secret-another-secret-another' })), 'TOKEN_INVALID');
  assert.equal(await refusal(testToken({ room: 'r', role: 'viewer', expiresInS: -5 })), 'TOKEN_EXPIRED');
  // An unsigned token claiming alg "none" is not accepted.
  const payload = Buffer.from(JSON.stringify({ room: 'r', role: 'host', sub: 'x', exp: 9e9 })).toString('base64url');
  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
  assert.equal(await refusal(none), 'TOKEN_INVALID');
  // A tampered payload breaks the signature.
  const [h, , s] = testToken({ room: 'r', role: 'viewer' }).split('.');
  const hostPayload = Buffer.from(JSON.stringify({ room: 'r', role: 'host', sub: 'x', exp: 9e9 })).toString('base64url');
  assert.equal(await refusal(`${h}.${hostPayload}.${s}`), 'TOKEN_INVALID');
});

test('a token admits to its own room and role only; viewers cannot publish', async () => {
  const viewer = await RawClient.connect(server.url, { room: 'show', role: 'viewer' });
  assert.equal(await viewer.code('join', { roomId: 'elsewhere', role: 'viewer' }), 'WRONG_ROOM');
  assert.equal(await viewer.code('join', { roomId: 'show', role: 'host' }), 'ROLE_NOT_ALLOWED');
  await viewer.ok('join', { roomId: 'show', role: 'viewer' });
  assert.equal(await viewer.code('createTransport', { direction: 'send' }), 'FORBIDDEN');
  const { transportId } = await viewer.ok<{ transportId: string }>('createTransport', { direction: 'recv' });
  const rtpParameters = { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }], encodings: [{ ssrc: 5 }] };
  assert.equal(await viewer.code('produce', { transportId, kind: 'video', rtpParameters }), 'FORBIDDEN');
  viewer.close();
});

test('development tokens: issued by POST /api/dev/token, usable, and validated', async () => {
  const res = await fetch(`${server.url}/api/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ room: 'dev', role: 'host', name: 'Dev Host' }),
  });
  assert.equal(res.status, 200);
  const { token, identity, expiresAt } = (await res.json()) as { token: string; identity: string; expiresAt: number };
  assert.ok(identity.length > 0 && expiresAt > Date.now());
  const host = await RawClient.connect(server.url, token);
  const joined = await host.ok<{ stage: { seats: { displayName: string }[] } }>('join', { roomId: 'dev', role: 'host' });
  assert.equal(joined.stage.seats[0]?.displayName, 'Dev Host');
  host.close();

  const bad = await fetch(`${server.url}/api/dev/token`, { method: 'POST', body: '{"room":"../x","role":"god"}' });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'INVALID_PAYLOAD');
  assert.equal((await fetch(`${server.url}/api/dev/token`)).status, 405);
});

test('with DEV_TOKENS=false the development endpoint does not exist', async () => {
  const prod = await startServer({ DEV_TOKENS: 'false' });
  try {
    const res = await fetch(`${prod.url}/api/dev/token`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 405, 'POST to an unknown path is refused');
    assert.equal((await fetch(`${prod.url}/api/dev/token`)).status, 404);
  } finally {
    await prod.close();
  }
});
