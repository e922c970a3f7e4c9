import { PARTICIPANT_PAGE_MAX, type RequestBody, type RequestName, type ResponseData } from '@onstage/protocol';
import { StateError } from '../errors.ts';
import type { Participant } from '../rooms/participant.ts';
import type { Room } from '../rooms/room.ts';
import type { ServedRoom } from '../rooms/room-registry.ts';
import type { SignallingSession } from './session.ts';
import { receiveAtJoin } from './receive-at-join.ts';

/**
 * Requests about the room's shared state (stage, chat, moderation). They run where the room's
 * origin is: here, or, for a participant an edge node serves, on the origin (the edge forwards them).
 */
export const ROOM_REQUESTS = [
  'requestStage',
  'cancelStageRequest',
  'leaveStage',
  'answerInvite',
  'inviteToStage',
  'answerStageRequest',
  'removeFromStage',
  'mute',
  'sendChat',
  'deleteChat',
  'ban',
  'listParticipants',
] as const satisfies readonly RequestName[];
export type RoomRequestName = (typeof ROOM_REQUESTS)[number];

const roomRequestNames = new Set<string>(ROOM_REQUESTS);
export function isRoomRequest(name: RequestName): name is RoomRequestName {
  return roomRequestNames.has(name);
}

type RoomHandler<N extends RoomRequestName> = (room: Room, me: Participant, body: RequestBody<N>) => Promise<ResponseData<N>>;

/** Runs a room call that answers with nothing. */
const act =
  <N extends RoomRequestName>(fn: (room: Room, me: Participant, body: RequestBody<N>) => void | Promise<void>): RoomHandler<N> =>
  async (room, me, body) => {
    await fn(room, me, body);
    return {} as ResponseData<N>;
  };

/** One handler per room request, run on the room's origin. */
export const roomRequestHandlers: { [N in RoomRequestName]: RoomHandler<N> } = {
  requestStage: act((room, me) => room.requestStage(me)),
  cancelStageRequest: act((room, me) => room.cancelStageRequest(me)),
  leaveStage: act((room, me) => room.leaveStage(me)),
  answerInvite: act((room, me, { accept }) => room.answerInvite(me, accept)),
  inviteToStage: act((room, me, { participantId }) => room.inviteToStage(me, participantId)),
  answerStageRequest: act((room, me, { participantId, accept }) => room.answerStageRequest(me, participantId, accept)),
  removeFromStage: act((room, me, { participantId }) => room.removeFromStage(me, participantId)),
  mute: act((room, me, { participantId, kind, muted }) => room.mute(me, participantId, kind, muted)),
  async sendChat(room, me, { text }) {
    return { messageId: room.sendChat(me, text).messageId };
  },
  deleteChat: act((room, me, { messageId }) => room.deleteChat(me, messageId)),
  ban: act((room, me, { participantId }) => room.ban(me, participantId)),
  async listParticipants(room, me, { after, limit }) {
    return room.listParticipants(me, after === undefined ? 0 : Number(after), limit ?? PARTICIPANT_PAGE_MAX);
  },
};

type Handler<N extends RequestName> = (session: SignallingSession, body: RequestBody<N>) => Promise<ResponseData<N>>;

/** A participant and its room, or NOT_JOINED. */
function joined(session: SignallingSession): { room: ServedRoom; participant: Participant } {
  const membership = session.membership;
  if (!membership) throw new StateError('NOT_JOINED', 'join a room first');
  return membership;
}

/** Runs a media call that answers with nothing. */
async function media(session: SignallingSession, fn: (room: ServedRoom, me: Participant) => void | Promise<void>) {
  const { room, participant } = joined(session);
  await fn(room, participant);
  return {};
}

/**
 * One handler per session or media request (media is always served by the node the client is
 * connected to); with `roomRequestHandlers`, the types make a missing handler a compile error.
 */
export const requestHandlers: { [N in Exclude<RequestName, RoomRequestName>]: Handler<N> } = {
  async join(session, { roomId, role, receive }) {
    const { room, participant, welcome } = await session.join(roomId, role);
    if (!receive) return welcome;
    return { ...welcome, receive: await receiveAtJoin(room, participant, welcome.producers, receive, session.logger) };
  },

  async createTransport(session, { direction }) {
    const { room, participant } = joined(session);
    return room.createTransport(participant, direction);
  },

  connectTransport: (session, { transportId, dtlsParameters }) => media(session, (room, me) => room.connectTransport(me, transportId, dtlsParameters)),

  async produce(session, { transportId, kind, rtpParameters, videoHeight }) {
    const { room, participant } = joined(session);
    return room.produce(participant, transportId, kind, rtpParameters, videoHeight);
  },

  closeProducer: (session, { producerId }) => media(session, (room, me) => room.closeProducer(me, producerId)),

  async consume(session, { transportId, producerId, rtpCapabilities }) {
    const { room, participant } = joined(session);
    return room.consume(participant, transportId, producerId, rtpCapabilities);
  },

  resumeConsumer: (session, { consumerId }) => media(session, (room, me) => room.resumeConsumer(me, consumerId)),
  setPreferredQuality: (session, { quality }) => media(session, (room, me) => room.setPreferredQuality(me, quality)),

  async leave(session) {
    joined(session);
    session.leave();
    return {};
  },

  async renewToken(session, { token }) {
    return { expiresAt: session.renewToken(token) };
  },
};

/** Runs a room request for a participant of a room served here: on this node's room, or forwarded to its origin. */
export async function runRoomRequest<N extends RoomRequestName>(room: ServedRoom, me: Participant, name: N, body: RequestBody<N>): Promise<ResponseData<N>> {
  if (room.kind === 'edge') return room.forward(me, name, body) as Promise<ResponseData<N>>;
  return roomRequestHandlers[name](room, me, body);
}
