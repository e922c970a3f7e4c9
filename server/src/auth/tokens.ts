import { createHmac, timingSafeEqual } from 'node:crypto';
import { TokenClaims } from '@onstage/protocol';
import { AuthError } from '../errors.ts';

// Only HS256 is accepted: the header is compared whole, so "alg":"none" and friends never pass.
const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

function signature(input: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(input).digest();
}

export function signToken(claims: TokenClaims, secret: string): string {
  const body = `${HEADER}.${base64url(JSON.stringify(claims))}`;
  return `${body}.${signature(body, secret).toString('base64url')}`;
}

/** Verifies signature and expiry; returns the claims or throws AuthError (TOKEN_INVALID / TOKEN_EXPIRED). */
export function verifyToken(token: string, secret: string, nowMs = Date.now()): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) throw new AuthError('TOKEN_INVALID', 'not an Onstage HS256 token');
  const [header, payload, sig] = parts as [string, string, string];
  const expected = signature(`${header}.${payload}`, secret);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AuthError('TOKEN_INVALID', 'token signature does not match');
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new AuthError('TOKEN_INVALID', 'token payload is not JSON');
  }
  const claims = TokenClaims.safeParse(json);
  if (!claims.success) throw new AuthError('TOKEN_INVALID', `token claims: ${claims.error.issues[0]?.message}`);
  if (claims.data.exp * 1000 <= nowMs) throw new AuthError('TOKEN_EXPIRED', 'token has expired');
  return claims.data;
}
