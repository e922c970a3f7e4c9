import { z } from 'zod';
import { Role, RoomId } from './requests.ts';

/**
 * The claims of an Onstage access token (a JWT signed with HS256). Your backend issues these; the
 * server verifies them when a client connects and enforces them on every request.
 */
export const TokenClaims = z.object({
  /** The one room this token admits to. */
  room: RoomId,
  /** Stable identity of the person (bans and reconnects follow it). */
  sub: z.string().min(1).max(128),
  /** Display name shown to others. */
  name: z.string().min(1).max(64).optional(),
  role: Role,
  /** Expiry, seconds since the epoch. */
  exp: z.number().int().positive(),
  iat: z.number().int().positive().optional(),
});
export type TokenClaims = z.infer<typeof TokenClaims>;
