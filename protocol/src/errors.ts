import { z } from 'zod';

/** Stable error codes: clients may switch on these; never rename one. */
export const ErrorCode = z.enum([
  'INVALID_PAYLOAD',
  'PAYLOAD_TOO_LARGE',
  'UNKNOWN_REQUEST',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNSUPPORTED_CODEC',
  'PRECONDITION_FAILED',
  'PRECONDITION_REQUIRED',
  'NOT_JOINED',
  'ALREADY_JOINED',
  'HOST_ALREADY_PRESENT',
  'FORBIDDEN',
  'TRANSPORT_NOT_FOUND',
  'ALREADY_CONNECTED',
  'PRODUCER_NOT_FOUND',
  'CONSUMER_NOT_FOUND',
  'CANNOT_CONSUME',
  'MEDIA_ERROR',
  'TOKEN_MISSING',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'WRONG_ROOM',
  'ROLE_NOT_ALLOWED',
  'BANNED',
  'STAGE_FULL',
  'STAGE_QUEUE_FULL',
  'ALREADY_ON_STAGE',
  'NOT_ON_STAGE',
  'REQUEST_NOT_FOUND',
  'INVITE_NOT_FOUND',
  'PARTICIPANT_NOT_FOUND',
  'MESSAGE_NOT_FOUND',
  'ROOM_ON_OTHER_NODE',
  'NODE_FULL',
  'RATE_LIMITED',
  'DUPLICATE_MESSAGE',
  'UNAVAILABLE',
  'INTERNAL',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  /** (ROOM_ON_OTHER_NODE, NODE_FULL) The URL of the node to connect to instead; the SDK follows it. */
  redirect: z.string().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
