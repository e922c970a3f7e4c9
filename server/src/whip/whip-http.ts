import type { IncomingMessage } from 'node:http';
import { RoomId, type TokenClaims } from '@onstage/protocol';
import { verifyToken } from '../auth/tokens.ts';
import { AuthError, ForbiddenError, InvalidInputError, NotFoundError, OnstageError, StateError, toErrorBody } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { RoomRegistry } from '../rooms/room-registry.ts';
import { readBody } from '../http/request-body.ts';
import { WhipSession } from './whip-session.ts';

/** An HTTP answer of the WHIP endpoint (the HTTP layer writes it). */
export type WhipReply = { status: number; body: string; contentType: string; headers: Record<string, string> };

export type WhipDeps = {
  rooms: RoomRegistry;
  tokenSecret: string;
  logger: Logger;
  /** `Link: <…>; rel="ice-server"` values to announce (TURN/STUN servers), if any. */
  iceServerLinks: string[];
};

const MAX_SDP_BYTES = 64 * 1024;
// Browser WHIP clients run on other origins: they must be able to read Location, ETag and Link.
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, PATCH, DELETE, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, if-match',
  'access-control-expose-headers': 'location, etag, link, accept-patch',
};
const SDP = 'application/sdp';
const SDP_FRAGMENT = 'application/trickle-ice-sdpfrag';
const PATH = /^\/whip\/([^/]+)(?:\/([A-Za-z0-9_-]{1,64}))?$/;

/**
 * The WHIP endpoint (RFC 9725): `POST /whip/<room>` with the room's host token publishes an
 * encoder's offer as the room's host; the session lives at `/whip/<room>/<id>` (PATCH for ICE
 * trickle and restarts, DELETE to stop). Errors are JSON with the protocol's stable codes.
 */
export function whipEndpoint(deps: WhipDeps) {
  const sessions = new Map<string, WhipSession>();
  const forget = (session: WhipSession) => {
    if (sessions.get(session.id) === session) sessions.delete(session.id);
  };

  async function handle(req: IncomingMessage, path: string): Promise<WhipReply> {
    const m = PATH.exec(path);
    const room = RoomId.safeParse(m?.[1]);
    if (!m || !room.success) throw new NotFoundError('NOT_FOUND', 'a WHIP endpoint is /whip/<room>');
    const sessionId = m[2];
    if (req.method === 'OPTIONS') return reply(204, '', '', { 'accept-post': SDP, ...(sessionId ? { 'accept-patch': SDP_FRAGMENT } : {}) });
    const claims = hostClaims(req, room.data, deps.tokenSecret);
    if (sessionId === undefined) {
      if (req.method !== 'POST') throw new InvalidInputError('METHOD_NOT_ALLOWED', 'POST an SDP offer to the endpoint');
      return publish(req, room.data, claims, path);
    }
    const session = sessions.get(sessionId);
    if (!session || session.roomId !== room.data || session.over) throw new NotFoundError('NOT_FOUND', 'no such WHIP session (it ended, or never was)');
    if (session.identity !== claims.sub) throw new ForbiddenError('this WHIP session belongs to another host identity');
    if (req.method === 'DELETE') {
      session.stop();
      return reply(200, '', '');
    }
    if (req.method !== 'PATCH') throw new InvalidInputError('METHOD_NOT_ALLOWED', 'PATCH or DELETE a WHIP session');
    assertContentType(req, SDP_FRAGMENT);
    const fragment = (await readBody(req, MAX_SDP_BYTES)).toString('utf8');
    const result = await session.patch(fragment, req.headers['if-match']);
    return result.restarted ? reply(200, result.fragment, SDP_FRAGMENT, { etag: session.etag }) : reply(204, '', '');
  }

  async function publish(req: IncomingMessage, roomId: string, claims: TokenClaims, path: string): Promise<WhipReply> {
    assertContentType(req, SDP);
    const offer = (await readBody(req, MAX_SDP_BYTES)).toString('utf8');
    const room = await deps.rooms.open(roomId);
    if (room.kind === 'edge') throw new StateError('ROOM_ON_OTHER_NODE', `room ${roomId} goes live on node ${room.originNodeId}`, room.originUrl);
    const { session, answer } = await WhipSession.start(room, claims, offer, deps.logger, forget);
    // Sessions whose host left while away (the grace period ran out) are dropped here.
    for (const old of sessions.values()) if (old.over) sessions.delete(old.id);
    sessions.set(session.id, session);
    return reply(201, answer, SDP, {
      location: `${path}/${session.id}`,
      etag: session.etag,
      ...(deps.iceServerLinks.length ? { link: deps.iceServerLinks.join(', ') } : {}),
    });
  }

  return {
    /** Answers any request under /whip/; never throws (errors become JSON replies with CORS headers). */
    async reply(req: IncomingMessage, path: string): Promise<WhipReply> {
      try {
        return await handle(req, path);
      } catch (err) {
        if (!(err instanceof OnstageError)) deps.logger.error({ err, path }, 'WHIP request failed');
        // Another node is the room's origin: the encoder is sent there (RFC 9725 allows redirects).
        if (err instanceof OnstageError && err.code === 'ROOM_ON_OTHER_NODE' && err.redirect) {
          return reply(307, '', '', { location: `${err.redirect}${path}` });
        }
        const status = err instanceof OnstageError ? err.status : 500;
        return reply(status, JSON.stringify({ error: toErrorBody(err) }), 'application/json; charset=utf-8');
      }
    },
    /** WHIP sessions open now. */
    get size(): number {
      return sessions.size;
    },
  };
}

function reply(status: number, body: string, contentType: string, headers: Record<string, string> = {}): WhipReply {
  return { status, body, contentType, headers: { ...CORS, ...headers } };
}

/** Every WHIP request carries the room's host token as a Bearer token. */
function hostClaims(req: IncomingMessage, room: string, secret: string): TokenClaims {
  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!token) throw new AuthError('TOKEN_MISSING', 'send Authorization: Bearer <host token of the room>');
  const claims = verifyToken(token, secret);
  if (claims.room !== room) throw new ForbiddenError(`this token is for room "${claims.room}"`, 'WRONG_ROOM');
  if (claims.role !== 'host') throw new ForbiddenError('publishing needs a host token', 'ROLE_NOT_ALLOWED');
  return claims;
}

function assertContentType(req: IncomingMessage, expected: string): void {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== expected) throw new InvalidInputError('UNSUPPORTED_MEDIA_TYPE', `send ${expected} (got ${type ?? 'nothing'})`);
}
