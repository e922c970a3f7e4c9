import { createHmac, timingSafeEqual } from 'node:crypto';
import { TokenClaims } from '@onstage/protocol';
import { AuthError } from '../errors.ts';

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

/**
 * Verifies signature and expiry; returns the claims or throws AuthError (TOKEN_INVALID / TOKEN_EXPIRED).
 * Any standard HS256 JWT passes (whatever else its header says, e.g. `kid`, or no `typ`); the
 * signature must be the one canonical base64url encoding (no padding, no spare bits), and nothing
 * but HS256 is accepted, so "alg":"none" and friends never pass.
 */
export function verifyToken(token: string, secret: string, nowMs = Date.now()): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new AuthError('TOKEN_INVALID', 'not a JWT (three dot-separated parts)');
  const [header, payload, sig] = parts as [string, string, string];
  const expected = Buffer.from(signature(`${header}.${payload}`, secret).toString('base64url'));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AuthError('TOKEN_INVALID', 'token signature does not match');
  }
  const head = decodePart(header, 'header');
  if (!isRecord(head) || head['alg'] !== 'HS256') throw new AuthError('TOKEN_INVALID', 'only HS256 tokens are accepted');
  if (head['typ'] !== undefined && String(head['typ']).toUpperCase() !== 'JWT') throw new AuthError('TOKEN_INVALID', 'not a JWT (typ)');
  // Header extensions we do not implement must be refused (RFC 7515 4.1.11), and b64=false changes what is signed.
  if (head['crit'] !== undefined || head['b64'] !== undefined) throw new AuthError('TOKEN_INVALID', 'unsupported JWT header extension');
  const claims = TokenClaims.safeParse(decodePart(payload, 'payload'));
  if (!claims.success) throw new AuthError('TOKEN_INVALID', `token claims: ${claims.error.issues[0]?.message}`);
  if (claims.data.exp * 1000 <= nowMs) throw new AuthError('TOKEN_EXPIRED', 'token has expired');
  return claims.data;
}

function decodePart(part: string, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new AuthError('TOKEN_INVALID', `token ${what} is not JSON`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
