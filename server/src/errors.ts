import type { ErrorBody, ErrorCode } from '@onstage/protocol';

/**
 * The server's error classes. Each carries a stable protocol code (sent to clients as is) and the
 * HTTP status it maps to. Anything that is not an OnstageError is a bug and is reported as INTERNAL.
 */
export class OnstageError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Where the client should go instead (ROOM_ON_OTHER_NODE). */
  readonly redirect: string | undefined;

  constructor(code: ErrorCode, status: number, message: string, options?: ErrorOptions & { redirect?: string }) {
    super(message, options);
    this.code = code;
    this.status = status;
    this.redirect = options?.redirect;
  }
}

const INVALID_INPUT_STATUS = {
  INVALID_PAYLOAD: 400,
  UNKNOWN_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // The offer is well formed, but nothing in it can be received (WHIP).
  UNSUPPORTED_CODEC: 422,
  // HTTP conditional requests (WHIP's If-Match).
  PRECONDITION_FAILED: 412,
  PRECONDITION_REQUIRED: 428,
};

export class InvalidInputError extends OnstageError {
  override name = 'InvalidInputError';
  constructor(code: keyof typeof INVALID_INPUT_STATUS, message: string, options?: ErrorOptions) {
    super(code, INVALID_INPUT_STATUS[code], message, options);
  }
}

/** The request is valid but not now: out of order, or the room is not in a state that allows it. */
export class StateError extends OnstageError {
  override name = 'StateError';
  constructor(
    code:
      | 'NOT_JOINED'
      | 'ALREADY_JOINED'
      | 'HOST_ALREADY_PRESENT'
      | 'ALREADY_CONNECTED'
      | 'STAGE_FULL'
      | 'STAGE_QUEUE_FULL'
      | 'ALREADY_ON_STAGE'
      | 'NOT_ON_STAGE'
      | 'ROOM_ON_OTHER_NODE',
    message: string,
    redirect?: string,
  ) {
    super(code, 409, message, redirect === undefined ? undefined : { redirect });
  }
}

export class NotFoundError extends OnstageError {
  override name = 'NotFoundError';
  constructor(
    code:
      | 'NOT_FOUND'
      | 'TRANSPORT_NOT_FOUND'
      | 'PRODUCER_NOT_FOUND'
      | 'CONSUMER_NOT_FOUND'
      | 'REQUEST_NOT_FOUND'
      | 'INVITE_NOT_FOUND'
      | 'PARTICIPANT_NOT_FOUND'
      | 'MESSAGE_NOT_FOUND',
    message: string,
  ) {
    super(code, 404, message);
  }
}

export class ForbiddenError extends OnstageError {
  override name = 'ForbiddenError';
  constructor(message: string, code: 'FORBIDDEN' | 'WRONG_ROOM' | 'ROLE_NOT_ALLOWED' | 'BANNED' = 'FORBIDDEN') {
    super(code, 403, message);
  }
}

/** No valid access token. */
export class AuthError extends OnstageError {
  override name = 'AuthError';
  constructor(code: 'TOKEN_MISSING' | 'TOKEN_INVALID' | 'TOKEN_EXPIRED', message: string) {
    super(code, 401, message);
  }
}

export class RateLimitError extends OnstageError {
  override name = 'RateLimitError';
  constructor(code: 'RATE_LIMITED' | 'DUPLICATE_MESSAGE', message: string) {
    super(code, 429, message);
  }
}

export class MediaError extends OnstageError {
  override name = 'MediaError';
  constructor(code: 'CANNOT_CONSUME' | 'MEDIA_ERROR', message: string, options?: ErrorOptions) {
    super(code, code === 'CANNOT_CONSUME' ? 422 : 500, message, options);
  }
}

export class UnavailableError extends OnstageError {
  override name = 'UnavailableError';
  constructor(message: string) {
    super('UNAVAILABLE', 503, message);
  }
}

/** This node takes no more participants (NODE_MAX_PARTICIPANTS); `redirect` names a node that may. */
export class NodeFullError extends OnstageError {
  override name = 'NodeFullError';
  constructor(message: string, redirect?: string) {
    super('NODE_FULL', 503, message, redirect === undefined ? undefined : { redirect });
  }
}

/** An error another node of the cluster answered with, passed on to the client with its code. */
export class RemoteError extends OnstageError {
  override name = 'RemoteError';
  constructor(body: ErrorBody) {
    super(body.code, body.code === 'INTERNAL' ? 502 : 409, body.message, body.redirect === undefined ? undefined : { redirect: body.redirect });
  }
}

export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof OnstageError) return { code: err.code, message: err.message, ...(err.redirect ? { redirect: err.redirect } : {}) };
  return { code: 'INTERNAL', message: 'internal server error' };
}
