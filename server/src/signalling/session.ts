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
} from '@onstage/protocol';
import { ForbiddenError, InvalidInputError, OnstageError, StateError, toErrorBody } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { claimsOf } from '../auth/socket-auth.ts';
import type { Connection, Participant } from '../rooms/participant.ts';
import type { Room } from '../rooms/room.ts';
import type { RoomRegistry } from '../rooms/room-registry.ts';
import type { Metrics } from '../metrics.ts';
import { requestHandlers } from './request-handlers.ts';

type AckFn = (response: Ack<RequestName>) => void;

/**
 * One client connection. Turns wire requests into calls on rooms, one request at a time (so a
 * client cannot race its own requests), and answers each with exactly one ack.
 */
export class SignallingSession {
  readonly #socket: Socket;
  readonly #rooms: RoomRegistry;
  readonly #metrics: Metrics;
  #logger: Logger;
  #membership: { room: Room; participant: Participant } | undefined;
  #queue: Promise<void> = Promise.resolve();
  /** How rooms reach this client; a participant keeps it until a reconnect replaces it. */
  readonly #connection: Connection;

  constructor(socket: Socket, rooms: RoomRegistry, metrics: Metrics, logger: Logger) {
    this.#socket = socket;
    this.#rooms = rooms;
    this.#metrics = metrics;
    this.#logger = logger.child({ socket: socket.id });
    this.#connection = {
      notify: (name, body) => socket.emit(name, body),
      close: () => socket.disconnect(true),
    };
    socket.onAny((event: unknown, ...args: unknown[]) => this.#onRequest(event, args));
    socket.on('disconnect', (reason) => {
      this.#logger.debug({ reason }, 'disconnected');
      // A dropped connection keeps the participant's place for the grace period; `leave` does not.
      this.#queue = this.#queue.then(() => {
        const membership = this.membership;
        this.#membership = undefined;
        membership?.room.disconnect(membership.participant, this.#connection);
      });
    });
  }

  /** The room this client is in, while this connection still speaks for the participant. */
  get membership(): { room: Room; participant: Participant } | undefined {
    if (this.#membership && !this.#membership.participant.isConnectedThrough(this.#connection)) this.#membership = undefined;
    return this.#membership;
  }

  async join(roomId: string, role: Role): Promise<{ room: Room; participant: Participant; resumed: boolean }> {
    if (this.membership) throw new StateError('ALREADY_JOINED', 'already in a room; leave it first');
    const claims = claimsOf(this.#socket);
    if (claims.room !== roomId) throw new ForbiddenError(`your token is for room "${claims.room}"`, 'WRONG_ROOM');
    if (claims.role !== role) throw new ForbiddenError(`your token allows joining as ${claims.role}`, 'ROLE_NOT_ALLOWED');
    // A room can close between open() and join() when its last member leaves meanwhile; retry once.
    for (let attempt = 0; ; attempt++) {
      const room = await this.#rooms.open(roomId);
      if (room.state === 'closed' && attempt === 0) continue;
      const { participant, resumed } = room.join({
        identity: claims.sub,
        displayName: claims.name ?? claims.sub,
        role,
        connection: this.#connection,
      });
      this.#membership = { room, participant };
      this.#socket.data.participantId = participant.id;
      this.#logger = this.#logger.child({ room: roomId, peer: participant.id });
      return { room, participant, resumed };
    }
  }

  leave(): void {
    const membership = this.membership;
    this.#membership = undefined;
    membership?.room.leave(membership.participant);
  }

  #onRequest(event: unknown, args: unknown[]): void {
    const ack = typeof args.at(-1) === 'function' ? (args.pop() as AckFn) : undefined;
    const name = typeof event === 'string' ? event : String(event);
    this.#queue = this.#queue.then(async () => {
      const started = performance.now();
      let response: Ack<RequestName>;
      try {
        response = { ok: true, data: await this.#handle(name, args) };
      } catch (err) {
        if (!(err instanceof OnstageError)) this.#logger.error({ err, request: name }, 'request failed');
        response = { ok: false, error: toErrorBody(err) };
      }
      const label = isRequestName(name) ? name : 'unknown';
      this.#metrics.observeRequest(label, response.ok ? 'ok' : response.error.code, performance.now() - started);
      if (ack) ack(response);
      else if (!response.ok) this.#socket.emit('requestError', { request: label, error: response.error });
    });
  }

  async #handle(name: string, args: unknown[]): Promise<ResponseData<RequestName>> {
    if (!isRequestName(name)) throw new InvalidInputError('UNKNOWN_REQUEST', `unknown request "${name.slice(0, 64)}"`);
    if (args.length !== 1) throw new InvalidInputError('INVALID_PAYLOAD', `${name} takes exactly one object argument`);
    const size = Buffer.byteLength(JSON.stringify(args[0]) ?? '');
    if (size > MAX_REQUEST_BYTES) {
      throw new InvalidInputError('PAYLOAD_TOO_LARGE', `${name} body is ${size} bytes; the limit is ${MAX_REQUEST_BYTES}`);
    }
    const parsed = requests[name].request.safeParse(args[0]);
    if (!parsed.success) throw new InvalidInputError('INVALID_PAYLOAD', `${name}: ${z.prettifyError(parsed.error)}`);
    // The body was parsed by this request's own schema, so it fits this request's handler.
    const handler = requestHandlers[name] as (s: SignallingSession, body: unknown) => Promise<ResponseData<RequestName>>;
    return handler(this, parsed.data);
  }
}
