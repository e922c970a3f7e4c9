import wrtc from '@roamhq/wrtc';
import { Device } from 'mediasoup-client';
import type { DtlsParameters, MediaKind, RtpCapabilities, RtpParameters, TransportOptions } from '@onstage/protocol';
import { toTransportOptions } from '../../client-sdk/src/transport-options.ts';

// mediasoup-client's Chrome handler drives the WebRTC API of the global scope; in Node that is
// libwebrtc from @roamhq/wrtc.
Object.assign(globalThis, {
  RTCPeerConnection: wrtc.RTCPeerConnection,
  RTCSessionDescription: wrtc.RTCSessionDescription,
  RTCIceCandidate: wrtc.RTCIceCandidate,
  MediaStream: wrtc.MediaStream,
  MediaStreamTrack: wrtc.MediaStreamTrack,
});

/** The server side of one receiving WebRTC peer, as the signalling layer would reach it. */
export type WebRtcViewerServer = {
  routerRtpCapabilities: RtpCapabilities;
  producerIds: string[];
  createRecvTransport(): Promise<TransportOptions>;
  connect(transportId: string, dtlsParameters: DtlsParameters): Promise<void>;
  consume(transportId: string, producerId: string, rtpCapabilities: RtpCapabilities): Promise<{ consumerId: string; kind: MediaKind; rtpParameters: RtpParameters }>;
  resume(consumerId: string): Promise<void>;
};

export type WebRtcViewer = {
  /** Video frames libwebrtc has decoded so far (no sink: converting frames in JS would cap the rate). */
  framesDecoded(): Promise<number>;
  close(): void;
};

/** A real WebRTC viewer (ICE, DTLS, SRTP, VP8 decoding in libwebrtc) built with mediasoup-client. */
export async function startWebRtcViewer(server: WebRtcViewerServer): Promise<WebRtcViewer> {
  const device = await Device.factory({ handlerName: 'Chrome111' });
  await device.load({ routerRtpCapabilities: server.routerRtpCapabilities as Parameters<Device['load']>[0]['routerRtpCapabilities'] });
  const options = await server.createRecvTransport();
  const transport = device.createRecvTransport(toTransportOptions(options));
  transport.on('connect', ({ dtlsParameters }, ok, fail) => {
    server.connect(transport.id, dtlsParameters as DtlsParameters).then(ok, fail);
  });
  for (const producerId of server.producerIds) {
    const c = await server.consume(transport.id, producerId, device.rtpCapabilities as RtpCapabilities);
    await transport.consume({ id: c.consumerId, producerId, kind: c.kind, rtpParameters: c.rtpParameters as Parameters<typeof transport.consume>[0]['rtpParameters'] });
    await server.resume(c.consumerId);
  }
  return {
    async framesDecoded() {
      // The peer connection's report: wrtc has no per-receiver getStats.
      let frames = 0;
      (await transport.getStats()).forEach((s: { type: string; kind?: string; framesDecoded?: number }) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
      });
      return frames;
    },
    close() {
      transport.close();
    },
  };
}
