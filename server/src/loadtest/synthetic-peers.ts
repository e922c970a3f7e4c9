import type { DtlsParameters, MediaKind, RtpCapabilities, RtpParameters } from '@onstage/protocol';
import type { Connection, Participant } from '../rooms/participant.ts';
import type { Room } from '../rooms/room.ts';
import type { ServedRoom } from '../rooms/room-registry.ts';

/**
 * Load-test entry points: participants without a browser that go through the same Room (or
 * EdgeRoom) and PeerMedia code as real ones, over plain RTP transports. Used by the capacity and
 * cluster benchmarks.
 */

let silentSerial = 0;
/** A connection that delivers nothing: synthetic peers need no events. */
const silent = (): Connection => ({ id: `synthetic-${++silentSerial}`, notify: () => undefined, close: () => undefined });

export type PlainSource = { kind: MediaKind; rtpParameters: RtpParameters };

/** A host fed by plain RTP (e.g. FFmpeg): one comedia transport per track; returns where to send. */
export async function joinPlainHost(
  room: Room,
  identity: string,
  sources: PlainSource[],
  listenIp: string,
): Promise<{ participantId: string; ports: { kind: MediaKind; port: number; rtcpPort: number }[]; stats: () => ReturnType<Room['producerStats']> }> {
  const { participant } = room.join({ identity, displayName: identity, role: 'host', connection: silent() });
  const ports = [];
  for (const source of sources) {
    // One comedia transport per track: FFmpeg sends each stream (and its RTCP) from its own ports.
    const t = await room.createPlainTransport(participant, {
      direction: 'send',
      listenIp,
      comedia: true,
      rtcpMux: false,
      srtp: false,
    });
    await room.produce(participant, t.transportId, source.kind, source.rtpParameters);
    ports.push({ kind: source.kind, port: t.port, rtcpPort: t.rtcpPort ?? t.port });
  }
  return { participantId: participant.id, ports, stats: () => room.producerStats(participant) };
}

/**
 * A viewer that receives the room's producers over one SRTP plain transport sent to `sink`. Its
 * capabilities leave out transport-cc: a sink that sends no feedback would make the worker keep a
 * growing send history.
 */
export async function joinSyntheticViewer(
  room: ServedRoom,
  identity: string,
  sink: { ip: string; port: number },
  listenIp: string,
): Promise<{ participantId: string; leave(): void }> {
  const { participant, welcome } = await room.enter({ identity, displayName: identity, role: 'viewer', connection: silent() });
  const t = await room.createPlainTransport(participant, {
    direction: 'recv',
    listenIp,
    comedia: false,
    rtcpMux: true,
    srtp: true,
    connectTo: sink,
  });
  const caps = withoutTransportCc(welcome.routerRtpCapabilities);
  for (const p of welcome.producers) {
    const { consumerId } = await room.consume(participant, t.transportId, p.producerId, caps);
    await room.resumeConsumer(participant, consumerId);
  }
  return { participantId: participant.id, leave: () => room.leave(participant) };
}

export function withoutTransportCc(caps: RtpCapabilities): RtpCapabilities {
  return {
    codecs: caps.codecs?.map((c) => ({ ...c, rtcpFeedback: (c.rtcpFeedback ?? []).filter((f) => f.type !== 'transport-cc') })),
    headerExtensions: caps.headerExtensions?.filter((h) => !h.uri.includes('transport-wide-cc')),
  };
}

/**
 * A viewer whose client runs in-process (e.g. mediasoup-client on libwebrtc): the same calls the
 * signalling handlers make for a browser, without a socket.
 */
export async function joinInProcessViewer(room: ServedRoom, identity: string) {
  const { participant, welcome } = await room.enter({ identity, displayName: identity, role: 'viewer', connection: silent() });
  return {
    routerRtpCapabilities: welcome.routerRtpCapabilities,
    producerIds: welcome.producers.map((p) => p.producerId),
    createRecvTransport: () => room.createTransport(participant, 'recv'),
    connect: (transportId: string, dtlsParameters: DtlsParameters) => room.connectTransport(participant, transportId, dtlsParameters),
    consume: (transportId: string, producerId: string, caps: RtpCapabilities) => room.consume(participant, transportId, producerId, caps),
    resume: (consumerId: string) => room.resumeConsumer(participant, consumerId),
    leave: () => room.leave(participant),
  };
}
