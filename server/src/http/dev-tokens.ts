import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { Role, RoomId } from '@onstage/protocol';
import { signToken } from '../auth/tokens.ts';
import { InvalidInputError } from '../errors.ts';
import { readJson } from './request-body.ts';

const MAX_BODY_BYTES = 4096;

export const DevTokenRequest = z.strictObject({
  room: RoomId,
  role: Role,
  name: z.string().min(1).max(64).optional(),
  /** Keep the same identity across reloads to resume instead of joining twice. */
  identity: z.string().min(1).max(128).optional(),
  ttlSeconds: z.number().int().min(1).max(86_400).default(6 * 3600),
});

/**
 * POST /api/dev/token: signs a token for anyone who asks. Development only (on when no
 * TOKEN_SECRET is set); production backends sign their own tokens with the shared secret.
 */
export async function issueDevToken(req: IncomingMessage, secret: string) {
  const parsed = DevTokenRequest.safeParse(await readJson(req, MAX_BODY_BYTES));
  if (!parsed.success) throw new InvalidInputError('INVALID_PAYLOAD', z.prettifyError(parsed.error));
  const { room, role, name, identity = randomUUID(), ttlSeconds } = parsed.data;
  const now = Math.floor(Date.now() / 1000);
  const exp = now + ttlSeconds;
  const token = signToken({ room, role, sub: identity, exp, iat: now, ...(name ? { name } : {}) }, secret);
  return { token, identity, expiresAt: exp * 1000 };
}

