import type { IncomingMessage } from 'node:http';
import { RecordingId, RoomId, type IngestStatus, type LiveStatus, type Recording, type RecordingList } from '@onstage/protocol';
import { MEDIA_FILE, type HlsAnswer } from '@onstage/recorder';
import { verifyToken } from '../auth/tokens.ts';
import { AuthError, ForbiddenError, InvalidInputError, NotFoundError, UnavailableError } from '../errors.ts';
import type { RecordingService } from '../recording/recording-service.ts';
import type { FileReply } from './file-reply.ts';
import { askNode, type ForwardedReply } from './node-forward.ts';
import type { RecordingsElsewhere } from './recordings-elsewhere.ts';

export type MediaRouteDeps = {
  recordings: RecordingService;
  /** Whether a room has a show on now. */
  isLive(room: string): boolean;
  /** Whether this node makes the room's HLS and live status (it is its origin, or has its HLS). */
  servesLocally(room: string): boolean;
  tokenSecret: string;
  /** 'token': recordings and live status need an access token of their room (MEDIA_ACCESS). */
  access: 'public' | 'token';
  /** The recordings other nodes of the cluster hold. */
  elsewhere: RecordingsElsewhere;
  /** How an encoder's media comes into the room now, when an encoder is its host. */
  ingestOf(room: string): IngestStatus | undefined;
};

type JsonResult = { status: number; value: unknown };
/** A temporary redirect (a recording's media in object storage, by a signed URL). */
export type RedirectReply = { redirect: string };

// HLS is often played from other origins (players, CDNs).
const CORS = { 'access-control-allow-origin': '*' };

/**
 * GET /hls/:room/<file>: the live LL-HLS ladder of the room's current (or just ended) show, from
 * memory; a blocking playlist reload (`?_HLS_msn=&_HLS_part=`) or a preload-hinted part waits here.
 */
export async function hlsReply(room: string, file: string, query: URLSearchParams, deps: MediaRouteDeps): Promise<HlsAnswer & { headers: Record<string, string> }> {
  if (!RoomId.safeParse(room).success) throw new NotFoundError('NOT_FOUND', 'no such HLS file');
  const hls = deps.recordings.hlsOf(room);
  if (!hls) throw new NotFoundError('NOT_FOUND', `room ${room} has no HLS output now`);
  const answer = await hls.answer(file, query);
  if (!answer) throw new NotFoundError('NOT_FOUND', 'no such HLS file');
  return { ...answer, headers: CORS };
}

/** GET /api/live/:room */
export function liveStatus(req: IncomingMessage, room: string, query: URLSearchParams, deps: MediaRouteDeps): LiveStatus {
  if (!RoomId.safeParse(room).success) throw new InvalidInputError('INVALID_PAYLOAD', 'bad room id');
  assertRoomAccess(req, query, room, deps);
  const ingest = deps.ingestOf(room);
  return { ...deps.recordings.status(room, deps.isLive(room)), ...(ingest ? { ingest } : {}) };
}

/**
 * With MEDIA_ACCESS=token, a request must carry an access token (any role) of the room, as
 * `Authorization: Bearer` or, for a <video src>, as `?token=`.
 */
function assertRoomAccess(req: IncomingMessage, query: URLSearchParams, room: string, deps: MediaRouteDeps): void {
  if (deps.access === 'public') return;
  const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? query.get('token');
  if (!token) throw new AuthError('TOKEN_MISSING', `send a token of room ${room} (Authorization: Bearer, or ?token=)`);
  if (verifyToken(token, deps.tokenSecret).room !== room) throw new ForbiddenError(`this token is not for room ${room}`, 'WRONG_ROOM');
}

/**
 * /api/recordings[/:id[/show.mp4]]: list, one, its media, DELETE (the room's host only). Any node
 * answers for the whole cluster: lists include other nodes' recordings, and a recording held by
 * another node is passed on to it (`pathAndQuery` is this request's, to pass on).
 */
export async function recordingsRoute(
  req: IncomingMessage,
  rest: string,
  query: URLSearchParams,
  pathAndQuery: string,
  deps: MediaRouteDeps,
): Promise<JsonResult | FileReply | ForwardedReply | RedirectReply> {
  const store = deps.recordings.store;
  if (!store) throw new UnavailableError('recordings are off on this server (HLS=false, or see GET /api/live/:room)');
  if (rest === '') {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new InvalidInputError('METHOD_NOT_ALLOWED', 'GET the list');
    const room = query.get('room') ?? undefined;
    if (room !== undefined && !RoomId.safeParse(room).success) throw new InvalidInputError('INVALID_PAYLOAD', 'bad room id');
    if (deps.access === 'token' && room === undefined) throw new ForbiddenError('recordings are listed per room here: ?room=<room> with a token of it');
    if (room !== undefined) assertRoomAccess(req, query, room, deps);
    const [here, there] = await Promise.all([store.list(room), deps.elsewhere.list(req, pathAndQuery)]);
    const list: RecordingList = {
      recordings: [...here, ...there.recordings].sort((a, b) => b.startedAt.localeCompare(a.startedAt)),
      ...(there.unanswered.length ? { unansweredNodes: there.unanswered } : {}),
    };
    return { status: 200, value: list };
  }
  const m = /^\/([^/]+)(\/show\.mp4)?$/.exec(rest);
  const id = RecordingId.safeParse(m?.[1]);
  if (!m || !id.success) throw new NotFoundError('NOT_FOUND', 'no such recording');
  const recording = await store.get(id.data);
  if (!recording) return fromHolder(req, id.data, pathAndQuery, deps.elsewhere);
  if (req.method !== 'DELETE') assertRoomAccess(req, query, recording.room, deps);
  if (m[2]) {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new InvalidInputError('METHOD_NOT_ALLOWED', 'GET the media');
    if (recording.status !== 'ready') throw new NotFoundError('NOT_FOUND', `recording is ${recording.status}`);
    const media = await deps.recordings.mediaOf(recording);
    if ('redirect' in media) return media;
    return { file: media.file, contentType: 'video/mp4', cacheControl: 'public, max-age=3600', headers: { ...CORS, 'content-disposition': `inline; filename="${MEDIA_FILE}"` } };
  }
  if (req.method === 'DELETE') {
    assertHostOf(req, recording, deps.tokenSecret);
    if (recording.status === 'recording') throw new ForbiddenError('the show is still on; end it first');
    await deps.recordings.delete(recording);
    return { status: 200, value: { deleted: id.data } };
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new InvalidInputError('METHOD_NOT_ALLOWED', 'GET or DELETE');
  return { status: 200, value: recording };
}

async function fromHolder(req: IncomingMessage, id: RecordingId, pathAndQuery: string, elsewhere: RecordingsElsewhere): Promise<ForwardedReply> {
  const holder = await elsewhere.holderOf(req, id);
  if (!holder) throw new NotFoundError('NOT_FOUND', 'no such recording');
  try {
    return { forwarded: await askNode(req, holder, pathAndQuery) };
  } catch (err) {
    elsewhere.forget(id);
    throw err;
  }
}

function assertHostOf(req: IncomingMessage, recording: Recording, secret: string): void {
  const header = req.headers.authorization ?? '';
  const token = /^Bearer (.+)$/.exec(header)?.[1];
  if (!token) throw new AuthError('TOKEN_MISSING', 'send Authorization: Bearer <host token of the room>');
  const claims = verifyToken(token, secret);
  if (claims.role !== 'host' || claims.room !== recording.room) throw new ForbiddenError('only the host of this room may delete its recordings');
}
