import { randomInt } from 'node:crypto';
import type { Logger } from '../logger.ts';
import type { Room } from '../rooms/room.ts';
import type { SessionPlan } from './http-session.ts';
import { writePublishAnswer } from './sdp-answer.ts';
import { readPublishOffer } from './sdp-offer.ts';

/** WHIP: the encoder is the room's host; each track it offers becomes a host producer, as if the host page had published it. */
export function publishPlan(room: Room, offerSdp: string, logger: Logger): SessionPlan {
  const offer = readPublishOffer(offerSdp, room.rtpCapabilities);
  return {
    role: 'host',
    direction: 'send',
    offer,
    async run(participant, transport) {
      const log = logger.child({ room: room.id, peer: participant.id });
      for (const section of offer.sections) {
        if ('rejected' in section) {
          log.info({ mid: section.rejected.mid, kind: section.rejected.kind, reason: section.rejected.reason }, 'offer section not taken');
          continue;
        }
        const { kind, rtpParameters, rids } = section.accepted;
        const { producerId } = await room.produce(participant, transport.transportId, kind, rtpParameters);
        log.info({ producerId, kind, codec: rtpParameters.codecs[0]?.mimeType, simulcast: rids }, 'publishing (WHIP)');
      }
      return writePublishAnswer(offer, transport, randomInt(2 ** 31));
    },
  };
}
