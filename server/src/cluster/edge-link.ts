import type { Namespace, Socket } from 'socket.io';
import { z } from 'zod';
import { isRequestName, requests, type MediaKind } from '@onstage/protocol';
import { InvalidInputError, NotFoundError, OnstageError, StateError, toErrorBody } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { NodePipe, PipeAddress } from '../media/node-pipe.ts';
import type { Connection, Participant, ParticipantMedia, Relay } from '../rooms/participant.ts';
import type { Room } from '../rooms/room.ts';
import { isRoomRequest, roomRequestHandlers } from '../signalling/request-handlers.ts';
import { linkRequests, verifyNodeCredentials, type LinkAck, type LinkRequest, type LinkRequestName } from './link-protocol.ts';

export type EdgeLinkDeps = {
  /** This node's open room with the id, when this node is its origin. */
  originRoom(roomId: string): Promise<Room>;
  pipeAddress: PipeAddress;
  secret: string;
  logger: Logger;
};

/** What one edge node has of one room here: its connections' relay and the room's pipe to it. */
type EdgeRoomState = { room: Room; relay: Relay; pipe?: Promise<NodePipe>; participants: Map<string, Participant> };

/**
 * The origin's side of the cluster: every edge node connects to `/cluster` (authenticated with
 * the cluster's shared secret), and one EdgeLink serves each. Participants the edge serves join
 * the origin's room with a connection that reaches them through the link and with media that
 * lives on the edge; the room's producers go down one pipe per room to that node.
 */
export function serveEdges(
  namespace: Namespace,
  deps: EdgeLinkDeps,
): { links(): number; pipedProducers(): Map<string, number>; pipeBytesSent(): Promise<Map<string, number>> } {
  const links = new Set<EdgeLink>();
  namespace.use((socket, next) => {
    const nodeId = verifyNodeCredentials(deps.secret, socket.handshake.auth);
    if (!nodeId) return next(new Error('not a node of this cluster'));
    socket.data.nodeId = nodeId;
    next();
  });
  namespace.on('connection', (socket) => {
    const link = new EdgeLink(socket, deps);
    links.add(link);
    socket.on('disconnect', () => links.delete(link));
  });
  return {
    links: () => links.size,
    pipedProducers: () => {
      const out = new Map<string, number>();
      for (const link of links) out.set(link.nodeId, (out.get(link.nodeId) ?? 0) + link.pipedProducers());
      return out;
    },
    pipeBytesSent: async () => {
      const out = new Map<string, number>();
      for (const link of links) out.set(link.nodeId, (out.get(link.nodeId) ?? 0) + (await link.pipeBytesSent()));
      return out;
    },
  };
}

class EdgeLink {
  readonly nodeId: string;
  readonly #socket: Socket;
  readonly #deps: EdgeLinkDeps;
  readonly #logger: Logger;
  readonly #rooms = new Map<string, EdgeRoomState>();
  #piped = 0;

