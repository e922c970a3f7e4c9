import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ForbiddenError,
  InvalidInputError,
  MediaError,
  NotFoundError,
  StateError,
  UnavailableError,
  toErrorBody,
} from '../../server/src/errors.ts';

test('each error class carries its code and HTTP status', () => {
  const cases = [
    [new InvalidInputError('INVALID_PAYLOAD', 'm'), 'INVALID_PAYLOAD', 400],
    [new InvalidInputError('PAYLOAD_TOO_LARGE', 'm'), 'PAYLOAD_TOO_LARGE', 413],
    [new InvalidInputError('METHOD_NOT_ALLOWED', 'm'), 'METHOD_NOT_ALLOWED', 405],
    [new StateError('NOT_JOINED', 'm'), 'NOT_JOINED', 409],
    [new NotFoundError('PRODUCER_NOT_FOUND', 'm'), 'PRODUCER_NOT_FOUND', 404],
    [new ForbiddenError('m'), 'FORBIDDEN', 403],
    [new MediaError('CANNOT_CONSUME', 'm'), 'CANNOT_CONSUME', 422],
    [new MediaError('MEDIA_ERROR', 'm'), 'MEDIA_ERROR', 500],
    [new UnavailableError('m'), 'UNAVAILABLE', 503],
  ] as const;
  for (const [err, code, status] of cases) {
    assert.equal(err.code, code);
    assert.equal(err.status, status);
    assert.deepEqual(toErrorBody(err), { code, message: 'm' });
  }
});

test('unexpected errors reach clients as INTERNAL without their details', () => {
  assert.deepEqual(toErrorBody(new Error('secret stack detail')), { code: 'INTERNAL', message: 'internal server error' });
  assert.deepEqual(toErrorBody('a string'), { code: 'INTERNAL', message: 'internal server error' });
});
