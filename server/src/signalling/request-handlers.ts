import { PARTICIPANT_PAGE_MAX, type RequestBody, type RequestName, type ResponseData } from '@onstage/protocol';
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

/** Runs a room call that answers with nothing. */
async function act(session: SignallingSession, fn: (room: Room, me: Participant) => void | Promise<void>) {
  const { room, participant } = joined(session);
  await fn(room, participant);
  return {};
}

/** One handler per request; the type makes a missing one a compile error. */
export const requestHandlers: { [N in RequestName]: Handler<N> } = {
  async join(session, { roomId, role }) {
    const { room, participant, resumed } = await session.join(roomId, role);
    return {
      participantId: participant.id,
      role: participant.role,
      resumed,
      routerRtpCapabilities: room.rtpCapabilities,
      live: room.state === 'live',
      ...(room.hostAwayUntil !== undefined ? { hostAwayUntil: room.hostAwayUntil } : {}),
      producers: room.producers().filter((p) => p.participantId !== participant.id),
      stage: room.stageState(),
      chat: room.chatHistory(),
      viewers: room.viewers,
    };
  },

  async createTransport(session, { direction }) {
    const { room, participant } = joined(session);
    return room.createTransport(participant, direction);
  },

  connectTransport: (session, { transportId, dtlsParameters }) => act(session, (room, me) => room.connectTransport(me, transportId, dtlsParameters)),

  async produce(session, { transportId, kind, rtpParameters, videoHeight }) {
    const { room, participant } = joined(session);
    return room.produce(participant, transportId, kind, rtpParameters, videoHeight);
  },

  closeProducer: (session, { producerId }) => act(session, (room, me) => room.closeProducer(me, producerId)),

  async consume(session, { transportId, producerId, rtpCapabilities }) {
    const { room, participant } = joined(session);
    return room.consume(participant, transportId, producerId, rtpCapabilities);
  },

  resumeConsumer: (session, { consumerId }) => act(session, (room, me) => room.resumeConsumer(me, consumerId)),

  async leave(session) {
    joined(session);
    session.leave();
    return {};
  },

  requestStage: (session) => act(session, (room, me) => room.requestStage(me)),
  cancelStageRequest: (session) => act(session, (room, me) => room.cancelStageRequest(me)),
  leaveStage: (session) => act(session, (room, me) => room.leaveStage(me)),
  answerInvite: (session, { accept }) => act(session, (room, me) => room.answerInvite(me, accept)),
  inviteToStage: (session, { participantId }) => act(session, (room, me) => room.inviteToStage(me, participantId)),
  answerStageRequest: (session, { participantId, accept }) => act(session, (room, me) => room.answerStageRequest(me, participantId, accept)),
  removeFromStage: (session, { participantId }) => act(session, (room, me) => room.removeFromStage(me, participantId)),
  mute: (session, { participantId, kind, muted }) => act(session, (room, me) => room.mute(me, participantId, kind, muted)),

  async sendChat(session, { text }) {
    const { room, participant } = joined(session);
    return { messageId: room.sendChat(participant, text).messageId };
  },
  deleteChat: (session, { messageId }) => act(session, (room, me) => room.deleteChat(me, messageId)),
  ban: (session, { participantId }) => act(session, (room, me) => room.ban(me, participantId)),
  async listParticipants(session, { after, limit }) {
    const { room, participant } = joined(session);
    return room.listParticipants(participant, after === undefined ? 0 : Number(after), limit ?? PARTICIPANT_PAGE_MAX);
  },
  async renewToken(session, { token }) {
    return { expiresAt: session.renewToken(token) };
  },
  setPreferredQuality: (session, { quality }) => act(session, (room, me) => room.setPreferredQuality(me, quality)),
};
