import { z } from 'zod';
import type { ErrorBody } from './errors.ts';
import { ChatMessage, ParticipantInfo, StageState } from './room-state.ts';
import { DtlsParameters, MediaKind, RtpCapabilities, RtpParameters, TransportOptions } from './media.ts';

/** Largest request body the server accepts (serialized JSON). Bigger ones get PAYLOAD_TOO_LARGE. */
export const MAX_REQUEST_BYTES = 64 * 1024;

export { Role, RoomId } from './ids.ts';
import { Role, RoomId } from './ids.ts';

const Id = z.string().min(1).max(128);

/** Longest access token accepted. */
export const MAX_TOKEN_LENGTH = 4096;

/** Largest page of `listParticipants`. */
export const PARTICIPANT_PAGE_MAX = 200;

export const ProducerInfo = z.object({
  producerId: z.string(),
  participantId: z.string(),
  /** 'host' for the host's media, 'viewer' for a co-host's (a viewer on stage). */
  role: Role,
  kind: MediaKind,
  paused: z.boolean(),
  /** Height of the sender's video as captured (the HLS ladder is capped by the host's). */
  videoHeight: z.number().optional(),
});
export type ProducerInfo = z.infer<typeof ProducerInfo>;

export const Quality = z.enum(['low', 'medium', 'high', 'auto']);
export type Quality = z.infer<typeof Quality>;

const Empty = z.strictObject({});

/** A consumer the server made for this client: what its receive transport needs to add the track. */
export const ConsumerInfo = z.object({
  consumerId: z.string(),
  producerId: z.string(),
  kind: MediaKind,
  rtpParameters: RtpParameters,
});
export type ConsumerInfo = z.infer<typeof ConsumerInfo>;

/**
 * Every client → server request: its body and the data of a successful acknowledgement.
 * The event name is the key. Each request gets exactly one ack: `{ ok: true, data }` or `{ ok: false, error }`.
 */
export const requests = {
  join: {
    /** Room and role must match the access token the connection was opened with. */
    request: z.strictObject({
      roomId: RoomId,
      role: Role,
      /**
       * Receive over WebRTC from the start: the server makes this client's receive transport and a
       * running consumer of every producer in the room, and answers with them (`receive`), so media
       * starts without more requests than connecting the transport. `rtpCapabilities` come from a
       * device loaded with the capabilities of the `hello` event.
       */
      receive: z.strictObject({ rtpCapabilities: RtpCapabilities, quality: Quality.optional() }).optional(),
    }),
    response: z.object({
      participantId: z.string(),
      role: Role,
      /** True when this is the same participant coming back within the grace period. */
      resumed: z.boolean(),
      routerRtpCapabilities: RtpCapabilities,
      live: z.boolean(),
      /** The host dropped and has until this time (server ms) to come back. */
      hostAwayUntil: z.number().optional(),
      producers: z.array(ProducerInfo),
      stage: StageState,
      chat: z.array(ChatMessage),
      /** Viewers connected now ("N watching"); `audience` events follow. */
      viewers: z.number(),
      /** Other nodes of the cluster (their URLs) to go on on if this one stops answering; empty on a single node. */
      nodes: z.array(z.string()),
      /**
       * (when `receive` was asked) The receive transport and a consumer per producer it could receive,
       * already running (no `resumeConsumer`). Missing when the media layer failed: then create the
       * transport and consume as usual. Producers without a consumer here are consumed as usual too.
       */
      receive: z.object({ transport: TransportOptions, consumers: z.array(ConsumerInfo) }).optional(),
    }),
  },
  createTransport: {
    request: z.strictObject({ direction: z.enum(['send', 'recv']) }),
    response: TransportOptions,
  },
  connectTransport: {
    request: z.strictObject({ transportId: Id, dtlsParameters: DtlsParameters }),
    response: Empty,
  },
  produce: {
    request: z.strictObject({
      transportId: Id,
      kind: MediaKind,
      rtpParameters: RtpParameters,
      /** For video: the captured height (track settings), which caps the HLS ladder. */
      videoHeight: z.number().int().min(16).max(4320).optional(),
    }),
    response: z.object({ producerId: z.string() }),
  },
  closeProducer: {
    request: z.strictObject({ producerId: Id }),
    response: Empty,
  },
  consume: {
    request: z.strictObject({ transportId: Id, producerId: Id, rtpCapabilities: RtpCapabilities }),
    response: ConsumerInfo,
  },
  resumeConsumer: {
    request: z.strictObject({ consumerId: Id }),
    response: Empty,
  },
  leave: {
    request: Empty,
    response: Empty,
  },

  // The stage (co-hosting). Viewers ask and answer invitations; the host invites, answers, removes, mutes.
  requestStage: { request: Empty, response: Empty },
  cancelStageRequest: { request: Empty, response: Empty },
  answerInvite: { request: z.strictObject({ accept: z.boolean() }), response: Empty },
  leaveStage: { request: Empty, response: Empty },
  inviteToStage: { request: z.strictObject({ participantId: Id }), response: Empty },
  answerStageRequest: { request: z.strictObject({ participantId: Id, accept: z.boolean() }), response: Empty },
  removeFromStage: { request: z.strictObject({ participantId: Id }), response: Empty },
  mute: {
    request: z.strictObject({ participantId: Id, kind: MediaKind, muted: z.boolean() }),
    response: Empty,
  },

  // Chat (弹幕) and moderation.
  sendChat: {
    request: z.strictObject({ text: z.string().max(2000) }),
    response: z.object({ messageId: z.string() }),
  },
  deleteChat: { request: z.strictObject({ messageId: Id }), response: Empty },
  ban: { request: z.strictObject({ participantId: Id }), response: Empty },

  /**
   * (host only) One page of who is in the room, in join order; `next` is the cursor of the next page
   * (null at the end). Changes after a page come as `participantsUpdated`.
   */
  listParticipants: {
    request: z.strictObject({
      after: z.string().max(20).regex(/^[0-9]+$/, 'a cursor from an earlier page').optional(),
      limit: z.number().int().min(1).max(PARTICIPANT_PAGE_MAX).optional(),
    }),
    response: z.object({ participants: z.array(ParticipantInfo), next: z.string().nullable() }),
  },

  /**
   * Replaces this connection's access token before it expires (after `tokenExpiring`). The new
   * token must name the same room, identity and role.
   */
  renewToken: {
    request: z.strictObject({ token: z.string().min(1).max(MAX_TOKEN_LENGTH) }),
    response: z.object({ expiresAt: z.number() }),
  },

  /** Caps the video quality this client receives (the server still lowers it when bandwidth is short). */
  setPreferredQuality: { request: z.strictObject({ quality: Quality }), response: Empty },
} as const;

export type RequestName = keyof typeof requests;
export type RequestBody<N extends RequestName> = z.infer<(typeof requests)[N]['request']>;
export type ResponseData<N extends RequestName> = z.infer<(typeof requests)[N]['response']>;
export type Ack<N extends RequestName> = { ok: true; data: ResponseData<N> } | { ok: false; error: ErrorBody };

export function isRequestName(name: string): name is RequestName {
  return Object.hasOwn(requests, name);
}
