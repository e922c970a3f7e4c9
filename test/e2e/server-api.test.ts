import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { WebhookEvent, type ApiRoomDetail, type ApiRoomList } from '@onstage/protocol';
import { eventually, goLive, openPage, useServerAndBrowser, viewerMedia } from '../helpers/browser.ts';

const API_KEY = 'backend';
const API_SECRET = 'an-api-secret-of-at-least-32-characters';
const WEBHOOK_SECRET = 'a-webhook-secret-of-at-least-32-characters';

/**
 * The operator's webhook receiver: checks every delivery's signature (and refuses it when wrong),
 * and is down (503) until `up` is set, as a receiver being deployed would be.
 */
const received: { event: WebhookEvent; signatureOk: boolean }[] = [];
const receiver = { up: false, refused: 0 };
const hook = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (!receiver.up) {
      receiver.refused++;
      res.writeHead(503).end();
      return;
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['onstage-signature'])) ?? [];
    const expected = createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${body}`).digest();
    const signatureOk = v1 !== undefined && timingSafeEqual(Buffer.from(v1, 'hex'), expected) && Math.abs(Date.now() / 1000 - Number(t)) < 300;
    received.push({ event: WebhookEvent.parse(JSON.parse(body)), signatureOk });
    res.writeHead(signatureOk ? 204 : 401).end();
  });
});
await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
after(() => hook.close());

const env = useServerAndBrowser({
  HLS: 'true',
  API_KEY,
  API_SECRET,
  WEBHOOK_URLS: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hooks`,
  WEBHOOK_SECRET,
});

