import type { Socket } from 'socket.io';
import { z } from 'zod';
import {
  MAX_REQUEST_BYTES,
  isRequestName,
  requests,
  type Ack,
  type RequestName,
  type ResponseData,
  type Role,
  type RtpCapabilities,
} from '@onstage/protocol';
import { ForbiddenError, InvalidInputError, NodeFullError, OnstageError, StateError, toErrorBody, UnavailableError } from '../errors.ts';
import type { NodeInfo } from '../cluster/cluster.ts';
import type { Logger } from '../logger.ts';
import { claimsOf } from '../auth/socket-auth.ts';
import { TokenExpiry } from '../auth/token-expiry.ts';
import { verifyToken } from '../auth/tokens.ts';
import type { Connection, Participant } from '../rooms/participant.ts';
import type { RoomRegistry, ServedRoom } from '../rooms/room-registry.ts';
import type { Metrics } from '../metrics.ts';
import { isRoomRequest, requestHandlers, runRoomRequest } from './request-handlers.ts';
import { RequestLimiter } from './request-limits.ts';
import { TokenBucket } from '../rooms/token-bucket.ts';

type AckFn = (response: Ack<RequestName>) => void;

/** Requests of one connection waiting for their turn; more are refused at once. */
const MAX_QUEUED_REQUESTS = 16;
/** Requests refused for rate limits, at once and per second, before the connection is dropped. */
const MAX_REFUSALS_BURST = 100;
const MAX_REFUSALS_PER_SECOND = 10;
/** How long before its token expires a connection is told to renew it. */
const TOKEN_NOTICE_MS = 60_000;

export type SessionDeps = {
  rooms: RoomRegistry;
  metrics: Metrics;
  logger: Logger;
  tokenSecret: string;
  /** The cluster's other nodes, told to clients at join so they can go on there if this node dies. */
  peers: () => readonly NodeInfo[];
  /** Participants this node takes before it sends newcomers to the least-loaded other node. */
  maxParticipants: number | undefined;
  /** The node is draining: newcomers go to other nodes. */
  draining: () => boolean;
  /** What every room router on this node receives and sends; told to each client as it connects (`hello`). */
  routerRtpCapabilities: RtpCapabilities;
};

/**
 * One client connection. Turns wire requests into calls on rooms, one request at a time (so a
 * client cannot race its own requests), and answers each with exactly one ack. Each request kind
 * has a rate limit and the queue is bounded: a flooding client gets RATE_LIMITED at once, costs
 * the server almost nothing, and delays nobody else.
 */
export class SignallingSession {
  readonly #socket: Socket;
  readonly #rooms: RoomRegistry;
  readonly #metrics: Metrics;
  readonly #tokenSecret: string;
  readonly #peers: () => readonly NodeInfo[];
  readonly #maxParticipants: number | undefined;
  readonly #draining: () => boolean;
  readonly #expiry: TokenExpiry;
  #logger: Logger;
  #membership: { room: ServedRoom; participant: Participant } | undefined;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  readonly #limiter = new RequestLimiter();
  /** Refused requests this connection may send before it is disconnected. */
  readonly #refusals = new TokenBucket(MAX_REFUSALS_BURST, MAX_REFUSALS_PER_SECOND, performance.now());
  #abusive = false;
  /** How rooms reach this client; a participant keeps it until a reconnect replaces it. */
  readonly #connection: Connection;

