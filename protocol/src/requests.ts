import { z } from 'zod';
import type { ErrorBody } from './errors.ts';
import { DtlsParameters, MediaKind, RtpCapabilities, RtpParameters, TransportOptions } from './media.ts';

/** Largest request body the server accepts (serialized JSON). Bigger ones get PAYLOAD_TOO_LARGE. */
export const MAX_REQUEST_BYTES = 64 * 1024;

export const RoomId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'room ids are 1-64 characters of A-Z a-z 0-9 _ -');
export type RoomId = z.infer<typeof RoomId>;

export const Role = z.enum(['host', 'viewer']);
export type Role = z.infer<typeof Role>;

const Id = z.string().min(1).max(128);

export const ProducerInfo = z.object({
  producerId: z.string(),
  participantId: z.string(),
  kind: MediaKind,
});
export type ProducerInfo = z.infer<typeof ProducerInfo>;

const Empty = z.strictObject({});

/**
 * Every client → server request: its body and the data of a successful acknowledgement.
 * The event name is the key. Each request gets exactly one ack: `{ ok: true, data }` or `{ ok: false, error }`.
 */
export const requests = {
  join: {
    request: z.strictObject({
      roomId: RoomId,
      role: Role,
      displayName: z.string().min(1).max(64).optional(),
    }),
    response: z.object({
      participantId: z.string(),
      role: Role,
      routerRtpCapabilities: RtpCapabilities,
      live: z.boolean(),
      producers: z.array(ProducerInfo),
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
    request: z.strictObject({ transportId: Id, kind: MediaKind, rtpParameters: RtpParameters }),
    response: z.object({ producerId: z.string() }),
  },
  closeProducer: {
    request: z.strictObject({ producerId: Id }),
    response: Empty,
  },
  consume: {
    request: z.strictObject({ transportId: Id, producerId: Id, rtpCapabilities: RtpCapabilities }),
    response: z.object({
      consumerId: z.string(),
      producerId: z.string(),
      kind: MediaKind,
      rtpParameters: RtpParameters,
    }),
  },
  resumeConsumer: {
    request: z.strictObject({ consumerId: Id }),
    response: Empty,
  },
  leave: {
    request: Empty,
    response: Empty,
  },
} as const;

export type RequestName = keyof typeof requests;
export type RequestBody<N extends RequestName> = z.infer<(typeof requests)[N]['request']>;
export type ResponseData<N extends RequestName> = z.infer<(typeof requests)[N]['response']>;
export type Ack<N extends RequestName> = { ok: true; data: ResponseData<N> } | { ok: false; error: ErrorBody };

export function isRequestName(name: string): name is RequestName {
  return Object.hasOwn(requests, name);
}
