import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { requests, type RequestName } from '@onstage/protocol';
import { eventually, goLive, mediaKeepsFlowing, openPage, useServerAndBrowser, viewerMedia } from '../helpers/browser.ts';
import { RawClient } from '../helpers/socket-client.ts';

const env = useServerAndBrowser();
let viewer: Page;
const ROOM = 'busy-show';

before(async () => {
  await env.ready;
  const host = await openPage(env.browser, `${env.server.url}/host/${ROOM}`);
  await goLive(host);
  viewer = await openPage(env.browser, `${env.server.url}/watch/${ROOM}`);
  await eventually(() => viewerMedia(viewer), (m) => m.videoFrames > 10 && m.audioBytes > 0, 20_000);
});

const FAKE_ID = '00000000-0000-4000-8000-000000000000';
const DTLS = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] };
const RTP = { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }], encodings: [{ ssrc: 1111 }] };
const CAPS = { codecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000, preferredPayloadType: 96 }] };

/** A body of the right shape for every request, with ids that exist nowhere. */
const VALID_SHAPE: { [N in RequestName]: Record<string, unknown> } = {
  join: { roomId: ROOM, role: 'viewer' },
  createTransport: { direction: 'recv' },
  connectTransport: { transportId: FAKE_ID, dtlsParameters: DTLS },
  produce: { transportId: FAKE_ID, kind: 'video', rtpParameters: RTP },
  closeProducer: { producerId: FAKE_ID },
  consume: { transportId: FAKE_ID, producerId: FAKE_ID, rtpCapabilities: CAPS },
  resumeConsumer: { consumerId: FAKE_ID },
  leave: {},
  requestStage: {},
  cancelStageRequest: {},
  answerInvite: { accept: true },
  leaveStage: {},
  inviteToStage: { participantId: FAKE_ID },
  answerStageRequest: { participantId: FAKE_ID, accept: true },
  removeFromStage: { participantId: FAKE_ID },
  mute: { participantId: FAKE_ID, kind: 'audio', muted: true },
  sendChat: { text: 'hello' },
  deleteChat: { messageId: FAKE_ID },
  ban: { participantId: FAKE_ID },
  listParticipants: { limit: 10 },
  renewToken: { token: 'a.b.c' },
  setPreferredQuality: { quality: 'low' },
};
const NAMES = Object.keys(requests) as RequestName[];

