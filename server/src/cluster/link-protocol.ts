import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { MediaKind, Role, RoomId, RtpParameters, type ErrorBody, type ServerEvent, type ServerEventName } from '@onstage/protocol';

/**
 * What nodes say to each other about rooms. An edge node (one serving viewers of a room whose
 * origin is elsewhere) holds one socket.io connection to each origin node it uses, on the
 * origin's `/cluster` namespace: it sends its participants' joins and room requests and sets up
 * media pipes (requests, with acks); the origin sends room events once per edge and the messages
 * for single participants (no acks). One connection per node pair keeps each room's events in
 * order with the answers to its requests.
 */
export const LINK_NAMESPACE = '/cluster';

const Id = z.string().min(1).max(64);
const Endpoint = z.object({
  ip: z.string().min(1).max(64),
  port: z.number().int().min(1).max(65535),
  srtpParameters: z.object({ cryptoSuite: z.enum(['AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']), keyBase64: z.string().max(128) }),
});

/** Edge → origin, each answered with a `LinkAck`. */
export const linkRequests = {
  join: z.object({ roomId: RoomId, connectionId: Id, identity: z.string().min(1).max(256), displayName: z.string().max(256), role: Role }),
  /** A room request (stage, chat, moderation) of a participant the edge serves; its body is checked by the protocol schema. */
  request: z.object({ roomId: RoomId, participantId: Id, name: z.string().max(64), body: z.unknown() }),
  leave: z.object({ roomId: RoomId, participantId: Id }),
  /** A participant's connection to the edge dropped (not `disconnect`: socket.io reserves that event name). */
  connectionLost: z.object({ roomId: RoomId, participantId: Id, connectionId: Id }),
  /** Opens the room's pipe between the two nodes: the edge's end in, the origin's end out. */
  openPipe: z.object({ roomId: RoomId, endpoint: Endpoint }),
  /** Sends one producer down the room's pipe. */
  pipeProducer: z.object({ roomId: RoomId, producerId: Id }),
  /** A co-host served by the edge published: their producer comes up the room's pipe. */
  publish: z.object({
    roomId: RoomId,
    participantId: Id,
    piped: z.object({ producerId: Id, kind: MediaKind, rtpParameters: RtpParameters, paused: z.boolean() }),
    videoHeight: z.number().int().min(1).max(4320).optional(),
  }),
  /** A producer sent up the pipe paused, resumed or closed on the edge. */
  pipeState: z.object({ roomId: RoomId, producerId: Id, paused: z.boolean().optional(), closed: z.literal(true).optional() }),
};
export type LinkRequestName = keyof typeof linkRequests;
export type LinkRequest<N extends LinkRequestName> = z.infer<(typeof linkRequests)[N]>;
export type LinkAck = { ok: true; data: unknown } | { ok: false; error: ErrorBody };

/** Origin → edge. */
export type LinkMessages = {
  /** A room-wide event for every connection of the room on the edge (but `except`). */
  event: (m: { roomId: string; name: ServerEventName; body: ServerEvent<ServerEventName>; except?: string }) => void;
  /** An event for one connection. */
  notify: (m: { roomId: string; connectionId: string; name: ServerEventName; body: ServerEvent<ServerEventName> }) => void;
  /** Close this connection (replaced, banned). */
  drop: (m: { roomId: string; connectionId: string }) => void;
  /** Something the room does to a participant's media on the edge. */
  media: (m: { roomId: string; connectionId: string; op: 'close' | 'closeProducers' | 'pause' | 'resume'; kind?: MediaKind }) => void;
  /** A producer sent down the pipe paused, resumed or closed. */
  pipe: (m: { roomId: string; producerId: string; paused?: boolean; closed?: true }) => void;
  /** The room closed on the origin. */
  roomClosed: (m: { roomId: string }) => void;
};

/** How long an origin waits for an edge's request, and an edge for its answer. */
export const LINK_TIMEOUT_MS = 5000;

/** What an edge presents to connect: its node id, a time, and an HMAC of both with the cluster's shared secret. */
export type NodeCredentials = { nodeId: string; at: number; mac: string };

const CREDENTIALS_MAX_AGE_MS = 60_000;

function mac(secret: string, nodeId: string, at: number): string {
  return createHmac('sha256', secret).update(`onstage-node ${nodeId} ${at}`).digest('base64url');
}

export function nodeCredentials(secret: string, nodeId: string, now = Date.now()): NodeCredentials {
  return { nodeId, at: now, mac: mac(secret, nodeId, now) };
}

/** The node id the credentials prove, or undefined when they do not (wrong secret, too old, malformed). */
export function verifyNodeCredentials(secret: string, value: unknown, now = Date.now()): string | undefined {
  const parsed = z.object({ nodeId: Id, at: z.number(), mac: z.string().max(128) }).safeParse(value);
  if (!parsed.success) return undefined;
  const { nodeId, at } = parsed.data;
  if (Math.abs(now - at) > CREDENTIALS_MAX_AGE_MS) return undefined;
  const expected = Buffer.from(mac(secret, nodeId, at));
  const given = Buffer.from(parsed.data.mac);
  return given.length === expected.length && timingSafeEqual(given, expected) ? nodeId : undefined;
}
