import type { IncomingMessage } from 'node:http';
import { RoomId, type IngestStatus, type Role, type TokenClaims } from '@onstage/protocol';
import { verifyToken } from '../auth/tokens.ts';
import { AuthError, ForbiddenError, InvalidInputError, NotFoundError, OnstageError, StateError, toErrorBody } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Room } from '../rooms/room.ts';
import type { RoomRegistry } from '../rooms/room-registry.ts';
import { readBody } from '../http/request-body.ts';
import { HttpSession, type SessionPlan } from './http-session.ts';
import { playPlan } from './play-plan.ts';
import { publishPlan } from './publish-plan.ts';

/** An HTTP answer of a WHIP or WHEP endpoint (the HTTP layer writes it). */
export type EndpointReply = { status: number; body: string; contentType: string; headers: Record<string, string> };

export type EndpointDeps = {
  rooms: RoomRegistry;
  tokenSecret: string;
  logger: Logger;
  /** `Link: <…>; rel="ice-server"` values to announce (TURN/STUN servers), if any. */
  iceServerLinks: string[];
};

/** What differs between the two endpoints: who may use it, and what a session does. */
const KINDS = {
  whip: { role: 'host', plan: publishPlan },
  whep: { role: 'viewer', plan: playPlan },
} as const satisfies Record<string, { role: Role; plan: (room: Room, offer: string, logger: Logger) => SessionPlan }>;
export type EndpointKind = keyof typeof KINDS;

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

/**
 * A WHIP endpoint (RFC 9725: `POST /whip/<room>` with the room's host token publishes an
 * encoder's offer as the room's host) or a WHEP endpoint (`POST /whep/<room>` with a viewer
 * token plays the show to a standard player). A session lives at `/<kind>/<room>/<id>` (PATCH for
 * ICE trickle and restarts, DELETE to stop). Errors are JSON with the protocol's stable codes.
 */
export function webrtcHttpEndpoint(kind: EndpointKind, deps: EndpointDeps) {
  const { role, plan } = KINDS[kind];
  const pathPattern = new RegExp(`^/${kind}/([^/]+)(?:/([A-Za-z0-9_-]{1,64}))?$`);
  const sessions = new Map<string, HttpSession>();
  /** The newest session of each room (a WHIP room has one host). */
  const latest = new Map<string, HttpSession>();
  const forget = (session: HttpSession) => {
    if (sessions.get(session.id) === session) sessions.delete(session.id);
    if (latest.get(session.roomId) === session) latest.delete(session.roomId);
  };
  const logger = deps.logger.child({ endpoint: kind });

  async function handle(req: IncomingMessage, path: string): Promise<EndpointReply> {
    const m = pathPattern.exec(path);
    const room = RoomId.safeParse(m?.[1]);
    if (!m || !room.success) throw new NotFoundError('NOT_FOUND', `a ${kind.toUpperCase()} endpoint is /${kind}/<room>`);
    const sessionId = m[2];
    if (req.method === 'OPTIONS') return reply(204, '', '', { 'accept-post': SDP, ...(sessionId ? { 'accept-patch': SDP_FRAGMENT } : {}) });
    const claims = roomClaims(req, room.data, role, deps.tokenSecret);
    if (sessionId === undefined) {
      if (req.method !== 'POST') throw new InvalidInputError('METHOD_NOT_ALLOWED', 'POST an SDP offer to the endpoint');
      return startSession(req, room.data, claims, path);
    }
    const session = sessions.get(sessionId);
    if (!session || session.roomId !== room.data || session.over) throw new NotFoundError('NOT_FOUND', `no such ${kind.toUpperCase()} session (it ended, or never was)`);
    if (session.identity !== claims.sub) throw new ForbiddenError(`this ${kind.toUpperCase()} session belongs to another identity`);
    if (req.method === 'DELETE') {
      session.stop();
      return reply(200, '', '');
    }
    if (req.method !== 'PATCH') throw new InvalidInputError('METHOD_NOT_ALLOWED', `PATCH or DELETE a ${kind.toUpperCase()} session`);
    assertContentType(req, SDP_FRAGMENT);
    const fragment = (await readBody(req, MAX_SDP_BYTES)).toString('utf8');
    const result = await session.patch(fragment, req.headers['if-match']);
    return result.restarted ? reply(200, result.fragment, SDP_FRAGMENT, { etag: session.etag }) : reply(204, '', '');
  }

  async function startSession(req: IncomingMessage, roomId: string, claims: TokenClaims, path: string): Promise<EndpointReply> {
    assertContentType(req, SDP);
    const offer = (await readBody(req, MAX_SDP_BYTES)).toString('utf8');
    const room = await deps.rooms.open(roomId);
    // Sessions run on the room's origin (an edge's viewers go through the socket protocol).
    if (room.kind === 'edge') throw new StateError('ROOM_ON_OTHER_NODE', `room ${roomId} is served by node ${room.originNodeId}`, room.originUrl);
    const { session, answer } = await HttpSession.start(room, claims, plan(room, offer, logger), logger, forget);
    // Sessions whose host left while away (the grace period ran out) are dropped here.
    for (const old of sessions.values()) if (old.over) forget(old);
    sessions.set(session.id, session);
    latest.set(roomId, session);
    return reply(201, answer, SDP, {
      location: `${path}/${session.id}`,
      etag: session.etag,
      ...(deps.iceServerLinks.length ? { link: deps.iceServerLinks.join(', ') } : {}),
    });
  }

  return {
    /** Answers any request under /whip/; never throws (errors become JSON replies with CORS headers). */
    async reply(req: IncomingMessage, path: string): Promise<EndpointReply> {
      try {
        return await handle(req, path);
      } catch (err) {
        if (!(err instanceof OnstageError)) logger.error({ err, path }, 'request failed');
        // Another node is the room's origin: the encoder is sent there (RFC 9725 allows redirects).
        if (err instanceof OnstageError && err.code === 'ROOM_ON_OTHER_NODE' && err.redirect) {
          return reply(307, '', '', { location: `${err.redirect}${path}` });
        }
        const status = err instanceof OnstageError ? err.status : 500;
        return reply(status, JSON.stringify({ error: toErrorBody(err) }), 'application/json; charset=utf-8');
      }
    },
    /** A WHIP encoder publishing the room now (its media is always forwarded as sent). */
    ingestOf(room: string): IngestStatus | undefined {
      const session = latest.get(room);
      return kind === 'whip' && session && !session.over ? { protocol: 'whip', video: 'forward' } : undefined;
    },
    /** Sessions open now. */
    get size(): number {
      return sessions.size;
    },
  };
}

function reply(status: number, body: string, contentType: string, headers: Record<string, string> = {}): EndpointReply {
  return { status, body, contentType, headers: { ...CORS, ...headers } };
}

/** Every request carries a token of the room, of the endpoint's role (host: WHIP; viewer: WHEP), as a Bearer token. */
function roomClaims(req: IncomingMessage, room: string, role: Role, secret: string): TokenClaims {
  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!token) throw new AuthError('TOKEN_MISSING', `send Authorization: Bearer <${role} token of the room>`);
  const claims = verifyToken(token, secret);
  if (claims.room !== room) throw new ForbiddenError(`this token is for room "${claims.room}"`, 'WRONG_ROOM');
  if (claims.role !== role) throw new ForbiddenError(`this endpoint needs a ${role} token`, 'ROLE_NOT_ALLOWED');
  return claims;
}

function assertContentType(req: IncomingMessage, expected: string): void {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== expected) throw new InvalidInputError('UNSUPPORTED_MEDIA_TYPE', `send ${expected} (got ${type ?? 'nothing'})`);
}