test('malformed, oversized, unknown and out-of-order requests get error codes; the show goes on', { timeout: 120_000 }, async () => {
  let bad = await RawClient.connect(env.server.url, { room: ROOM, role: 'viewer' });
  const seen = new Map<string, string>();
  const expect = async (label: string, code: string, event: string, ...args: unknown[]) => {
    const got = await bad.code(event, ...args);
    seen.set(label, got);
    assert.equal(got, code, label);
  };
  // Every request kind is rate-limited per connection, so the checks of one kind get fresh connections.
  const expectFresh = async (label: string, code: string, event: string, ...args: unknown[]) => {
    bad.close();
    bad = await RawClient.connect(env.server.url, { room: ROOM, role: 'viewer' });
    await expect(label, code, event, ...args);
  };

  // Out of order: everything but join needs a room first.
  for (const name of NAMES.filter((n) => n !== 'join' && n !== 'renewToken')) {
    await expect(`${name} before join`, 'NOT_JOINED', name, VALID_SHAPE[name]);
  }
  // A token can be renewed before joining, but only with a valid one.
  await expect('renew with a forged token', 'TOKEN_INVALID', 'renewToken', VALID_SHAPE.renewToken);

  // Wrong types, missing and extra fields, wrong arity, oversized bodies: for every request.
  for (const name of NAMES) {
    for (const body of [42, 'text', null, [], true]) {
      await expectFresh(`${name} body ${JSON.stringify(body)}`, 'INVALID_PAYLOAD', name, body);
    }
    if (!requests[name].request.safeParse({}).success) await expectFresh(`${name} missing fields`, 'INVALID_PAYLOAD', name, {});
    await expectFresh(`${name} unknown field`, 'INVALID_PAYLOAD', name, { ...VALID_SHAPE[name], admin: true });
    await expectFresh(`${name} no argument`, 'INVALID_PAYLOAD', name);
    await expectFresh(`${name} two arguments`, 'INVALID_PAYLOAD', name, VALID_SHAPE[name], VALID_SHAPE[name]);
    await expectFresh(`${name} 200 kB body`, 'PAYLOAD_TOO_LARGE', name, { ...VALID_SHAPE[name], pad: 'x'.repeat(200_000) });
  }
  await expectFresh('wrong field types', 'INVALID_PAYLOAD', 'join', { roomId: 7, role: 'host' });
  await expectFresh('bad room id', 'INVALID_PAYLOAD', 'join', { roomId: '../../etc', role: 'viewer' });
  await expectFresh('bad role', 'INVALID_PAYLOAD', 'join', { roomId: ROOM, role: 'admin' });
  await expectFresh('unknown request', 'UNKNOWN_REQUEST', 'becomeAdmin', {});

  // A request without an ack callback gets its error as an event instead.
  const eventError = new Promise<{ request: string; error: { code: string } }>((resolve) =>
    bad.socket.once('requestError', resolve),
  );
  bad.socket.emit('consume', 'nonsense');
  const { request, error } = await eventError;
  assert.equal(request, 'consume');
  assert.equal(error.code, 'INVALID_PAYLOAD');

  // Joined as a viewer of the live show: unknown ids, forbidden and repeated requests.
  bad.close();
  bad = await RawClient.connect(env.server.url, { room: ROOM, role: 'viewer' });
  const joined = await bad.ok<{ producers: { producerId: string }[] }>('join', { roomId: ROOM, role: 'viewer' });
  assert.equal(joined.producers.length, 2, 'the live show has an audio and a video producer');
  const realProducer = joined.producers[0]!.producerId;
  await expect('join twice', 'ALREADY_JOINED', 'join', { roomId: ROOM, role: 'viewer' });
  await expect('viewer send transport', 'FORBIDDEN', 'createTransport', { direction: 'send' });
  await expect('viewer produce', 'FORBIDDEN', 'produce', VALID_SHAPE.produce);
  await expect('connect unknown transport', 'TRANSPORT_NOT_FOUND', 'connectTransport', VALID_SHAPE.connectTransport);
  await expect('consume on unknown transport', 'TRANSPORT_NOT_FOUND', 'consume', { ...VALID_SHAPE.consume, producerId: realProducer });
  const { transportId } = await bad.ok<{ transportId: string }>('createTransport', { direction: 'recv' });
  await expect('consume unknown producer', 'PRODUCER_NOT_FOUND', 'consume', { ...VALID_SHAPE.consume, transportId });
  await expect('consume with useless capabilities', 'CANNOT_CONSUME', 'consume', {
    transportId,
    producerId: realProducer,
    rtpCapabilities: { codecs: [] },
  });
  await expect('resume unknown consumer', 'CONSUMER_NOT_FOUND', 'resumeConsumer', VALID_SHAPE.resumeConsumer);
  await expect('close unknown producer', 'PRODUCER_NOT_FOUND', 'closeProducer', VALID_SHAPE.closeProducer);
  for (const hostOnly of ['inviteToStage', 'answerStageRequest', 'removeFromStage', 'mute', 'deleteChat', 'ban'] as const) {
    await expect(`viewer ${hostOnly}`, 'FORBIDDEN', hostOnly, VALID_SHAPE[hostOnly]);
  }
  await expect('answer an invitation nobody sent', 'INVITE_NOT_FOUND', 'answerInvite', { accept: true });
  await expect('cancel a request never made', 'REQUEST_NOT_FOUND', 'cancelStageRequest', {});
  await expect('leave a stage one is not on', 'NOT_ON_STAGE', 'leaveStage', {});
  await bad.ok('connectTransport', { transportId, dtlsParameters: DTLS });
  await expect('connect twice', 'ALREADY_CONNECTED', 'connectTransport', { transportId, dtlsParameters: DTLS });

  // A second host for a live room is refused; a host's nonsense codec is refused.
  const intruder = await RawClient.connect(env.server.url, { room: ROOM, role: 'host' });
  assert.equal(await intruder.code('join', { roomId: ROOM, role: 'host' }), 'HOST_ALREADY_PRESENT');
  intruder.close();
  const other = await RawClient.connect(env.server.url, { room: 'other-show', role: 'host' });
  await other.ok('join', { roomId: 'other-show', role: 'host' });
  const hostExpect = async (label: string, want: string, event: string, body: unknown) => {
    seen.set(label, await other.code(event, body));
    assert.equal(seen.get(label), want, label);
  };
  await hostExpect('invite unknown participant', 'PARTICIPANT_NOT_FOUND', 'inviteToStage', VALID_SHAPE.inviteToStage);
  await hostExpect('answer unknown request', 'REQUEST_NOT_FOUND', 'answerStageRequest', VALID_SHAPE.answerStageRequest);
  await hostExpect('remove someone not on stage', 'NOT_ON_STAGE', 'removeFromStage', VALID_SHAPE.removeFromStage);
  await hostExpect('mute unknown participant', 'PARTICIPANT_NOT_FOUND', 'mute', VALID_SHAPE.mute);
  await hostExpect('delete unknown message', 'MESSAGE_NOT_FOUND', 'deleteChat', VALID_SHAPE.deleteChat);
  await hostExpect('ban unknown participant', 'PARTICIPANT_NOT_FOUND', 'ban', VALID_SHAPE.ban);
  await hostExpect('host requests the stage', 'FORBIDDEN', 'requestStage', {});
  const send = await other.ok<{ transportId: string }>('createTransport', { direction: 'send' });
  assert.equal(
    await other.code('produce', {
      transportId: send.transportId,
      kind: 'video',
      rtpParameters: { codecs: [{ mimeType: 'video/NOPE', payloadType: 96, clockRate: 90000 }], encodings: [{ ssrc: 1 }] },
    }),
    'INVALID_PAYLOAD',
  );
  // The worker itself refuses these (a second track with an SSRC or MID already in use): still the client's mistake.
  const vp8 = (ssrc: number, mid: string) => ({
    transportId: send.transportId,
    kind: 'video',
    rtpParameters: { mid, codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }], encodings: [{ ssrc }] },
  });
  await other.ok('produce', vp8(1111, '0'));
  await hostExpect('produce a second track with an SSRC in use', 'INVALID_PAYLOAD', 'produce', vp8(1111, '1'));
  await hostExpect('produce a second track with a MID in use', 'INVALID_PAYLOAD', 'produce', vp8(2222, '0'));
  other.close();
  bad.close();

  // The real viewer of the show kept receiving through all of this.
  const { before, after } = await mediaKeepsFlowing(viewer);
  assert.ok(after.videoFrames > before.videoFrames + 10, `viewer frames rise (${before.videoFrames} → ${after.videoFrames})`);
  assert.ok(after.audioBytes > before.audioBytes, 'viewer audio bytes rise');
  const health = await fetch(`${env.server.url}/healthz`);
  assert.equal(health.status, 200);
  process.stdout.write(`# ${seen.size} bad requests answered with error codes\n`);
});

