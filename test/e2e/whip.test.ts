import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, mediaKeepsFlowing, openPage, useServerAndBrowser, viewerMedia } from '../helpers/browser.ts';
import { testToken } from '../helpers/socket-client.ts';
import { publishWithWhipClient, type WhipVideoCodec } from '../helpers/whip-client.ts';

/**
 * Going live from an encoder over WHIP (RFC 9725), with a WHIP client nobody here wrote: the
 * `whip-whep` package (medooze) in a Chromium page, publishing H.264 (main profile, as OBS does)
 * and Opus. Viewers watch on the ordinary watch page.
 */
const env = useServerAndBrowser();

/** A page of the server's origin that publishes its fake camera and microphone with the third-party client. */
async function publisher(url: string, token: string, videoCodec: WhipVideoCodec = 'h264-main', tracks: 'both' | 'video' = 'both') {
  const page = await openPage(env.browser, `${env.server.url}/`);
  return { page, published: publishWithWhipClient(page, url, token, { videoCodec, audio: tracks === 'both' }) };
}

const post = (room: string, body: string, headers: Record<string, string>) =>
  fetch(`${env.server.url}/whip/${room}`, { method: 'POST', body, headers: { 'content-type': 'application/sdp', ...headers } });
const codeOf = async (res: Response) => [res.status, ((await res.json()) as { error: { code: string } }).error.code] as const;

test('an encoder goes live over WHIP (third-party client, H.264 main + Opus): viewers decode it; ICE restarts by PATCH; DELETE ends the show', { timeout: 120_000 }, async (t) => {
  await env.ready;
  const room = 'whip-show';
  const hostToken = testToken({ room, role: 'host', sub: 'encoder' });
  const viewer = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  const { page: encoder, published } = await publisher(`${env.server.url}/whip/${room}`, hostToken);
  const session = await published;
  t.diagnostic(`the encoder sends ${session.codec} (${session.fmtp})`);
  assert.equal(session.codec, 'video/H264', 'the encoder sends H.264');
  assert.match(session.fmtp, /profile-level-id=4d/, '…negotiated as main profile');
  assert.match(session.resource, new RegExp(`/whip/${room}/[A-Za-z0-9_-]+$`), 'the session has its own resource URL (Location)');
  assert.ok(session.etag, 'and an ETag');

  const { before, after } = await eventually(() => mediaKeepsFlowing(viewer, 1000), ({ before: b, after: a }) => a.videoFrames > b.videoFrames + 10 && a.audioBytes > b.audioBytes, 30_000);
  assert.ok(after.videoFrames > before.videoFrames + 10, `the viewer decodes the encoder's video (${before.videoFrames} → ${after.videoFrames} frames)`);
  assert.ok(after.audioBytes > before.audioBytes, `…and receives its audio (${before.audioBytes} → ${after.audioBytes} bytes)`);

  // Trickle with a stale entity tag, and an ICE restart without If-Match: the RFC's refusals.
  const patch = (body: string, headers: Record<string, string>) =>
    fetch(session.resource, { method: 'PATCH', body, headers: { 'content-type': 'application/trickle-ice-sdpfrag', authorization: `Bearer ${hostToken}`, ...headers } });
  const ufrag = /a=ice-ufrag:(\S+)/.exec(session.offer)![1]!;
  const pwd = /a=ice-pwd:(\S+)/.exec(session.offer)![1]!;
  assert.deepEqual(await codeOf(await patch(`a=ice-ufrag:${ufrag}\r\na=ice-pwd:${pwd}\r\n`, { 'if-match': '"stale"' })), [412, 'PRECONDITION_FAILED']);
  assert.deepEqual(await codeOf(await patch('a=ice-ufrag:newu\r\na=ice-pwd:newpasswordnewpassword\r\n', {})), [428, 'PRECONDITION_REQUIRED']);
  assert.deepEqual(await codeOf(await patch('a=ice-ufrag:x\r\n', { 'content-type': 'text/plain' })), [415, 'UNSUPPORTED_MEDIA_TYPE']);
  // The client restarts ICE itself (If-Match: *); media goes on over the new credentials.
  const etagAfterRestart = await encoder.evaluate(async () => {
    const g = globalThis as unknown as { whip: { restart(): Promise<void>; etag: string } };
    await g.whip.restart();
    return g.whip.etag;
  });
  assert.ok(etagAfterRestart && etagAfterRestart !== session.etag, `the restart answer carries a new ETag (${session.etag} → ${etagAfterRestart})`);
  const afterRestart = await eventually(
    async () => ({
      state: await encoder.evaluate(() => (globalThis as unknown as { pc: RTCPeerConnection }).pc.iceConnectionState),
      flow: await mediaKeepsFlowing(viewer, 1000),
    }),
    (r) => r.state === 'connected' && r.flow.after.videoFrames > r.flow.before.videoFrames + 10,
    20_000,
  );
  assert.equal(afterRestart.state, 'connected', 'ICE is connected again after the restart');
  assert.ok(afterRestart.flow.after.videoFrames > afterRestart.flow.before.videoFrames + 10, 'the viewer keeps decoding after the restart');

  // A second host identity is refused while this one is live.
  const other = await post(room, session.offer, { authorization: `Bearer ${testToken({ room, role: 'host', sub: 'another-encoder' })}` });
  assert.deepEqual(await codeOf(other), [409, 'HOST_ALREADY_PRESENT']);

  // The encoder stops (the client closes its connection, then DELETEs): the show ends for viewers at once.
  await encoder.evaluate(() => (globalThis as unknown as { whip: { stop(): Promise<void> } }).whip.stop());
  const ended = await eventually(() => viewer.evaluate(() => (globalThis as unknown as { onstage: { ended?: string } }).onstage.ended), (r) => r !== undefined, 10_000);
  assert.equal(ended, 'host_left', 'the viewer is told the show ended');
  assert.deepEqual(await codeOf(await fetch(session.resource, { method: 'DELETE', headers: { authorization: `Bearer ${hostToken}` } })), [404, 'NOT_FOUND'], 'the session is gone');
  await Promise.all([encoder.context().close(), viewer.context().close()]);
});

