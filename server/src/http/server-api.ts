import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  ApiDrain,
  ApiMute,
  ApiRoomList,
  ApiStageMove,
  ApiSystemChat,
  RecordingId,
  RoomId,
  type ApiRoom,
  type ApiRoomDetail,
  type Recording,
} from '@onstage/protocol';
import type { z } from 'zod';
import type { NodeInfo } from '../cluster/cluster.ts';
import { AuthError, InvalidInputError, NotFoundError } from '../errors.ts';
import type { Room } from '../rooms/room.ts';
import { askEveryNode, askNode, isForwarded, type ForwardedReply } from './node-forward.ts';
import { decodePathPart, readBody, readJson } from './request-body.ts';
import { serverApiOpenApi } from './server-api-openapi.ts';

/** The operator's credentials (API_KEY, API_SECRET): HTTP Basic, `key:secret`. */
export type ApiCredentials = { key: string; secret: string };

export type ServerApiDeps = {
  credentials: ApiCredentials | undefined;
  nodeId: string;
  /** The open rooms this node is the origin of, and one of them by id. */
  origins(): Room[];
  originIfOpen(room: string): Room | undefined;
  /** The link URL of the room's origin when that is another node. */
  originElsewhere(room: string): Promise<string | undefined>;
  /** The other nodes of the cluster (none in single-node mode). */
  peers(): readonly NodeInfo[];
  recordings: {
    list(room?: string): Promise<Recording[]>;
    get(id: RecordingId): Promise<Recording | undefined>;
  } | undefined;
  /** Deletes a recording (here, and in object storage if it was moved there). */
  deleteRecording(recording: Recording): Promise<void>;
  /** Starts draining this node (see OnstageServer.drain). */
  drain(timeoutMs: number | undefined): { draining: true; since: number };
};

/** A JSON answer. */
export type ApiReply = { status: number; value: unknown };

const MAX_BODY_BYTES = 4096;
const OPENAPI = serverApiOpenApi();

/**
 * The server API (`/api/server/…`) for the operator's backend: rooms and their participants, ending
 * a show, removing, muting and moving participants, system chat messages, recordings. Every
 * request needs the API key and secret (never a participant's token). A room's requests are
 * answered by its origin node: any node passes them on.
 */
export async function serverApiRoute(req: IncomingMessage, path: string, query: URLSearchParams, deps: ServerApiDeps): Promise<ApiReply | ForwardedReply> {
  // The document is public: it describes the API, not what is in it.
  if (path === '/openapi.json' && deps.credentials) return { status: 200, value: OPENAPI };
  authenticate(req, deps.credentials);
  const method = req.method ?? 'GET';
  const parts = path.split('/').filter(Boolean).map(decodePathPart);
  const [collection, id, sub, subId, action] = parts;

  if (collection === 'drain' && id === undefined) {
    only(method, 'POST');
    const { timeoutMs } = parse(ApiDrain, req.headers['content-length'] === undefined || req.headers['content-length'] === '0' ? {} : await jsonBody(req));
    return { status: 202, value: deps.drain(timeoutMs) };
  }
  if (collection === 'rooms' && id === undefined) {
    only(method, 'GET');
    return { status: 200, value: await listRooms(req, deps) };
  }
  if (collection === 'rooms' && id !== undefined) {
    const roomId = parse(RoomId, id);
    const room = deps.originIfOpen(roomId);
    if (!room) {
      const origin = isForwarded(req) ? undefined : await deps.originElsewhere(roomId);
      if (!origin) throw new NotFoundError('NOT_FOUND', `room ${roomId} is not open`);
      const body = method === 'GET' || method === 'DELETE' ? undefined : await readBody(req, MAX_BODY_BYTES);
      return { forwarded: await askNode(req, origin, `/api/server${path}`, body) };
    }
    return roomRoute(req, method, room, [sub, subId, action], deps);
  }
  if (collection === 'recordings') {
    const store = deps.recordings;
    if (!store) throw new NotFoundError('NOT_FOUND', 'recordings are off on this node (HLS=false, or no FFmpeg)');
    if (id === undefined) {
      only(method, 'GET');
      const room = query.get('room');
      return { status: 200, value: { recordings: await store.list(room === null ? undefined : parse(RoomId, room)) } };
    }
    const recordingId = parse(RecordingId, id);
    const recording = await store.get(recordingId);
    if (!recording) throw new NotFoundError('NOT_FOUND', `no recording ${recordingId} on this node`);
    if (method === 'GET') return { status: 200, value: recording };
    only(method, 'DELETE');
    if (recording.status === 'recording') throw new InvalidInputError('PRECONDITION_FAILED', 'the show is still being recorded');
    await deps.deleteRecording(recording);
    return { status: 200, value: { deleted: recordingId } };
  }
  throw new NotFoundError('NOT_FOUND', `nothing at /api/server${path}`);
}

