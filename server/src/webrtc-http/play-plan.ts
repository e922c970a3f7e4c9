import { randomInt } from 'node:crypto';
import type { RtpParameters } from '@onstage/protocol';
import type { Logger } from '../logger.ts';
import type { Participant } from '../rooms/participant.ts';
import type { Room } from '../rooms/room.ts';
import type { SessionPlan } from './http-session.ts';
import { writePlayAnswer } from './sdp-answer.ts';
import { readPlayOffer, sameCodec, type CapCodec, type PlaySection } from './sdp-offer.ts';

/**
 * WHEP: a player is a viewer of the room. Each section it offers to receive carries the host's
 * producer of that kind (a standard player shows one picture: the host; co-hosts are in the HLS
 * composite), consumed under the section's mid, in one codec per section: the one the host sends
 * now (or, before the show, the player's first choice), under the player's payload type. The
 * player follows the show: when the host (re)publishes, the new producer goes into the same section.
 */
export function playPlan(room: Room, offerSdp: string, logger: Logger): SessionPlan {
  const offer = readPlayOffer(offerSdp, room.rtpCapabilities);
  const hostProducer = (kind: string) => room.producers().find((p) => p.role === 'host' && p.kind === kind);
  const codecFor = (section: PlaySection): CapCodec => {
    const producer = hostProducer(section.kind);
    const sent = producer && room.producerCodec(producer.producerId);
    return (sent && section.codecs.find((c) => sameCodec(sent, c))) ?? section.codecs[0]!;
  };
  const sections = offer.sections.flatMap((s) => ('accepted' in s ? [{ ...s.accepted, codec: codecFor(s.accepted) }] : []));
  const playing = new Map<string, { producerId: string; consumerId: string; rtpParameters: RtpParameters }>();
  let media: { participant: Participant; transportId: string; log: Logger } | undefined;
  // One change at a time: events can come while a consume is under way.
  let queue = Promise.resolve();

  const follow = () => {
    queue = queue.then(async () => {
      if (!media || media.participant.left) return;
      const { participant, transportId, log } = media;
      for (const section of sections) {
        const producer = hostProducer(section.kind);
        if (!producer || playing.get(section.mid)?.producerId === producer.producerId) continue;
        try {
          const consumer = await room.consume(participant, transportId, producer.producerId, { codecs: [section.codec], headerExtensions: [] }, section.mid);
          await room.resumeConsumer(participant, consumer.consumerId);
          playing.set(section.mid, { producerId: producer.producerId, consumerId: consumer.consumerId, rtpParameters: consumer.rtpParameters });
          log.info({ mid: section.mid, producerId: producer.producerId, codec: consumer.rtpParameters.codecs[0]?.mimeType}, 'playing (WHEP)');
        } catch (err) {
          log.warn({ err, mid: section.mid, codec: section.codec.mimeType }, 'cannot play the host producer in this section');
        }
      }
    });
    return queue;
  };

  return {
    role: 'viewer',
    direction: 'recv',
    offer,
    // Two sections may share a payload type (bundled sections of one codec): the router lists it once.
    ownCodecs: [...new Map(sections.map((s) => [s.codec.preferredPayloadType, s.codec])).values()],
    async run(participant, transport) {
      media = { participant, transportId: transport.transportId, log: logger.child({ room: room.id, peer: participant.id }) };
      await follow();
      const chosen = new Map(sections.map((s) => [s.mid, { codec: s.codec, ...(playing.has(s.mid) ? { sending: playing.get(s.mid)!.rtpParameters } : {}) }]));
      return writePlayAnswer(offer, transport, randomInt(2 ** 31), chosen);
    },
    onEvent(name, body) {
      if (name === 'consumerClosed') {
        const { consumerId } = body as { consumerId: string };
        for (const [mid, p] of playing) if (p.consumerId === consumerId) playing.delete(mid);
      }
      if (name === 'producerAdded' || name === 'consumerClosed') void follow();
    },
  };
}
