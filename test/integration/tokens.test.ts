import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OnstageServer } from '../../server/src/app.ts';
import jsonwebtoken from 'jsonwebtoken';
import { SignJWT } from 'jose';
import { SignallingChannel } from '../../client-sdk/src/signalling-channel.ts';
import { startServer, TEST_SECRET } from '../helpers/server.ts';
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

test('any standard HS256 JWT is accepted (jsonwebtoken, jose); non-canonical signatures are refused', async () => {
  const claims = { room: 'libs', role: 'viewer' as const, sub: 'lib-user', name: 'Lib' };
  const fromJsonwebtoken = jsonwebtoken.sign(claims, TEST_SECRET, { algorithm: 'HS256', expiresIn: 600 });
  const fromJose = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('10m').sign(new TextEncoder().encode(TEST_SECRET));
  const withKid = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'key-1' }).setExpirationTime('10m').sign(new TextEncoder().encode(TEST_SECRET));
  for (const [label, token] of [['jsonwebtoken', fromJsonwebtoken], ['jose (no typ)', fromJose], ['jose with kid', withKid]] as const) {
    assert.equal(await refusal(token), 'connected', label);
  }

  const [h, p, s] = fromJsonwebtoken.split('.') as [string, string, string];
  // 32 bytes are 43 base64url characters; the last one carries 2 spare bits, so other characters decode to the same bytes.
  const last = s.at(-1)!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const sameBytes = [...alphabet].find((c) => c !== last && Buffer.from(s.slice(0, -1) + c, 'base64url').equals(Buffer.from(s, 'base64url')))!;
  assert.ok(sameBytes, 'found a non-canonical twin of the signature');
  for (const [label, sig] of [
    ['spare bits set', s.slice(0, -1) + sameBytes],
    ['padding', `${s}=`],
    ['standard base64 alphabet', Buffer.from(s, 'base64url').toString('base64')],
    ['junk characters inside', `${s.slice(0, 10)}*${s.slice(10)}`],
  ] as const) {
    if (sig === s) continue;
    assert.equal(await refusal(`${h}.${p}.${sig}`), 'TOKEN_INVALID', label);
  }
  const hs512 = jsonwebtoken.sign(claims, TEST_SECRET, { algorithm: 'HS512', expiresIn: 600 });
  assert.equal(await refusal(hs512), 'TOKEN_INVALID', 'only HS256');
});

test('a session is told before its token expires, renews it over the connection, and is closed at expiry without one', { timeout: 20_000 }, async () => {
  const client = await RawClient.connect(server.url, testToken({ room: 'short', role: 'viewer', sub: 'brief', expiresInS: 4 }));
  await client.ok('join', { roomId: 'short', role: 'viewer' });
  const notice = await client.next<{ expiresAt: number }>('tokenExpiring', 4000);
  assert.ok(notice.expiresAt > Date.now(), 'the notice comes before the expiry');
  assert.equal(await client.code('renewToken', { token: testToken({ room: 'short', role: 'viewer', sub: 'someone-else' }) }), 'FORBIDDEN');
  assert.equal(await client.code('renewToken', { token: testToken({ room: 'short', role: 'viewer', sub: 'brief', secret: 'x'.repeat(40) }) }), 'TOKEN_INVALID');
  const renewed = await client.ok<{ expiresAt: number }>('renewToken', { token: testToken({ room: 'short', role: 'viewer', sub: 'brief', expiresInS: 6 }) });
  assert.ok(renewed.expiresAt > notice.expiresAt);
  // The old expiry passes with the connection open; the new one closes it with a reason.
  const expired = client.next('tokenExpired', 10_000);
  const closed = new Promise<string>((resolve) => client.socket.once('disconnect', resolve));
  await new Promise((r) => setTimeout(r, notice.expiresAt - Date.now() + 500));
  assert.ok(client.socket.connected, 'still connected after the first token expired');
  await expired;
  assert.equal(await closed, 'io server disconnect');
  assert.ok(Date.now() >= renewed.expiresAt - 50, 'closed at the renewed expiry, not before');
});

test('the SDK channel asks its token source again: a server restarted with another secret is rejoined', { timeout: 30_000 }, async () => {
  const secretA = 'a'.repeat(40);
  const secretB = 'b'.repeat(40);
  const first = await startServer({ TOKEN_SECRET: secretA });
  const port = new URL(first.url).port;
  let secret = secretA;
  let asked = 0;
  const channel = new SignallingChannel(first.url, async () => {
    asked++;
    return testToken({ room: 'phoenix', role: 'viewer', sub: 'loyal', secret });
  }, 5000);
  const back = new Promise<void>((resolve) => channel.onConnectionChange((c) => c === 'back' && resolve()));
  try {
    await channel.connected;
    await channel.request('join', { roomId: 'phoenix', role: 'viewer' });
    await first.close();
    const second = await startServer({ TOKEN_SECRET: secretB, PORT: port });
    const askedBefore = asked;
    // The first reconnects carry tokens of the old secret and are refused; then the backend catches up.
    await new Promise((r) => setTimeout(r, 1500));
    secret = secretB;
    try {
      await back;
      const joined = await channel.request('join', { roomId: 'phoenix', role: 'viewer' });
      assert.equal(joined.resumed, false);
      assert.ok(asked >= askedBefore + 2, `the token source was asked ${asked} times (${askedBefore} before the restart)`);
    } finally {
      channel.close();
      await second.close();
    }
  } finally {
    channel.close();
    await first.close();
  }
});
