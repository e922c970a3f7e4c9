import type { RequestBody, RequestName, ResponseData } from '@onstage/protocol';
import { StateError } from '../errors.ts';
import type { Participant } from '../rooms/participant.ts';
import type { Room } from '../rooms/room.ts';
import type { SignallingSession } from './session.ts';

type Handler<N extends RequestName> = (session: SignallingSession, body: RequestBody<N>) => Promise<ResponseData<N>>;

/** A participant and its room, or NOT_JOINED. */
function joined(session: SignallingSession): { room: Room; participant: Participant } {
  const membership = session.membership;
  if (!membership) throw new StateError('NOT_JOINED', 'join a room first');
  return membership;
}

/** One handler per request; the type makes a missing one a compile error. */
export const requestHandlers: { [N in RequestName]: Handler<N> } = {
  async join(session, { roomId, role, displayName }) {
    const { room, participant } = await session.join(roomId, role, displayName);
    return {
      participantId: participant.id,
      role: participant.role,
      routerRtpCapabilities: room.rtpCapabilities,
      live: room.state === 'live',
      producers: room.producers().filter((p) => p.participantId !== participant.id),
    };
  },

  async createTransport(session, { direction }) {
    const { room, participant } = joined(session);
    return room.createTransport(participant, direction);
  },

  async connectTransport(session, { transportId, dtlsParameters }) {
    await joined(session).participant.media.connectTransport(transportId, dtlsParameters);
    return {};
  },

  async produce(session, { transportId, kind, rtpParameters }) {
    const { room, participant } = joined(session);
    return room.produce(participant, transportId, kind, rtpParameters);
  },

  async closeProducer(session, { producerId }) {
    joined(session).participant.media.closeProducer(producerId);
    return {};
  },

  async consume(session, { transportId, producerId, rtpCapabilities }) {
    return joined(session).participant.media.consume(transportId, producerId, rtpCapabilities);
  },

  async resumeConsumer(session, { consumerId }) {
    await joined(session).participant.media.resumeConsumer(consumerId);
    return {};
  },

  async leave(session) {
    joined(session);
    session.leave();
    return {};
  },
};
