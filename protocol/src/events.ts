import { z } from 'zod';
import { ErrorBody } from './errors.ts';
import { ProducerInfo } from './requests.ts';
import { ChatMessage, ParticipantInfo, StageState } from './room-state.ts';

export const ShowEndReason = z.enum(['host_left', 'host_timeout', 'media_failure', 'server_shutdown']);
export type ShowEndReason = z.infer<typeof ShowEndReason>;

/** Every server → client event and its body. */
export const serverEvents = {
  /** The host joined: the show is live (media follows as producerAdded). */
  showStarted: z.object({ hostId: z.string() }),
  /** The host left or the room failed: every consumer of the show is closed. */
  showEnded: z.object({ reason: ShowEndReason }),
  producerAdded: ProducerInfo,
  producerClosed: z.object({ producerId: z.string() }),
  /** One of this client's consumers was closed by the server (its producer or transport went away). */
  consumerClosed: z.object({ consumerId: z.string() }),
  /** A producer was paused or resumed (e.g. the host muted a co-host). */
  producerPaused: z.object({ producerId: z.string(), paused: z.boolean() }),
  /** The host's connection dropped; the show ends at `until` (server ms) unless the host returns. */
  hostAway: z.object({ until: z.number() }),
  hostBack: z.object({}),
  stageChanged: StageState,
  /** (host only) who is in the room. */
  participantsChanged: z.object({ participants: z.array(ParticipantInfo) }),
  chatMessage: ChatMessage,
  chatDeleted: z.object({ messageId: z.string() }),
  /** The loudest stage member right now, or null in silence. */
  activeSpeaker: z.object({ participantId: z.string().nullable() }),
  /** This client was removed from the room (banned) or replaced by a newer connection of the same person. */
  removed: z.object({ reason: z.enum(['banned', 'replaced']) }),
  /** A request sent without an acknowledgement callback failed. */
  requestError: z.object({ request: z.string(), error: ErrorBody }),
} as const;

export type ServerEventName = keyof typeof serverEvents;
export type ServerEvent<N extends ServerEventName> = z.infer<(typeof serverEvents)[N]>;
