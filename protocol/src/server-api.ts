import { z } from 'zod';
import { RoomId } from './ids.ts';
import { MediaKind } from './media.ts';
import { Recording } from './recordings.ts';
import { ParticipantInfo, StageState } from './room-state.ts';

/**
 * The server API: what an operator's backend sends and gets back (HTTP + JSON under /api/server/,
 * authenticated with the API key and secret, never with a participant's token).
 */

/** One room as GET /api/server/rooms lists it. */
export const ApiRoom = z.object({
  room: RoomId,
  /** The node that holds the room's state (its origin). */
  node: z.string(),
  live: z.boolean(),
  participants: z.number(),
  viewers: z.number(),
});
export type ApiRoom = z.infer<typeof ApiRoom>;

export const ApiRoomList = z.object({
  rooms: z.array(ApiRoom),
  /** Cluster nodes that did not answer in time (their rooms are missing). */
  unansweredNodes: z.array(z.string()).optional(),
});
export type ApiRoomList = z.infer<typeof ApiRoomList>;

export const ApiRoomDetail = ApiRoom.extend({ stage: StageState, participants: z.array(ParticipantInfo) });
export type ApiRoomDetail = z.infer<typeof ApiRoomDetail>;

/** POST …/participants/<id>/mute */
export const ApiMute = z.object({ kind: MediaKind, muted: z.boolean() });
export type ApiMute = z.infer<typeof ApiMute>;

/** POST …/participants/<id>/stage: on (an invitation the participant's app answers) or off. */
export const ApiStageMove = z.object({ onStage: z.boolean() });
export type ApiStageMove = z.infer<typeof ApiStageMove>;

/** POST …/chat: a message from the system (the operator), shown to everyone in the room. */
export const ApiSystemChat = z.object({ text: z.string().trim().min(1).max(500) });
export type ApiSystemChat = z.infer<typeof ApiSystemChat>;

/** POST /api/server/drain: how long to wait for the node's shows to end (default: DRAIN_TIMEOUT_MS, or 10 min). */
export const ApiDrain = z.strictObject({ timeoutMs: z.number().int().min(0).max(86_400_000).optional() });
export type ApiDrain = z.infer<typeof ApiDrain>;

export const WebhookEventName = z.enum([
  'room_started',
  'room_finished',
  'participant_joined',
  'participant_left',
  'stage_changed',
  'track_published',
  'track_unpublished',
  'recording_started',
  'recording_ready',
  'recording_failed',
  'node_draining',
]);
export type WebhookEventName = z.infer<typeof WebhookEventName>;

/**
 * One webhook delivery's body. Signed: `Onstage-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>" with the webhook secret>`; a receiver recomputes it and refuses old timestamps.
 */
export const WebhookEvent = z.object({
  /** Unique per event (the same on every retry of it): a receiver drops repeats by it. */
  id: z.string().uuid(),
  event: WebhookEventName,
  /** Milliseconds since the epoch, when it happened. */
  createdAt: z.number(),
  node: z.string(),
  room: RoomId.optional(),
  participant: ParticipantInfo.optional(),
  stage: StageState.optional(),
  track: z.object({ producerId: z.string(), participantId: z.string(), kind: MediaKind }).optional(),
  recording: Recording.optional(),
  reason: z.string().optional(),
});
export type WebhookEvent = z.infer<typeof WebhookEvent>;
