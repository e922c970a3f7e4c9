import type { Socket } from 'socket.io';
import { MAX_TOKEN_LENGTH, type TokenClaims } from '@onstage/protocol';
import { AuthError, toErrorBody } from '../errors.ts';
import { verifyToken } from './tokens.ts';

/**
 * socket.io middleware: a connection must present a valid token (`auth: { token }`). A refused
 * connection gets a connect_error whose `data` is `{ code, message }` with a stable code.
 */
export function socketAuth(secret: string) {
  return (socket: Socket, next: (err?: Error) => void): void => {
    const token: unknown = socket.handshake.auth?.['token'];
    try {
      if (typeof token !== 'string' || token.length === 0) throw new AuthError('TOKEN_MISSING', 'connect with auth: { token }');
      if (token.length > MAX_TOKEN_LENGTH) throw new AuthError('TOKEN_INVALID', 'token too long');
      socket.data.claims = verifyToken(token, secret);
      next();
    } catch (err) {
      const refusal = new Error(err instanceof Error ? err.message : 'unauthorised') as Error & { data: unknown };
      refusal.data = toErrorBody(err);
      next(refusal);
    }
  };
}

export function claimsOf(socket: Socket): TokenClaims {
  return socket.data.claims as TokenClaims;
}