  constructor(socket: Socket, deps: SessionDeps) {
    this.#socket = socket;
    this.#rooms = deps.rooms;
    this.#metrics = deps.metrics;
    this.#tokenSecret = deps.tokenSecret;
    this.#peers = deps.peers;
    this.#maxParticipants = deps.maxParticipants;
    this.#draining = deps.draining;
    this.#logger = deps.logger.child({ socket: socket.id });
    // A session lives as long as its token: renewed over the connection, or closed at expiry (the
    // participant keeps its place for the grace period, so a client with a fresh token resumes).
    this.#expiry = new TokenExpiry(claimsOf(socket).exp * 1000, TOKEN_NOTICE_MS, {
      expiring: (expiresAt) => socket.emit('tokenExpiring', { expiresAt }),
      expired: () => {
        this.#logger.info('token expired; closing the connection');
        socket.emit('tokenExpired', {});
        socket.disconnect(true);
      },
    });
    this.#connection = {
      id: socket.id,
      notify: (name, body) => socket.emit(name, body),
      close: () => socket.disconnect(true),
    };
    socket.onAny((event: unknown, ...args: unknown[]) => this.#onRequest(event, args));
    // Sent with the connection's opening, so the client loads its device while it joins.
    socket.emit('hello', { routerRtpCapabilities: deps.routerRtpCapabilities });
    socket.on('disconnect', (reason) => {
      this.#logger.debug({ reason }, 'disconnected');
      this.#expiry.stop();
      // A dropped connection keeps the participant's place for the grace period; `leave` does not.
      this.#queue = this.#queue.then(() => {
        const membership = this.membership;
        this.#membership = undefined;
        membership?.room.disconnect(membership.participant, this.#connection);
      });
    });
  }

  /** This connection's logger (with room and participant once joined). */
  get logger(): Logger {
    return this.#logger;
  }

  /** The room this client is in, while this connection still speaks for the participant. */
  get membership(): { room: ServedRoom; participant: Participant } | undefined {
    if (this.#membership && !this.#membership.participant.isConnectedThrough(this.#connection)) this.#membership = undefined;
    return this.#membership;
  }

  async join(roomId: string, role: Role): Promise<{ room: ServedRoom; participant: Participant; welcome: ResponseData<'join'> }> {
    if (this.membership) throw new StateError('ALREADY_JOINED', 'already in a room; leave it first');
    const claims = claimsOf(this.#socket);
    if (claims.room !== roomId) throw new ForbiddenError(`your token is for room "${claims.room}"`, 'WRONG_ROOM');
    if (claims.role !== role) throw new ForbiddenError(`your token allows joining as ${claims.role}`, 'ROLE_NOT_ALLOWED');
    if (this.#draining()) this.#assertTakenWhileDraining(roomId, role);
    if (role !== 'host') this.#assertRoomForMore();
    const placed = await this.#rooms.placeElsewhere(roomId);
    if (placed) {
      this.#metrics.placedAway();
      throw new StateError('ROOM_ON_OTHER_NODE', `room ${roomId} opens on node ${placed.nodeId}, the least loaded now`, placed.url);
    }
    // A room can close between open() and join() when its last member leaves meanwhile; retry once.
    for (let attempt = 0; ; attempt++) {
      const room = await this.#rooms.open(roomId);
      if (room.state === 'closed' && attempt === 0) continue;
      const { participant, welcome } = await room.enter({
        identity: claims.sub,
        displayName: claims.name ?? claims.sub,
        role,
        connection: this.#connection,
      });
      this.#membership = { room, participant };
      this.#socket.data.participantId = participant.id;
      this.#logger = this.#logger.child({ room: roomId, peer: participant.id });
      return { room, participant, welcome: { ...welcome, nodes: this.#peers().map((n) => n.url) } };
    }
  }

  /**
   * A full node sends newcomers to the least-loaded other node (the SDK follows; they resume there
   * if they were here before); alone, it refuses them. Hosts are never sent away: their room's media enters here.
   */
  #assertRoomForMore(): void {
    const max = this.#maxParticipants;
    if (max === undefined || this.#rooms.participantCount < max) return;
    const [emptiest] = [...this.#peers()].sort((a, b) => a.participants - b.participants);
    this.#metrics.sentAway();
    throw new NodeFullError(`this node is full (${max} participants)`, emptiest?.url);
  }

  /**
   * A draining node sends newcomers (and viewers it moved away, coming back) to the least-loaded
   * other node; the SDK follows. Hosts of its running shows stay (their media enters here). Alone,
   * it still takes viewers of a show that is on (there is nowhere else to watch it) but no new show.
   */
  #assertTakenWhileDraining(roomId: string, role: Role): void {
    const [emptiest] = [...this.#peers()].sort((a, b) => a.participants - b.participants);
    const openHere = this.#rooms.isOrigin(roomId);
    if (role === 'host' && openHere) return;
    if (emptiest) {
      this.#metrics.sentAway();
      if (role === 'host') throw new StateError('ROOM_ON_OTHER_NODE', `this node is draining; open room ${roomId} on node ${emptiest.nodeId}`, emptiest.url);
      throw new NodeFullError('this node is draining', emptiest.url);
    }
    if (role !== 'host' && this.#rooms.isLive(roomId)) return;
    throw new UnavailableError('this node is draining and takes no new show');
  }

  /** Takes a fresh token for the same room, person and role; returns its expiry (ms). */
  renewToken(token: string): number {
    const claims = verifyToken(token, this.#tokenSecret);
    const current = claimsOf(this.#socket);
    if (claims.room !== current.room || claims.sub !== current.sub || claims.role !== current.role) {
      throw new ForbiddenError('the new token is for another room, person or role');
    }
    this.#socket.data.claims = claims;
    this.#expiry.renew(claims.exp * 1000);
    return this.#expiry.expiresAt;
  }

  leave(): void {
    const membership = this.membership;
    this.#membership = undefined;
    membership?.room.leave(membership.participant);
  }

  #onRequest(event: unknown, args: unknown[]): void {
    const ack = typeof args.at(-1) === 'function' ? (args.pop() as AckFn) : undefined;
    const name = typeof event === 'string' ? event : String(event);
    const label = isRequestName(name) ? name : 'unknown';
    const answer = (response: Ack<RequestName>, started: number) => {
      this.#metrics.observeRequest(label, response.ok ? 'ok' : response.error.code, performance.now() - started);
      if (ack) ack(response);
      else if (!response.ok) this.#socket.emit('requestError', { request: label, error: response.error });
    };
    if (this.#abusive) return;
    const refusal = !this.#limiter.take(label)
      ? { code: 'RATE_LIMITED' as const, message: `too many ${label} requests; slow down` }
      : this.#queued >= MAX_QUEUED_REQUESTS
        ? { code: 'RATE_LIMITED' as const, message: `${MAX_QUEUED_REQUESTS} requests are already waiting; wait for their answers` }
        : undefined;
    if (refusal) {
      // A client that keeps going far over its limits is not a client we serve: drop it before it costs more.
      if (!this.#refusals.take(performance.now())) return this.#dropAbusive(label);
      return answer({ ok: false, error: refusal }, performance.now());
    }
    this.#queued++;
    this.#queue = this.#queue.then(async () => {
      const started = performance.now();
      let response: Ack<RequestName>;
      try {
        response = { ok: true, data: await this.#handle(name, args) };
      } catch (err) {
        if (!(err instanceof OnstageError)) this.#logger.error({ err, request: name }, 'request failed');
        response = { ok: false, error: toErrorBody(err) };
      }
      this.#queued--;
      answer(response, started);
    });
  }

  #dropAbusive(request: string): void {
    this.#abusive = true;
    this.#metrics.observeRequest(isRequestName(request) ? request : 'unknown', 'RATE_LIMITED', 0);
    this.#logger.warn({ request }, 'disconnecting a client far over its request limits');
    this.#socket.emit('removed', { reason: 'rate_limited' });
    this.#socket.disconnect(true);
  }

  async #handle(name: string, args: unknown[]): Promise<ResponseData<RequestName>> {
    if (!isRequestName(name)) throw new InvalidInputError('UNKNOWN_REQUEST', `unknown request "${name.slice(0, 64)}"`);
    if (args.length !== 1) throw new InvalidInputError('INVALID_PAYLOAD', `${name} takes exactly one object argument`);
    const size = bodySize(args[0]);
    if (size > MAX_REQUEST_BYTES) {
      throw new InvalidInputError('PAYLOAD_TOO_LARGE', `${name} body is ${size} bytes; the limit is ${MAX_REQUEST_BYTES}`);
    }
    const parsed = requests[name].request.safeParse(args[0]);
    if (!parsed.success) throw new InvalidInputError('INVALID_PAYLOAD', `${name}: ${z.prettifyError(parsed.error)}`);
    if (isRoomRequest(name)) {
      const membership = this.membership;
      if (!membership) throw new StateError('NOT_JOINED', 'join a room first');
      return runRoomRequest(membership.room, membership.participant, name, parsed.data as never);
    }
    // The body was parsed by this request's own schema, so it fits this request's handler.
    const handler = requestHandlers[name] as (s: SignallingSession, body: unknown) => Promise<ResponseData<RequestName>>;
    return handler(this, parsed.data);
  }
}

/** The body's size as JSON; a body too deeply nested to serialize is refused, not a server error. */
function bodySize(body: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(body) ?? '');
  } catch {
    throw new InvalidInputError('INVALID_PAYLOAD', 'the body is nested too deeply');
  }
}