async function roomRoute(req: IncomingMessage, method: string, room: Room, [sub, participantId, action]: (string | undefined)[], deps: ServerApiDeps): Promise<ApiReply> {
  if (sub === undefined) {
    if (method === 'GET') return { status: 200, value: roomDetail(room, deps.nodeId) };
    only(method, 'DELETE');
    room.close('ended_by_operator');
    return { status: 200, value: { ended: room.id } };
  }
  if (sub === 'chat' && participantId === undefined) {
    only(method, 'POST');
    const { text } = parse(ApiSystemChat, await jsonBody(req));
    return { status: 200, value: room.systemChat(text) };
  }
  if (sub !== 'participants' || participantId === undefined) throw new NotFoundError('NOT_FOUND', `nothing at ${sub}`);
  if (action === undefined) {
    only(method, 'DELETE');
    room.remove('operator', participantId);
    return { status: 200, value: { removed: participantId } };
  }
  only(method, 'POST');
  if (action === 'mute') {
    const { kind, muted } = parse(ApiMute, await jsonBody(req));
    await room.mute('operator', participantId, kind, muted);
    return { status: 200, value: { participantId, kind, muted } };
  }
  if (action === 'stage') {
    const { onStage } = parse(ApiStageMove, await jsonBody(req));
    if (onStage) room.inviteToStage('operator', participantId);
    else room.removeFromStage('operator', participantId);
    return { status: 200, value: { participantId, onStage, ...(onStage ? { invited: true } : {}) } };
  }
  throw new NotFoundError('NOT_FOUND', `no participant action ${action}`);
}

function summary(room: Room, node: string): ApiRoom {
  return { room: room.id, node, live: room.state === 'live', participants: room.size, viewers: room.viewers };
}

function roomDetail(room: Room, node: string): ApiRoomDetail {
  return { ...summary(room, node), stage: room.stageState(), participants: room.listParticipants('operator', 0, Number.MAX_SAFE_INTEGER).participants };
}

/** This node's rooms, and (unless another node asked) every other node's. */
async function listRooms(req: IncomingMessage, deps: ServerApiDeps): Promise<ApiRoomList> {
  const mine = deps.origins().map((r) => summary(r, deps.nodeId));
  if (isForwarded(req)) return { rooms: mine };
  const { answers, unanswered } = await askEveryNode(req, deps.peers(), '/api/server/rooms', ApiRoomList);
  return { rooms: [...mine, ...answers.flatMap((a) => a.rooms)], ...(unanswered.length > 0 ? { unansweredNodes: unanswered } : {}) };
}

function authenticate(req: IncomingMessage, credentials: ApiCredentials | undefined): void {
  if (!credentials) throw new NotFoundError('NOT_FOUND', 'the server API is off: set API_KEY and API_SECRET');
  const header = req.headers.authorization;
  if (!header?.startsWith('Basic ')) throw new AuthError('TOKEN_MISSING', 'send Authorization: Basic base64(API_KEY:API_SECRET)');
  const given = Buffer.from(Buffer.from(header.slice(6), 'base64').toString('utf8'));
  const want = Buffer.from(`${credentials.key}:${credentials.secret}`);
  if (given.length !== want.length || !timingSafeEqual(given, want)) throw new AuthError('TOKEN_INVALID', 'wrong API key or secret');
}

function only(method: string, allowed: string): void {
  if (method !== allowed) throw new InvalidInputError('METHOD_NOT_ALLOWED', `use ${allowed} here`);
}

function parse<T extends z.ZodTypeAny>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new InvalidInputError('INVALID_PAYLOAD', `${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new InvalidInputError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
  return readJson(req, MAX_BODY_BYTES);
}
