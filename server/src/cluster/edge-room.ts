import { EventEmitter } from 'node:events';
import type { DtlsParameters, MediaKind, Quality, RequestBody, ResponseData, RtpCapabilities, RtpParameters, ServerEvent, ServerEventName } from '@onstage/protocol';
import { ForbiddenError, StateError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { NodePipe, PipeAddress, PipedProducer, PipeEndpoint } from '../media/node-pipe.ts';
import type { Direction, PeerMedia, PlainTransportOptions } from '../media/peer-media.ts';
import type { ProducerOwner } from '../media/producer-directory.ts';
import type { RoomRouter } from '../media/room-router.ts';
import { Participant, type Connection } from '../rooms/participant.ts';
import type { JoinInit, RoomState, Welcome } from '../rooms/room.ts';
import type { RoomChannel } from '../rooms/room-channel.ts';
import type { RoomRequestName } from '../signalling/request-handlers.ts';
import type { LinkMessages } from './link-protocol.ts';
import type { OriginLink } from './origin-link.ts';

type EdgeRoomEvents = { closed: [] };

/** A participant served here: the origin's participant, with its media and connection on this node. */
type Member = { participant: Participant; media: PeerMedia };

/**
 * A room whose origin is another node, as this node serves it: its own router (and workers) fan
 * the room's media out to the participants connected here, fed through one pipe from the
 * origin (each producer once, whatever the number of viewers here); the room's state and rules
 * stay on the origin, which this node asks for everything else. Participants and the SDK see
 * the same protocol as on the origin.
 */
export class EdgeRoom extends EventEmitter<EdgeRoomEvents> {
  readonly kind = 'edge';
  readonly id: string;
  readonly #link: OriginLink;
  readonly #router: RoomRouter;
  readonly #channel: RoomChannel;
  readonly #pipeAddress: PipeAddress;
  readonly #logger: Logger;
  /** By connection id: a participant who reconnects here is a new member until the origin closes the old one. */
  readonly #members = new Map<string, Member>();
  readonly #receiving = new Map<string, Promise<void>>();
  #pipe: Promise<NodePipe> | undefined;
  /** Who is on stage, as the origin last said (its stage events pass through here before reaching clients). */
  #onStage = new Set<string>();
  #messagesSent = 0;
  #closed = false;
  readonly #unlisten: () => void;

  constructor(id: string, link: OriginLink, router: RoomRouter, channel: RoomChannel, pipeAddress: PipeAddress, logger: Logger) {
    super();
    this.id = id;
    this.#link = link;
    this.#router = router;
    this.#channel = channel;
    this.#pipeAddress = pipeAddress;
    this.#logger = logger;
    router.once('failed', () => this.close('the room lost its router here'));
    router.on('peersLost', (lost) => {
      const gone = new Set<object>(lost);
      for (const m of this.#members.values()) if (gone.has(m.media)) m.participant.dropConnection();
    });
    const mine = (roomId: string) => roomId === this.id;
    const handlers: { [K in keyof LinkMessages]: LinkMessages[K] } = {
      event: ({ roomId, name, body, except }) => mine(roomId) && this.#fanOut(name, body, except),
      notify: ({ roomId, connectionId, name, body }) => {
        const member = mine(roomId) ? this.#members.get(connectionId) : undefined;
        if (member) this.#notify(member.participant, name, body);
      },
      drop: ({ roomId, connectionId }) => mine(roomId) && this.#members.get(connectionId)?.participant.dropConnection(),
      media: (m) => mine(m.roomId) && void this.#onMedia(m),
      pipe: (m) => mine(m.roomId) && this.#onPipe(m),
      roomClosed: ({ roomId }) => mine(roomId) && this.close('the room closed on its origin'),
    };
    const lost = () => this.#originLost();
    for (const [name, handler] of Object.entries(handlers)) link.on(name as keyof LinkMessages, handler as never);
    link.on('lost', lost);
    this.#unlisten = () => {
      for (const [name, handler] of Object.entries(handlers)) link.off(name as keyof LinkMessages, handler as never);
      link.off('lost', lost);
    };
  }

  get state(): RoomState {
    return this.#closed ? 'closed' : 'live';
  }

  /** Participants connected here. */
  get size(): number {
    return this.#members.size;
  }

  get messagesSent(): number {
    return this.#messagesSent;
  }

  /** The URL clients reach the room's origin node at (where its host goes live). */
  get originUrl(): string {
    return this.#link.url;
  }

  get originNodeId(): string {
    return this.#link.nodeId;
  }

  placement(): Map<number, number> {
    return this.#router.placement();
  }

  /** Producers coming in from the origin now (one pipe producer each, whatever the viewers here). */
  get receivedProducers(): number {
    return this.#router.producers.announced().length;
  }

  /** Joins (or resumes) the participant on the origin; their media is here. */
  async enter(init: JoinInit): Promise<{ participant: Participant; welcome: Welcome }> {
    if (this.#closed) throw new StateError('NOT_JOINED', 'the room closed here; join again');
    if (init.role === 'host') {
      throw new StateError('ROOM_ON_OTHER_NODE', `the host goes live on the room's origin node, ${this.#link.nodeId} at ${this.originUrl}`, this.originUrl);
    }
    const { connection } = init;
    const welcome = (await this.#link.request('join', {
      roomId: this.id,
      connectionId: connection.id,
      identity: init.identity,
      displayName: init.displayName,
      role: init.role,
    })) as Welcome;
    if (this.#closed) throw new StateError('NOT_JOINED', 'the room closed here; join again');
    this.#onStage = new Set(welcome.stage.seats.map((s) => s.participantId));
    const log = this.#logger.child({ peer: welcome.participantId, role: welcome.role });
    const media = this.#router.createPeer(log, false);
    const participant = new Participant({ ...init, id: welcome.participantId, seq: 0, media, connection });
    media.on('consumerClosed', (consumerId) => {
      if (participant.media === media) this.#notify(participant, 'consumerClosed', { consumerId });
    });
    this.#members.set(connection.id, { participant, media });
    this.#channel.add(connection);
    log.info({ origin: this.#link.nodeId }, welcome.resumed ? 'resumed (edge)' : 'joined (edge)');
    return { participant, welcome: { ...welcome, routerRtpCapabilities: this.#router.rtpCapabilities } };
  }

  leave(participant: Participant): void {
    const member = this.#memberOf(participant);
    if (!member) return;
    this.#forget(member);
    this.#link.request('leave', { roomId: this.id, participantId: participant.id }).catch((err: unknown) => this.#logger.warn({ err, peer: participant.id }, 'the origin did not take a leave'));
  }

  /** The connection dropped: the origin keeps the participant's place for the grace period, and their media here with it. */
  disconnect(participant: Participant, connection: Connection): void {
    if (this.#closed || !participant.detach(connection)) return;
    this.#channel.remove(connection);
    this.#link
      .request('connectionLost', { roomId: this.id, participantId: participant.id, connectionId: connection.id })
      .catch((err: unknown) => this.#logger.warn({ err, peer: participant.id }, 'the origin did not take a disconnect'));
  }

  /** A room request: the origin runs it. */
  async forward<N extends RoomRequestName>(participant: Participant, name: N, body: RequestBody<N>): Promise<ResponseData<N>> {
    return (await this.#link.request('request', { roomId: this.id, participantId: participant.id, name, body })) as ResponseData<N>;
  }

  // Media: served here ---------------------------------------------------------------------------

  async createTransport(participant: Participant, direction: Direction) {
    if (direction === 'send') this.#assertOnStage(participant);
    return this.#media(participant).createTransport(direction);
  }

  async createPlainTransport(participant: Participant, options: PlainTransportOptions) {
    if (options.direction === 'send') this.#assertOnStage(participant);
    return this.#media(participant).createPlainTransport(options);
  }

  async connectTransport(participant: Participant, transportId: string, dtlsParameters: DtlsParameters): Promise<void> {
    await this.#media(participant).connectTransport(transportId, dtlsParameters);
  }

  async consume(participant: Participant, transportId: string, producerId: string, rtpCapabilities: RtpCapabilities) {
    const media = this.#media(participant);
    await this.#receive(producerId);
    return media.consume(transportId, producerId, rtpCapabilities);
  }

  async resumeConsumer(participant: Participant, consumerId: string): Promise<void> {
    await this.#media(participant).resumeConsumer(consumerId);
  }

  closeProducer(participant: Participant, producerId: string): void {
    this.#media(participant).closeProducer(producerId);
  }

  /**
   * A co-host served here publishes: the producer is made here (viewers here receive it from this
   * node directly) and sent up the pipe to the origin, which announces it and sends it on to the
   * other edges.
   */
  async produce(participant: Participant, transportId: string, kind: MediaKind, rtpParameters: RtpParameters, videoHeight?: number): Promise<{ producerId: string }> {
    this.#assertOnStage(participant);
    const media = this.#media(participant);
    const { producerId } = await media.produce(transportId, kind, rtpParameters);
    try {
      const pipe = await this.#openPipe();
      const tell = (change: { paused?: boolean; closed?: true }) =>
        void this.#link.request('pipeState', { roomId: this.id, producerId, ...change }).catch((err: unknown) => this.#logger.warn({ err, producerId }, 'the origin did not take a producer change'));
      const piped = await this.#router.sendToNode(pipe, producerId, { paused: (paused) => tell({ paused }), closed: () => tell({ closed: true }) });
      if (!piped) throw new ForbiddenError('you left the stage');
      await this.#link.request('publish', { roomId: this.id, participantId: participant.id, piped, ...(videoHeight ? { videoHeight } : {}) });
      return { producerId };
    } catch (err) {
      media.closeProducer(producerId);
      throw err;
    }
  }

  async setPreferredQuality(participant: Participant, quality: Quality): Promise<void> {
    await this.#media(participant).setPreferredQuality(quality);
  }

  async producerStats(participant: Participant) {
    return this.#media(participant).producerStats();
  }

  /** Closes the room here: its participants' media, the pipe, the router. */
  close(why: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unlisten();
    for (const member of this.#members.values()) member.participant.markLeft();
    this.#members.clear();
    this.#channel.close();
    this.#router.close();
    this.#logger.info({ why }, 'edge room closed');
    this.emit('closed');
  }

  // Internals ------------------------------------------------------------------------------------

  #assertOnStage(participant: Participant): void {
    if (!this.#onStage.has(participant.id)) throw new ForbiddenError('only the host and co-hosts on stage may publish media');
  }

  #memberOf(participant: Participant): Member | undefined {
    const connection = participant.connection;
    const member = connection && this.#members.get(connection.id);
    return member?.participant === participant ? member : undefined;
  }

  #media(participant: Participant): PeerMedia {
    const member = this.#memberOf(participant);
    if (!member) throw new StateError('NOT_JOINED', 'join a room first');
    return member.media;
  }

  #forget(member: Member): void {
    const connection = member.participant.connection;
    member.participant.markLeft();
    for (const [id, m] of this.#members) if (m === member) this.#members.delete(id);
    if (connection) this.#channel.remove(connection);
  }

  #fanOut(name: Parameters<LinkMessages['event']>[0]['name'], body: Parameters<LinkMessages['event']>[0]['body'], except?: string): void {
    if (name === 'stageChanged') this.#onStage = new Set((body as ServerEvent<'stageChanged'>).seats.map((s) => s.participantId));
    const skip = except === undefined ? undefined : this.#members.get(except)?.participant.connection;
    this.#messagesSent += this.#channel.emit(name, body, skip);
  }

  #notify: <N extends ServerEventName>(p: Participant, name: N, body: ServerEvent<N>) => void = (p, name, body) => {
    this.#messagesSent++;
    p.notify(name, body);
  };

  async #onMedia({ connectionId, op, kind }: Parameters<LinkMessages['media']>[0]): Promise<void> {
    const member = this.#members.get(connectionId);
    if (!member) return;
    if (op === 'close') return this.#forget(member);
    if (op === 'closeProducers') return member.media.closeProducers();
    if (kind) await member.media.setPaused(kind, op === 'pause').catch((err: unknown) => this.#logger.warn({ err }, 'cannot pause'));
  }

  /** The pipe to the origin, opened on first use. */
  #openPipe(): Promise<NodePipe> {
    this.#pipe ??= (async () => {
      const pipe = await this.#router.openNodePipe(this.#pipeAddress);
      try {
        const remote = (await this.#link.request('openPipe', { roomId: this.id, endpoint: pipe.endpoint })) as PipeEndpoint;
        await pipe.connect(remote);
        return pipe;
      } catch (err) {
        pipe.close();
        throw err;
      }
    })();
    this.#pipe.catch(() => (this.#pipe = undefined));
    return this.#pipe;
  }

  /** Makes the origin's producer a producer here (through the pipe), once for everyone here. */
  async #receive(producerId: string): Promise<void> {
    if (this.#router.producers.get(producerId)) return;
    let receiving = this.#receiving.get(producerId);
    if (!receiving) {
      receiving = (async () => {
        const pipe = await this.#openPipe();
        const { piped, owner } = (await this.#link.request('pipeProducer', { roomId: this.id, producerId })) as { piped: PipedProducer; owner: ProducerOwner };
        await this.#router.receiveFromNode(pipe, piped, owner);
      })().finally(() => this.#receiving.delete(producerId));
      this.#receiving.set(producerId, receiving);
    }
    await receiving;
  }

  #onPipe({ producerId, paused, closed }: Parameters<LinkMessages['pipe']>[0]): void {
    const apply = () => {
      const producer = this.#router.producers.get(producerId)?.producer;
      if (!producer) return;
      if (closed) producer.close();
      else if (paused === true) void producer.pause();
      else if (paused === false) void producer.resume();
    };
    // A change that overtakes the producer's arrival here applies once it is here.
    const receiving = this.#receiving.get(producerId);
    if (receiving) receiving.then(apply, () => undefined);
    else apply();
  }

  /** The origin node is unreachable: participants here reconnect (to be served again once the room has an origin). */
  #originLost(): void {
    this.#logger.warn('lost the origin node; dropping the participants served here');
    for (const member of [...this.#members.values()]) member.participant.dropConnection();
    this.close('lost the origin node');
  }
}
