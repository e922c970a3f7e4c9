import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ConsumerInfo, ResponseData, RtpCapabilities } from '@onstage/protocol';
import type { OnstageServer } from '../../server/src/app.ts';
import { startServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/socket-client.ts';

let server: OnstageServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

/** A host with a video and an audio producer (no media needs to flow for consumers to be made). */
async function hostWithTracks(room: string): Promise<{ host: RawClient; producerIds: string[] }> {
  const host = await RawClient.connect(server.url, { room, role: 'host' });
  await host.ok('join', { roomId: room, role: 'host' });
  const { transportId } = await host.ok<{ transportId: string }>('createTransport', { direction: 'send' });
  const tracks = [
    { kind: 'video', rtpParameters: { mid: '0', codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }], encodings: [{ ssrc: 1111 }] } },
    { kind: 'audio', rtpParameters: { mid: '1', codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 2222 }] } },
  ];
  const producerIds = [];
  for (const t of tracks) producerIds.push((await host.ok<{ producerId: string }>('produce', { transportId, ...t })).producerId);
  return { host, producerIds };
}

test('the connection opens with the router capabilities every room of the node has (also at GET /api/rtp-capabilities)', async () => {
  const viewer = await RawClient.connect(server.url, { room: 'caps', role: 'viewer' });
  const { routerRtpCapabilities } = await viewer.hello;
  const joined = await viewer.ok<ResponseData<'join'>>('join', { roomId: 'caps', role: 'viewer' });
  assert.deepEqual(joined.routerRtpCapabilities, routerRtpCapabilities);
  // The same over HTTP, for any page (no token, any origin), so a device can load while connecting.
  const res = await fetch(`${server.url}/api/rtp-capabilities`, { headers: { origin: 'http://app.example' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.deepEqual(await res.json(), { routerRtpCapabilities });
  assert.equal(joined.receive, undefined, 'no receive side unless asked for');
  viewer.close();
});

test('a join that asks to receive gets its receive transport and a consumer of every producer', async () => {
  const { host, producerIds } = await hostWithTracks('receive');
  const viewer = await RawClient.connect(server.url, { room: 'receive', role: 'viewer' });
  const { routerRtpCapabilities } = await viewer.hello;
  const joined = await viewer.ok<ResponseData<'join'>>('join', { roomId: 'receive', role: 'viewer', receive: { rtpCapabilities: routerRtpCapabilities, quality: 'low' } });
  assert.ok(joined.receive, 'the answer carries the receive side');
  assert.ok(joined.receive.transport.transportId);
  assert.ok(joined.receive.transport.iceCandidates.length > 0, 'with ICE candidates');
  assert.deepEqual(joined.receive.consumers.map((c: ConsumerInfo) => c.producerId).sort(), [...producerIds].sort());
  assert.deepEqual(joined.receive.consumers.map((c) => c.kind).sort(), ['audio', 'video']);
  // The consumers are the client's own: known to the server under their ids, on that transport.
  for (const c of joined.receive.consumers) await viewer.ok('resumeConsumer', { consumerId: c.consumerId });
  // The transport is the one a connect goes to (a second one for the same direction would replace it).
  assert.equal(await viewer.code('connectTransport', { transportId: 'nope', dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] } }), 'TRANSPORT_NOT_FOUND');
  await viewer.ok('connectTransport', { transportId: joined.receive.transport.transportId, dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB' }] } });
  viewer.close();
  host.close();
});

test('receive capabilities that cannot take a producer leave it out; bad ones are INVALID_PAYLOAD', async () => {
  const { host, producerIds } = await hostWithTracks('audio-only');
  const viewer = await RawClient.connect(server.url, { room: 'audio-only', role: 'viewer' });
  const { routerRtpCapabilities } = await viewer.hello;
  assert.equal(await viewer.code('join', { roomId: 'audio-only', role: 'viewer', receive: { rtpCapabilities: { codecs: 'opus' } } }), 'INVALID_PAYLOAD');
  const audioOnly: RtpCapabilities = { ...routerRtpCapabilities, codecs: routerRtpCapabilities.codecs?.filter((c) => c.kind === 'audio') };
  const joined = await viewer.ok<ResponseData<'join'>>('join', { roomId: 'audio-only', role: 'viewer', receive: { rtpCapabilities: audioOnly } });
  assert.deepEqual(joined.receive?.consumers.map((c) => c.kind), ['audio'], 'only the producer these capabilities can receive');
  // The video is consumed the usual way, and refused with a reason.
  const video = producerIds[0]!;
  assert.equal(await viewer.code('consume', { transportId: joined.receive!.transport.transportId, producerId: video, rtpCapabilities: audioOnly }), 'CANNOT_CONSUME');
  viewer.close();
  host.close();
});
