import { z } from 'zod';

/** Stable error codes: clients may switch on these; never rename one. */
export const ErrorCode = z.enum([
  'INVALID_PAYLOAD',
  'PAYLOAD_TOO_LARGE',
  'UNKNOWN_REQUEST',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
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
  'UNAVAILABLE',
  'INTERNAL',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