/** A small seeded PRNG so a failing fuzz run can be replayed (the seed is printed). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomValue(rand: () => number, depth = 0): unknown {
  const pick = Math.floor(rand() * (depth > 2 ? 6 : 9));
  const str = () =>
    Array.from({ length: Math.floor(rand() * 40) }, () => String.fromCodePoint(Math.floor(rand() * (rand() < 0.8 ? 128 : 0x2fff)))).join('');
  switch (pick) {
    case 0: return null;
    case 1: return rand() < 0.5;
    case 2: return Math.floor((rand() - 0.5) * 2 ** (rand() * 64));
    case 3: return rand() < 0.1 ? Number.NaN : rand() * 1e6;
    case 4: return str();
    case 5: return rand() < 0.5 ? FAKE_ID : '';
    case 6: return Array.from({ length: Math.floor(rand() * 5) }, () => randomValue(rand, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rand() * 5); i > 0; i--) o[rand() < 0.5 ? str() : ['__proto__', 'constructor', 'roomId', 'kind', 'transportId'][i % 5]!] = randomValue(rand, depth + 1);
      return o;
    }
  }
}

test('fuzz: random payloads on every event always get an ack; nothing dies; the show goes on', { timeout: 120_000 }, async () => {
  const seed = Number(process.env['FUZZ_SEED'] ?? Date.now() % 100_000);
  const rand = prng(seed);
  process.stdout.write(`# fuzz seed ${seed} (FUZZ_SEED=${seed} replays it)\n`);
  const clients = [
    await RawClient.connect(env.server.url, { room: ROOM, role: 'viewer' }),
    await RawClient.connect(env.server.url, { room: ROOM, role: 'viewer' }),
    await RawClient.connect(env.server.url, { room: 'fuzz-own-show', role: 'host', sub: 'fuzz-host' }),
  ];
  await clients[1]!.ok('join', { roomId: ROOM, role: 'viewer' });
  await clients[2]!.ok('join', { roomId: 'fuzz-own-show', role: 'host' });
  const events = [...NAMES, 'unknownThing', 'disconnect_', ''];
  const codes = new Map<string, number>();
  let acks = 0;
  const deadline = Date.now() + 8_000;
  while (Date.now() < deadline) {
    const client = clients[Math.floor(rand() * clients.length)]!;
    const event = events[Math.floor(rand() * events.length)]!;
    let body: unknown;
    const shape = VALID_SHAPE[event as RequestName];
    if (shape && rand() < 0.6) {
      const keys = Object.keys(shape);
      body = { ...shape };
      if (keys.length > 0) (body as Record<string, unknown>)[keys[Math.floor(rand() * keys.length)]!] = randomValue(rand);
    } else {
      body = randomValue(rand);
    }
    const ack = await client.send(event, body); // times out (and fails the test) if no ack comes
    acks++;
    const code = ack.ok ? 'ok' : ack.error.code;
    codes.set(code, (codes.get(code) ?? 0) + 1);
    assert.notEqual(code, 'INTERNAL', `INTERNAL for ${event} ${JSON.stringify(body)?.slice(0, 200)}`);
    if (client.socket.disconnected) throw new Error(`a client was disconnected by ${event}`);
    // A client over a rate limit is replaced, so the fuzz keeps reaching the handlers.
    if (code === 'RATE_LIMITED') {
      const i = clients.indexOf(client);
      client.close();
      clients[i] = await RawClient.connect(env.server.url, i === 2 ? { room: 'fuzz-own-show', role: 'host', sub: 'fuzz-host' } : { room: ROOM, role: 'viewer' });
      if (i > 0) await clients[i]!.ok('join', i === 2 ? { roomId: 'fuzz-own-show', role: 'host' } : { roomId: ROOM, role: 'viewer' });
    }
  }
  for (const c of clients) c.close();
  process.stdout.write(`# fuzz: ${acks} requests, every one acknowledged: ${JSON.stringify(Object.fromEntries(codes))}\n`);

  const { before, after } = await mediaKeepsFlowing(viewer);
  assert.ok(after.videoFrames > before.videoFrames + 10, `viewer frames rise after the fuzz (${before.videoFrames} → ${after.videoFrames})`);
  assert.ok(after.audioBytes > before.audioBytes, 'viewer audio bytes rise after the fuzz');
  assert.equal((await fetch(`${env.server.url}/healthz`)).status, 200);
});
