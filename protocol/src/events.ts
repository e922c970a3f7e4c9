import { z } from 'zod';
import { ErrorBody } from './errors.ts';
import { ProducerInfo } from './requests.ts';
import { ChatMessage, ParticipantInfo, StageState } from './room-state.ts';
import { MediaCapabilities } from './media.ts';

export const ShowEndReason = z.enum(['host_left', 'host_timeout', 'media_failure', 'server_shutdown', 'ended_by_operator']);
export type ShowEndReason = z.infer<typeof ShowEndReason>;

/** Every server → client event and its body. */
export const serverEvents = {
  /** Sent once, as the connection opens: what a client's device needs before it asks to `receive` in the join. */
  hello: MediaCapabilities,
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
  /** The stage changed; a burst of changes comes as one event with the latest state. */
  stageChanged: StageState,
  /**
   * (host only) Who joined, changed (away, back, on or off stage) or left since the last one; sent
   * at most a few times a second. The whole list is paged with `listParticipants`.
   */
  participantsUpdated: z.object({ updated: z.array(ParticipantInfo), left: z.array(z.string()) }),
  /** How many viewers are connected ("N watching"); sent at most once a second, when it changed. */
  audience: z.object({ viewers: z.number() }),
  chatMessage: ChatMessage,
  chatDeleted: z.object({ messageId: z.string() }),
  /** The loudest stage member right now, or null in silence. */
  activeSpeaker: z.object({ participantId: z.string().nullable() }),
  /**
   * This client was removed from the room (banned, or removed by the operator), replaced by a newer connection of the same
   * person, or disconnected for sending far more requests than its limits allow.
   */
  removed: z.object({ reason: z.enum(['banned', 'removed', 'replaced', 'rate_limited']) }),
  /** This connection's token expires at `expiresAt` (ms): renew it with `renewToken`, or be disconnected then. */
  tokenExpiring: z.object({ expiresAt: z.number() }),
  /** The token expired: the connection closes now; reconnect with a fresh token to resume within the grace period. */
  tokenExpired: z.object({}),
  /** A request sent without an acknowledgement callback failed. */
  requestError: z.object({ request: z.string(), error: ErrorBody }),
} as const;

export type ServerEventName = keyof typeof serverEvents;
export type ServerEvent<N extends ServerEventName> = z.infer<(typeof serverEvents)[N]>;
