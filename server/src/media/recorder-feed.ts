import type { RtpCapabilities } from '@onstage/protocol';
import type { RtpCodec, RtpFeed } from '@onstage/recorder';
import type { Logger } from '../logger.ts';
import type { RoomRouter } from './room-router.ts';

/**
 * The recorder's access to a room's media: for each FFmpeg run, a peer on the primary router with
 * one plain RTP transport (no SRTP, RTCP on its own port, as FFmpeg expects) per producer, sending
 * to the loopback port FFmpeg listens on. Closing the session closes them all.
 */
export function recorderFeed(router: RoomRouter, logger: Logger): RtpFeed {
  return {
    async open(targets) {
      const peer = router.createPeer(logger, true);
      try {
        const codecs: RtpCodec[] = [];
        const consumerIds: string[] = [];
        for (const { producerId, port } of targets) {
          const { transportId } = await peer.createPlainTransport({
            direction: 'recv',
            listenIp: '127.0.0.1',
            comedia: false,
            rtcpMux: false,
            srtp: false,
            connectTo: { ip: '127.0.0.1', port, rtcpPort: port + 1 },
          });
          const consumer = await peer.consume(transportId, producerId, plainReceiver(router.rtpCapabilities));
          const codec = consumer.rtpParameters.codecs[0];
          if (!codec) throw new Error(`consumer of ${producerId} has no codec`);
          codecs.push(codec);
          consumerIds.push(consumer.consumerId);
        }
        return {
          codecs,
          async start() {
            for (const id of consumerIds) await peer.resumeConsumer(id);
            await peer.requestKeyFrames();
          },
          requestKeyFrames: () => peer.requestKeyFrames(),
          close: () => peer.close(),
        };
      } catch (err) {
        peer.close();
        throw err;
      }
    },
  };
}

/**
 * What FFmpeg can receive: the media codecs only, no feedback and no header extensions. Without
 * transport-cc or REMB there is no bandwidth probing, whose padding packets (their own SSRC and
 * sequence numbers) would otherwise land on FFmpeg's video port and derail its RTP reordering.
 */
function plainReceiver(caps: RtpCapabilities): RtpCapabilities {
  return {
    codecs: (caps.codecs ?? []).filter((c) => !c.mimeType.toLowerCase().endsWith('/rtx')).map((c) => ({ ...c, rtcpFeedback: [] })),
    headerExtensions: [],
  };
}