test('WHIP refusals: no token, a viewer token, another room, not SDP, garbage SDP, nothing the room can receive', { timeout: 60_000 }, async () => {
  await env.ready;
  const room = 'whip-refusals';
  const host = { authorization: `Bearer ${testToken({ room, role: 'host', sub: 'h' })}` };
  assert.deepEqual(await codeOf(await post(room, 'v=0', {})), [401, 'TOKEN_MISSING']);
  assert.deepEqual(await codeOf(await post(room, 'v=0', { authorization: 'Bearer not-a-token' })), [401, 'TOKEN_INVALID']);
  assert.deepEqual(await codeOf(await post(room, 'v=0', { authorization: `Bearer ${testToken({ room, role: 'viewer' })}` })), [403, 'ROLE_NOT_ALLOWED']);
  assert.deepEqual(await codeOf(await post(room, 'v=0', { authorization: `Bearer ${testToken({ room: 'elsewhere', role: 'host' })}` })), [403, 'WRONG_ROOM']);
  assert.deepEqual(await codeOf(await post(room, 'v=0', { ...host, 'content-type': 'text/plain' })), [415, 'UNSUPPORTED_MEDIA_TYPE']);
  assert.deepEqual(await codeOf(await post(room, 'v=0\r\nnonsense', host)), [400, 'INVALID_PAYLOAD']);
  assert.deepEqual(await codeOf(await post(room, 'x'.repeat(70_000), host)), [413, 'PAYLOAD_TOO_LARGE']);

  // A real offer whose only track is AV1, which rooms do not take.
  const { page, published } = await publisher(`${env.server.url}/whip/${room}`, host.authorization.slice(7), 'av1-only', 'video');
  await assert.rejects(published, /status 422/, 'the client is refused with 422');
  const offer = await page.evaluate(() => (globalThis as unknown as { pc: RTCPeerConnection }).pc.localDescription?.sdp ?? '');
  const refused = await post(room, offer || (await page.evaluate(async () => (await (globalThis as unknown as { pc: RTCPeerConnection }).pc.createOffer()).sdp ?? '')), host);
  assert.deepEqual(await codeOf(refused), [422, 'UNSUPPORTED_CODEC']);

  // CORS: browser WHIP clients on other origins can read what they need.
  const preflight = await fetch(`${env.server.url}/whip/${room}`, { method: 'OPTIONS' });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('accept-post'), 'application/sdp');
  assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
  assert.match(preflight.headers.get('access-control-expose-headers') ?? '', /location.*etag/);
  await page.context().close();
});

test('an encoder that offers simulcast (three VP8 layers by rid) is received as one simulcast producer: a low-quality viewer gets a small layer, another the top one', { timeout: 120_000 }, async (t) => {
  await env.ready;
  const room = 'whip-simulcast';
  const { page: encoder, published } = await publisher(`${env.server.url}/whip/${room}`, testToken({ room, role: 'host', sub: 'sim' }), 'vp8-simulcast');
  assert.equal((await published).codec, 'video/VP8');
  const full = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  const low = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  await eventually(() => viewerMedia(low), (m) => m.videoFrames > 5, 20_000);
  await low.selectOption('#quality', 'low');
  const fullWidth = await eventually(async () => (await viewerMedia(full)).width, (w) => w >= 1280, 40_000);
  const lowWidth = await eventually(async () => (await viewerMedia(low)).width, (w) => w > 0 && w <= 320, 20_000);
  t.diagnostic(`frame width: uncapped viewer ${fullWidth}px, low-quality viewer ${lowWidth}px`);
  assert.ok(fullWidth >= 1280, `the uncapped viewer gets the top layer (${fullWidth}px)`);
  assert.ok(lowWidth > 0 && lowWidth <= 320, `the low-quality viewer gets the lowest layer (${lowWidth}px)`);
  await Promise.all([encoder.context().close(), full.context().close(), low.context().close()]);
});