const basic = (key: string, secret: string) => `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
async function api<T>(method: string, path: string, body?: unknown, auth = basic(API_KEY, API_SECRET)): Promise<{ status: number; json: T }> {
  const res = await fetch(`${env.server.url}/api/server${path}`, {
    method,
    headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as T };
}
type ErrorJson = { error: { code: string } };

test('the server API drives a show (list, mute, chat, stage, remove, end) with the API key; webhooks tell every step, signed, after the receiver was down', { timeout: 180_000 }, async () => {
  const room = 'operated';
  // Refused without the key, with a wrong one, and with a viewer's token.
  assert.equal((await api<ErrorJson>('GET', '/rooms', undefined, '')).json.error.code, 'TOKEN_MISSING');
  assert.equal((await api<ErrorJson>('GET', '/rooms', undefined, basic(API_KEY, 'wrong-secret-of-the-same-length-as-it'))).status, 401);
  const viewerToken = ((await (await fetch(`${env.server.url}/api/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ room, role: 'host' }) })).json()) as { token: string }).token;
  assert.equal((await api<ErrorJson>('GET', '/rooms', undefined, `Bearer ${viewerToken}`)).json.error.code, 'TOKEN_MISSING');

  const host = await openPage(env.browser, `${env.server.url}/host/${room}`);
  await goLive(host);
  const viewer = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  await viewer.waitForSelector('.tile video', { timeout: 20_000 });

  const list = await api<ApiRoomList>('GET', '/rooms');
  assert.equal(list.status, 200);
  const listed = list.json.rooms.find((r) => r.room === room);
  assert.ok(listed?.live && listed.participants === 2, `the live room with its two participants: ${JSON.stringify(list.json)}`);
  const detail = (await api<ApiRoomDetail>('GET', `/rooms/${room}`)).json;
  const hostId = detail.stage.seats[0]!.participantId;
  const viewerId = detail.participants.find((p) => p.role === 'viewer')!.participantId;

  // Mute the host's microphone; a system message in the chat.
  assert.equal((await api('POST', `/rooms/${room}/participants/${hostId}/mute`, { kind: 'audio', muted: true })).status, 200);
  const muted = (await api<ApiRoomDetail>('GET', `/rooms/${room}`)).json.stage.seats[0]!.muted;
  assert.equal(muted.audio, true, 'the host is muted');
  assert.equal((await api('POST', `/rooms/${room}/chat`, { text: 'Welcome to the show' })).status, 200);
  await viewer.waitForFunction(() => document.querySelector('#chat')?.textContent?.includes('Welcome to the show'), undefined, { timeout: 10_000 });

  // Bring the viewer on stage (an invitation the viewer accepts), then off again.
  assert.equal((await api('POST', `/rooms/${room}/participants/${viewerId}/stage`, { onStage: true })).status, 200);
  await viewer.locator('#accept-invite').click({ timeout: 10_000 });
  await eventually(async () => (await api<ApiRoomDetail>('GET', `/rooms/${room}`)).json.stage.seats.length, (n) => n === 2, 15_000);
  // On stage, the viewer publishes: the host decodes their camera.
  await eventually(() => viewerMedia(host), (m) => (m.byParticipant[viewerId]?.framesDecoded ?? 0) > 5, 20_000);
  assert.equal((await api('POST', `/rooms/${room}/participants/${viewerId}/stage`, { onStage: false })).status, 200);
  await eventually(async () => (await api<ApiRoomDetail>('GET', `/rooms/${room}`)).json.stage.seats.length, (n) => n === 1, 15_000);

  // Bad input: clear codes, nothing harmed.
  assert.equal((await api<ErrorJson>('POST', `/rooms/${room}/participants/${viewerId}/mute`, { kind: 'smell', muted: true })).json.error.code, 'INVALID_PAYLOAD');
  assert.equal((await api<ErrorJson>('POST', `/rooms/${room}/participants/nobody/mute`, { kind: 'audio', muted: true })).json.error.code, 'PARTICIPANT_NOT_FOUND');
  assert.equal((await api<ErrorJson>('GET', '/rooms/not-open')).json.error.code, 'NOT_FOUND');
  assert.equal((await api<ErrorJson>('PUT', `/rooms/${room}`)).json.error.code, 'METHOD_NOT_ALLOWED');

  // Remove the viewer, then end the show.
  assert.equal((await api('DELETE', `/rooms/${room}/participants/${viewerId}`)).status, 200);
  await viewer.waitForFunction(() => document.querySelector('#overlay')?.textContent?.includes('removed'), undefined, { timeout: 10_000 });
  assert.equal((await api('DELETE', `/rooms/${room}`)).status, 200);
  await host.waitForFunction(() => document.body.textContent?.includes('ended by the service'), undefined, { timeout: 10_000 });
  assert.ok(!(await api<ApiRoomList>('GET', '/rooms')).json.rooms.some((r) => r.room === room), 'the room is gone');

  // The receiver comes up: every event arrives, signed, in order, once the recording is ready.
  const refusedWhileDown = receiver.refused;
  receiver.up = true;
  const events = await eventually(async () => received.map((r) => r.event), (e) => e.some((x) => x.event === 'recording_ready'), 60_000);
  assert.ok(refusedWhileDown > 0, 'deliveries were refused while the receiver was down');
  assert.ok(received.every((r) => r.signatureOk), 'every delivery is signed with the webhook secret');
  assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'each event once (no duplicates after the retries)');
  const names = events.map((e) => e.event);
  for (const name of ['room_started', 'participant_joined', 'track_published', 'stage_changed', 'recording_started', 'track_unpublished', 'participant_left', 'room_finished', 'recording_ready'] as const) {
    assert.ok(names.includes(name), `${name} delivered: ${names.join(', ')}`);
  }
  const at = (pred: (e: WebhookEvent) => boolean) => events.findIndex(pred);
  const order = [
    at((e) => e.event === 'room_started'),
    at((e) => e.event === 'participant_joined' && e.participant?.participantId === viewerId),
    at((e) => e.event === 'track_published' && e.track?.participantId === viewerId),
    at((e) => e.event === 'track_unpublished' && e.track?.participantId === viewerId),
    at((e) => e.event === 'participant_left' && e.participant?.participantId === viewerId),
    at((e) => e.event === 'room_finished'),
    at((e) => e.event === 'recording_ready'),
  ];
  assert.deepEqual([...order].sort((a, b) => a - b), order, `in the order they happened: ${names.join(', ')}`);
  assert.ok(order.every((i) => i >= 0));
  assert.ok(events.every((e, i) => i === 0 || e.createdAt >= events[i - 1]!.createdAt), 'delivered in the order they were made');
  const metrics = await (await fetch(`${env.server.url}/metrics`)).text();
  assert.match(metrics, /onstage_webhook_deliveries_total\{result="failed"\} [1-9]/);

  // The recording, through the API: listed, then deleted.
  const recording = events.find((e) => e.event === 'recording_ready')!.recording!;
  const recordings = await api<{ recordings: { id: string }[] }>('GET', `/recordings?room=${room}`);
  assert.ok(recordings.json.recordings.some((r) => r.id === recording.id), 'the recording is listed');
  assert.equal((await api('DELETE', `/recordings/${recording.id}`)).status, 200);
  assert.equal((await api<ErrorJson>('GET', `/recordings/${recording.id}`)).json.error.code, 'NOT_FOUND');

  // The API describes itself (no credentials needed for the description).
  const openapi = (await (await fetch(`${env.server.url}/api/server/openapi.json`)).json()) as { paths: Record<string, unknown> };
  assert.ok(openapi.paths['/api/server/rooms/{room}/participants/{participant}/mute'], 'the OpenAPI document is served');
});