  constructor(socket: Socket, deps: EdgeLinkDeps) {
    this.#socket = socket;
    this.#deps = deps;
    this.nodeId = String(socket.data.nodeId);
    this.#logger = deps.logger.child({ edge: this.nodeId });
    this.#logger.info('edge node connected');
    for (const name of Object.keys(linkRequests) as LinkRequestName[]) {
      socket.on(name, (body: unknown, ack: unknown) => {
        if (typeof ack !== 'function') return;
        void this.#answer(name, body).then((reply) => (ack as (a: LinkAck) => void)(reply));
      });
    }
    socket.on('disconnect', (reason) => this.#lost(reason));
  }

  pipedProducers(): number {
    return this.#piped;
  }

  /** Bytes sent so far down this edge's open pipes. */
  async pipeBytesSent(): Promise<number> {
    let n = 0;
    for (const state of this.#rooms.values()) n += await (state.pipe ?? Promise.resolve(undefined)).then((p) => p?.bytesSent() ?? 0, () => 0);
    return n;
  }

  async #answer(name: LinkRequestName, body: unknown): Promise<LinkAck> {
    try {
      const parsed = linkRequests[name].safeParse(body);
      if (!parsed.success) throw new InvalidInputError('INVALID_PAYLOAD', `${name}: ${z.prettifyError(parsed.error)}`);
      return { ok: true, data: await this.#handle(name, parsed.data) };
    } catch (err) {
      if (!(err instanceof OnstageError)) this.#logger.error({ err, request: name }, 'edge request failed');
      return { ok: false, error: toErrorBody(err) };
    }
  }

  async #handle(name: LinkRequestName, body: unknown): Promise<unknown> {
    switch (name) {
      case 'join':
        return this.#join(body as LinkRequest<'join'>);
      case 'request': {
        const { roomId, participantId, name: request, body: requestBody } = body as LinkRequest<'request'>;
        const participant = this.#participant(roomId, participantId);
        if (!isRequestName(request) || !isRoomRequest(request)) throw new InvalidInputError('UNKNOWN_REQUEST', `not a room request: ${request.slice(0, 64)}`);
        const parsed = requests[request].request.safeParse(requestBody);
        if (!parsed.success) throw new InvalidInputError('INVALID_PAYLOAD', `${request}: ${z.prettifyError(parsed.error)}`);
        const handler = roomRequestHandlers[request] as (room: Room, me: Participant, body: unknown) => Promise<unknown>;
        return handler(this.#rooms.get(roomId)!.room, participant, parsed.data);
      }
      case 'leave': {
        const { roomId, participantId } = body as LinkRequest<'leave'>;
        this.#rooms.get(roomId)?.room.leave(this.#participant(roomId, participantId));
        return {};
      }
      case 'connectionLost': {
        const { roomId, participantId, connectionId } = body as LinkRequest<'connectionLost'>;
        const participant = this.#participant(roomId, participantId);
        if (participant.connection?.id === connectionId) this.#rooms.get(roomId)?.room.disconnect(participant, participant.connection);
        return {};
      }
      case 'openPipe':
        return this.#openPipe(body as LinkRequest<'openPipe'>);
      case 'pipeProducer':
        return this.#pipeProducer(body as LinkRequest<'pipeProducer'>);
      case 'publish': {
        const { roomId, participantId, piped, videoHeight } = body as LinkRequest<'publish'>;
        const participant = this.#participant(roomId, participantId);
        const state = this.#rooms.get(roomId)!;
        return state.room.produceFromNode(participant, await this.#pipeOf(state), piped, videoHeight);
      }
      case 'pipeState': {
        const { roomId, producerId, paused, closed } = body as LinkRequest<'pipeState'>;
        const state = this.#rooms.get(roomId);
        if (state) state.room.mirrorFromNode(await this.#pipeOf(state), producerId, { ...(paused !== undefined ? { paused } : {}), ...(closed ? { closed } : {}) });
        return {};
      }
    }
  }

  async #join({ roomId, connectionId, identity, displayName, role }: LinkRequest<'join'>) {
    if (role === 'host') throw new StateError('ROOM_ON_OTHER_NODE', 'a host goes live on the origin node of the room');
    const state = await this.#roomState(roomId);
    const connection: Connection = {
      id: connectionId,
      relay: state.relay,
      notify: (name, body) => this.#socket.emit('notify', { roomId, connectionId, name, body }),
      close: () => this.#socket.emit('drop', { roomId, connectionId }),
    };
    const served: { participantId?: string } = {};
    const { participant, welcome } = await state.room.enter({ identity, displayName, role, connection, remoteMedia: () => this.#remoteMedia(state, roomId, connectionId, served) });
    state.participants.set(participant.id, participant);
    served.participantId = participant.id;
    return welcome;
  }

  /** The media of a participant on the edge: what the room does to it is sent there. */
  #remoteMedia(state: EdgeRoomState, roomId: string, connectionId: string, served: { participantId?: string }): ParticipantMedia {
    const op = (op: 'close' | 'closeProducers' | 'pause' | 'resume', kind?: MediaKind) => {
      this.#socket.emit('media', { roomId, connectionId, op, ...(kind ? { kind } : {}) });
    };
    return {
      closeProducers: () => op('closeProducers'),
      setPaused: async (kind, paused) => op(paused ? 'pause' : 'resume', kind),
      close: () => {
        op('close');
        // Closed because the participant left, or resumed through another connection: forget them once the room is done.
        queueMicrotask(() => {
          const id = served.participantId;
          const p = id === undefined ? undefined : state.participants.get(id);
          if (id !== undefined && p && (p.left || p.connection?.relay !== state.relay)) state.participants.delete(id);
        });
      },
    };
  }

  async #roomState(roomId: string): Promise<EdgeRoomState> {
    const room = await this.#deps.originRoom(roomId);
    const known = this.#rooms.get(roomId);
    if (known?.room === room) return known;
    known?.pipe?.then((p) => p.close(), () => undefined);
    const state: EdgeRoomState = {
      room,
      relay: { emit: (name, body, except) => this.#socket.emit('event', { roomId, name, body, ...(except ? { except } : {}) }) },
      participants: new Map(),
    };
    this.#rooms.set(roomId, state);
    room.once('closed', () => {
      if (this.#rooms.get(roomId) !== state) return;
      this.#rooms.delete(roomId);
      this.#socket.emit('roomClosed', { roomId });
    });
    return state;
  }

  /** A participant of the room that this edge serves (an edge speaks only for its own). */
  #participant(roomId: string, participantId: string): Participant {
    const state = this.#rooms.get(roomId);
    const participant = state?.participants.get(participantId);
    if (!participant || participant.left || participant.connection?.relay !== state?.relay) throw new StateError('NOT_JOINED', 'no such participant served by this node');
    return participant;
  }

  async #openPipe({ roomId, endpoint }: LinkRequest<'openPipe'>) {
    const state = this.#rooms.get(roomId);
    if (!state) throw new StateError('NOT_JOINED', 'join a participant to the room first');
    state.pipe?.then((p) => p.close(), () => undefined);
    const pipe = state.room.openNodePipe(this.#deps.pipeAddress).then(async (p) => {
      await p.connect(endpoint);
      return p;
    });
    state.pipe = pipe;
    pipe.catch(() => state.pipe === pipe && delete state.pipe);
    return (await pipe).endpoint;
  }

  async #pipeOf(state: EdgeRoomState): Promise<NodePipe> {
    const pipe = state.pipe && (await state.pipe);
    if (!pipe || pipe.closed) throw new NotFoundError('NOT_FOUND', 'open the pipe first');
    return pipe;
  }

  async #pipeProducer({ roomId, producerId }: LinkRequest<'pipeProducer'>) {
    const state = this.#rooms.get(roomId);
    if (!state) throw new NotFoundError('NOT_FOUND', 'open the pipe first');
    const pipe = await this.#pipeOf(state);
    const sent = await state.room.sendToNode(pipe, producerId, {
      paused: (paused) => this.#socket.emit('pipe', { roomId, producerId, paused }),
      closed: () => {
        this.#piped--;
        this.#socket.emit('pipe', { roomId, producerId, closed: true });
      },
    });
    this.#piped++;
    return sent;
  }

  /** The edge is gone: its participants are away (they reconnect elsewhere and resume), its pipes close. */
  #lost(reason: string): void {
    this.#logger.warn({ reason, rooms: this.#rooms.size }, 'edge node disconnected');
    for (const state of this.#rooms.values()) {
      state.pipe?.then((p) => p.close(), () => undefined);
      for (const participant of state.participants.values()) {
        if (participant.connection?.relay === state.relay) state.room.disconnect(participant, participant.connection);
      }
    }
    this.#rooms.clear();
  }
}
