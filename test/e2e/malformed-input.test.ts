import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { requests, type RequestName } from '@onstage/protocol';
import type { OnstageServer } from '../../server/src/app.ts';
import { eventually, goLive, launchBrowser, mediaKeepsFlowing, openPage, viewerMedia } from '../helpers/browser.ts';
import { startServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/socket-client.ts';

let server: OnstageServer;
let browser: Browser;
let viewer: Page;
const ROOM = 'busy-show';

before(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  const host = await openPage(browser, `${server.url}/host/${ROOM}`);
  await goLive(host);
  viewer = await openPage(browser, `${server.url}/watch/${ROOM}`);
  await eventually(() => viewerMedia(viewer), (m) => m.videoFrames > 10 && m.audioBytes > 0, 20_000);
});
after(async () => {
  await browser?.close();
  await server?.close();
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
  setPreferredQuality: { quality: 'low' },
};
const NAMES = Object.keys(requests) as RequestName[];

test('malformed, oversized, unknown and out-of-order requests get error codes; the show goes on', { timeout: 120_000 }, async () => {
  const bad = await RawClient.connect(server.url, { room: ROOM, role: 'viewer' });
  const seen = new Map<string, string>();
  const expect = async (label: string, code: string, event: string, ...args: unknown[]) => {
    const got = await bad.code(event, ...args);
    seen.set(label, got);
    assert.equal(got, code, label);
  };

  // Out of order: everything but join needs a room first.
  for (const name of NAMES.filter((n) => n !== 'join')) {
    await expect(`${name} before join`, 'NOT_JOINED', name, VALID_SHAPE[name]);
  }

  // Wrong types, missing and extra fields, wrong arity, oversized bodies: for every request.
  for (const name of NAMES) {
    for (const body of [42, 'text', null, [], true]) {
      await expect(`${name} body ${JSON.stringify(body)}`, 'INVALID_PAYLOAD', name, body);
    }
    if (!requests[name].request.safeParse({}).success) await expect(`${name} missing fields`, 'INVALID_PAYLOAD', name, {});
    await expect(`${name} unknown field`, 'INVALID_PAYLOAD', name, { ...VALID_SHAPE[name], admin: true });
    await expect(`${name} no argument`, 'INVALID_PAYLOAD', name);
    await expect(`${name} two arguments`, 'INVALID_PAYLOAD', name, VALID_SHAPE[name], VALID_SHAPE[name]);
    await expect(`${name} 200 kB body`, 'PAYLOAD_TOO_LARGE', name, { ...VALID_SHAPE[name], pad: 'x'.repeat(200_000) });
  }
  await expect('wrong field types', 'INVALID_PAYLOAD', 'join', { roomId: 7, role: 'host' });
  await expect('bad room id', 'INVALID_PAYLOAD', 'join', { roomId: '../../etc', role: 'viewer' });
  await expect('bad role', 'INVALID_PAYLOAD', 'join', { roomId: ROOM, role: 'admin' });
  await expect('unknown request', 'UNKNOWN_REQUEST', 'becomeAdmin', {});

  // A request without an ack callback gets its error as an event instead.
  const eventError = new Promise<{ request: string; error: { code: string } }>((resolve) =>
    bad.socket.once('requestError', resolve),
  );
  bad.socket.emit('consume', 'nonsense');
  const { request, error } = await eventError;
  assert.equal(request, 'consume');
  assert.equal(error.code, 'INVALID_PAYLOAD');

  // Joined as a viewer of the live show: unknown ids, forbidden and repeated requests.
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
  const intruder = await RawClient.connect(server.url, { room: ROOM, role: 'host' });
  assert.equal(await intruder.code('join', { roomId: ROOM, role: 'host' }), 'HOST_ALREADY_PRESENT');
  intruder.close();
  const other = await RawClient.connect(server.url, { room: 'other-show', role: 'host' });
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
  other.close();
  bad.close();

  // The real viewer of the show kept receiving through all of this.
  const { before, after } = await mediaKeepsFlowing(viewer);
  assert.ok(after.videoFrames > before.videoFrames + 10, `viewer frames rise (${before.videoFrames} → ${after.videoFrames})`);
  assert.ok(after.audioBytes > before.audioBytes, 'viewer audio bytes rise');
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  process.stdout.write(`# ${seen.size} bad requests answered with error codes\n`);
});
