import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type {
  ChatMessage,
  DtlsParameters,
  MediaKind,
  ParticipantInfo,
  ProducerInfo,
  Quality,
  ResponseData,
  Role,
  RtpCapabilities,
  RtpParameters,
  ServerEvent,
  ServerEventName,
  ShowEndReason,
  StageState,
} from '@onstage/protocol';
import type { RoomPolicy } from '../config.ts';
import { ForbiddenError, NotFoundError, StateError, UnavailableError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { PeerMedia, type Direction, type PlainTransportOptions } from '../media/peer-media.ts';
import type { RtpFeed, StageMember } from '@onstage/recorder';
import { recorderFeed } from '../media/recorder-feed.ts';
import type { NodePipe, PipeAddress, PipedProducer } from '../media/node-pipe.ts';
import type { ProducerDirectory, ProducerOwner } from '../media/producer-directory.ts';
import type { RoomRouter } from '../media/room-router.ts';
import { Chat } from './chat.ts';
import { Participant, type Connection, type ParticipantMedia } from './participant.ts';
import type { RoomChannel } from './room-channel.ts';
import { Stage, type UnseatReason } from './stage.ts';
import { Throttle } from './throttle.ts';

/** How often, at most, a room sends each kind of room-wide update. */
const STAGE_UPDATE_MS = 100;
const PARTICIPANTS_UPDATE_MS = 250;
const AUDIENCE_UPDATE_MS = 1000;

/**
 * The room's life:
 *   waiting ── host joins ──▶ live ── host leaves, or stays away past the grace period ──▶ waiting
 *   live ── host's connection drops ──▶ live, host away (viewers see "host reconnecting")
 *   any ── last participant gone / media fails / server stops ──▶ closed (router released)
 * The stage (co-hosts) is in stage.ts; chat in chat.ts.
 */
export type RoomState = 'waiting' | 'live' | 'closed';

/** The chat identity of system messages (no participant token can carry it: identities come from tokens). */
const SYSTEM_IDENTITY = 'onstage:system';

/** A participant's published track, as the room's observers (webhooks) learn of it. */
export type TrackInfo = { producerId: string; participantId: string; kind: MediaKind };

type RoomEvents = {
  /** The host is here: a show begins. */
  live: [];
  /** The show ended (host gone, or the room closed while live). */
  offair: [];
  /** Who is on stage or what they send changed (seats, producers added, closed, paused). */
  stageMedia: [];
  /** Someone new joined (a resume is not news). */
  participantJoined: [participant: ParticipantInfo];
  /** Someone left for good. */
  participantLeft: [participant: ParticipantInfo];
  /** The stage's seats changed (sent as often as the stage update goes out to clients). */
  stageChanged: [stage: StageState];
  trackPublished: [track: TrackInfo];
  trackUnpublished: [track: TrackInfo];
  closed: [];
};

/**
 * Who does a host's action: the host, or the operator's backend through the server API (which
 * may do whatever the host may, whether or not the host is here).
 */
export type Actor = Participant | 'operator';

/** A stage member and the media they send now (paused producers left out), host first. */
export type StageMedia = StageMember;

export type JoinInit = {
  identity: string;
  displayName: string;
  role: Role;
  connection: Connection;
  /** Media on the node that serves the connection, when that is not this node (an edge). */
  remoteMedia?: () => ParticipantMedia;
  /** The codecs, under the client's own payload types, of a client that fixed them itself (a WHEP player). */
  ownCodecs?: RtpCapabilities['codecs'];
};

/** What a participant learns on joining: the room as it is now (the node serving them adds where else to go, `nodes`). */
export type Welcome = Omit<ResponseData<'join'>, 'nodes' | 'receive'>;

/**
 * A live show: the host, co-hosts on stage, viewers, chat, and the rules of who may do what.
 * Nothing one participant does costs the room a message to everyone per action: stage changes,
 * the host's participant list and the viewer count go out throttled, as the latest state or as the
 * changes since the last update. Room-wide events go through the room's channel, encoded once.
 */
export class Room extends EventEmitter<RoomEvents> {
  /** This node holds the room's state (see EdgeRoom for a room served from another node). */
  readonly kind = 'origin';
  readonly id: string;
  readonly #router: RoomRouter;
  /** Everyone connected here, for room-wide events. */
  readonly #channel: RoomChannel;
  readonly #policy: RoomPolicy;
  readonly #logger: Logger;
  readonly #participants = new Map<string, Participant>();
  readonly #byIdentity = new Map<string, Participant>();
  /** The room's producers (owned by the router; the room announces them). */
  readonly #producers: ProducerDirectory;
  readonly #awayTimers = new Map<string, NodeJS.Timeout>();
  readonly #stage: Stage;
  readonly #chat: Chat;
  readonly #sweepTimer: NodeJS.Timeout;
  readonly #stageOut = new Throttle(STAGE_UPDATE_MS, () => {
    const stage = this.stageState();
    this.#notifyAll('stageChanged', stage);
    this.emit('stageChanged', stage);
  });
  readonly #participantsOut = new Throttle(PARTICIPANTS_UPDATE_MS, () => this.#sendParticipantChanges());
  readonly #audienceOut = new Throttle(AUDIENCE_UPDATE_MS, () => this.#sendAudience());
  /** Participants whose entry in the host's list changed since the last participantsUpdated. */
  readonly #changed = new Set<string>();
  #audienceSent = 0;
  #viewers = 0;
  #viewersAt = -Infinity;
  #nextSeq = 1;
  #messagesSent = 0;
  #host: Participant | undefined;
  #hostAwayUntil: number | undefined;
  #closed = false;

  constructor(id: string, router: RoomRouter, channel: RoomChannel, policy: RoomPolicy, logger: Logger) {
    super();
    this.id = id;
    this.#router = router;
    this.#producers = router.producers;
    this.#channel = channel;
    this.#policy = policy;
    this.#logger = logger;
    this.#stage = new Stage(policy.stage);
    this.#chat = new Chat(policy.chat);
    this.#stage.on('changed', () => {
      this.#stageOut.schedule();
      this.emit('stageMedia');
    });
    this.#stage.on('seated', (participantId) => this.#touch(participantId));
    this.#stage.on('unseated', (participantId, reason) => {
      this.#touch(participantId);
      this.#onUnseated(participantId, reason);
    });
    // Requests and invitations expire even when nobody touches the stage.
    this.#sweepTimer = setInterval(() => this.#stage.sweep(), 1000).unref();
    router.once('failed', () => this.close('media_failure'));
    // A secondary worker died: its viewers reconnect, resume, and get media on a live router.
    router.on('peersLost', (lost) => {
      const gone = new Set<ParticipantMedia>(lost);
      for (const p of this.#participants.values()) if (gone.has(p.media)) p.dropConnection();
    });
    router.on('dominantSpeaker', (producerId) => {
      const speaker = (producerId && this.#producers.get(producerId)?.owner?.participantId) ?? null;
      this.#notifyAll('activeSpeaker', { participantId: speaker });
    });
    // Producers not announced yet (still in produce()) are news to nobody, and so is anything
    // after the room closed (closing its routers closes every producer).
    this.#producers.on('closed', ({ producer, owner }) => {
      if (!owner || this.#closed) return;
      this.#notifyAll('producerClosed', { producerId: producer.id }, this.#participants.get(owner.participantId));
      this.emit('stageMedia');
      this.emit('trackUnpublished', { producerId: producer.id, participantId: owner.participantId, kind: producer.kind });
    });
    this.#producers.on('flowing', ({ owner }) => owner && !this.#closed && this.emit('stageMedia'));
    this.#producers.on('paused', ({ producer, owner }) => {
      if (!owner || this.#closed) return;
      this.#notifyAll('producerPaused', { producerId: producer.id, paused: producer.paused });
      this.emit('stageMedia');
    });
  }

  get state(): RoomState {
    if (this.#closed) return 'closed';
    return this.#host ? 'live' : 'waiting';
  }

  get size(): number {
    return this.#participants.size;
  }

  /** Viewers connected now (not those inside their reconnect grace period), counted at most once a second. */
  get viewers(): number {
    const now = Date.now();
    if (now - this.#viewersAt >= AUDIENCE_UPDATE_MS) {
      let n = 0;
      for (const p of this.#participants.values()) if (p.role === 'viewer' && !p.away) n++;
      this.#viewers = n;
      this.#viewersAt = now;
    }
    return this.#viewers;
  }

  /** Server → client messages this room has sent (each recipient counts). */
  get messagesSent(): number {
    return this.#messagesSent;
  }

  get rtpCapabilities(): RtpCapabilities {
    return this.#router.rtpCapabilities;
  }

  get hostAwayUntil(): number | undefined {
    return this.#hostAwayUntil;
  }

  /** Worker index → participants whose media is there. */
  placement(): Map<number, number> {
    return this.#router.placement();
  }

  /** The codec one of the room's producers sends. */
  producerCodec(producerId: string) {
    return this.#router.codecOf(producerId);
  }

  producers(): ProducerInfo[] {
    return this.#producers.announced();
  }

  /**
   * What the stage sends: each member (host first) with their live video and audio producer. A
   * producer counts once its media flows, so a recorder never waits on a track still connecting.
   */
  stageMedia(): StageMedia[] {
    return this.#stage.snapshot().seats.map(({ participantId }) => {
      const own = this.#producers.ofParticipant(participantId).filter((e) => !e.producer.paused);
      const live = own.filter((e) => e.flowing);
      const video = live.find((e) => e.producer.kind === 'video');
      const audio = live.find((e) => e.producer.kind === 'audio')?.producer.id;
      return {
        participantId,
        ...(video ? { video: video.producer.id } : {}),
        ...(video?.owner?.videoHeight ? { videoHeight: video.owner.videoHeight } : {}),
        ...(audio ? { audio } : {}),
      };
    });
  }

  /** Lets the recorder receive this room's media. */
  recorderFeed(): RtpFeed {
    return recorderFeed(this.#router, this.#logger.child({ peer: 'recorder' }));
  }

  chatHistory(): ChatMessage[] {
    return this.#chat.history();
  }

  stageState(): StageState {
    const snap = this.#stage.snapshot();
    const named = <T extends { participantId: string }>(x: T) => ({ ...x, displayName: this.#nameOf(x.participantId) });
    return { maxSize: snap.maxSize, seats: snap.seats.map(named), requests: snap.requests.map(named), invites: snap.invites.map(named) };
  }

  /** (host) One page of the participant list in join order, after the cursor `after`. */
  listParticipants(host: Actor, after: number, limit: number): { participants: ParticipantInfo[]; next: string | null } {
    this.#assertRole(host, 'host');
    const page: ParticipantInfo[] = [];
    let last = after;
    for (const p of this.#participants.values()) {
      if (p.seq <= after) continue;
      if (page.length === limit) return { participants: page, next: String(last) };
      page.push(this.#infoOf(p));
      last = p.seq;
    }
    return { participants: page, next: null };
  }

  /** What a participant who just joined (or resumed) is told of the room. */
  welcome(participant: Participant, resumed: boolean): Welcome {
    return {
      participantId: participant.id,
      role: participant.role,
      resumed,
      routerRtpCapabilities: this.rtpCapabilities,
      live: this.state === 'live',
      ...(this.#hostAwayUntil !== undefined ? { hostAwayUntil: this.#hostAwayUntil } : {}),
      producers: this.producers().filter((p) => p.participantId !== participant.id),
      stage: this.stageState(),
      chat: this.chatHistory(),
      viewers: this.viewers,
    };
  }

  /** Joins (or resumes) a participant and says what they need to know. */
  async enter(init: JoinInit): Promise<{ participant: Participant; welcome: Welcome }> {
    const { participant, resumed } = this.join(init);
    return { participant, welcome: this.welcome(participant, resumed) };
  }

  /** A participant of the room now, by id. */
  find(participantId: string): Participant | undefined {
    return this.#participants.get(participantId);
  }

  /** Joins a new participant, or resumes the one this identity already has here. */
  join(init: JoinInit): { participant: Participant; resumed: boolean } {
    if (this.#closed) throw new UnavailableError('room is closed');
    if (this.#chat.isBanned(init.identity)) throw new ForbiddenError('you are banned from this room', 'BANNED');
    const existing = this.#byIdentity.get(init.identity);
    if (existing) {
      if (existing.role !== init.role) throw new StateError('ALREADY_JOINED', `you are already in this room as ${existing.role}`);
      this.#resume(existing, init);
      return { participant: existing, resumed: true };
    }
    if (init.role === 'host' && this.#host) throw new StateError('HOST_ALREADY_PRESENT', 'this room already has a host');

    const id = randomUUID();
    const log = this.#logger.child({ peer: id, role: init.role });
    const participant = new Participant({ ...init, id, seq: this.#nextSeq++, media: this.#createMedia(id, init, log) });
    this.#participants.set(id, participant);
    this.#byIdentity.set(init.identity, participant);
    this.#channel.add(init.connection);
    if (participant.role === 'host') {
      this.#host = participant;
      this.#stage.setHost(id);
      // The new host pages the whole list; only later changes are news to them.
      this.#changed.clear();
      this.#notifyAll('showStarted', { hostId: id }, participant);
      this.emit('live');
    }
    this.#touch(id);
    log.info({ participants: this.#participants.size }, 'joined');
    this.emit('participantJoined', this.#infoOf(participant));
    return { participant, resumed: false };
  }

  /** The participant's connection dropped: keep their place for the grace period. */
  disconnect(participant: Participant, connection: Connection): void {
    if (!participant.detach(connection)) return;
    this.#channel.remove(connection);
    this.#logger.info({ peer: participant.id }, 'connection lost; waiting for a reconnect');
    const timer = setTimeout(() => {
      this.#awayTimers.delete(participant.id);
      this.leave(participant, participant === this.#host ? 'host_timeout' : 'host_left');
    }, this.#policy.graceMs).unref();
    this.#awayTimers.set(participant.id, timer);
    if (participant === this.#host) {
      this.#hostAwayUntil = Date.now() + this.#policy.graceMs;
      this.#notifyAll('hostAway', { until: this.#hostAwayUntil }, participant);
    }
    this.#touch(participant.id);
  }

  /** The participant is gone for good. `reason` is what viewers are told if it was the host. */
  leave(participant: Participant, reason: ShowEndReason = 'host_left'): void {
    if (!this.#participants.has(participant.id)) return;
    const info = this.#infoOf(participant);
    this.#participants.delete(participant.id);
    this.#byIdentity.delete(participant.identity);
    if (participant.connection) this.#channel.remove(participant.connection);
    clearTimeout(this.#awayTimers.get(participant.id));
    this.#awayTimers.delete(participant.id);
    participant.markLeft();
    this.#logger.info({ peer: participant.id, participants: this.#participants.size }, 'left');
    this.emit('participantLeft', { ...info, away: false });
    if (participant === this.#host) {
      this.#host = undefined;
      this.#hostAwayUntil = undefined;
      this.#stage.setHost(undefined);
      this.#stage.clear();
      this.#notifyAll('showEnded', { reason }, participant);
      this.emit('offair');
    } else {
      this.#stage.forget(participant.id);
    }
    if (this.#participants.size === 0) this.#release('empty');
    else this.#touch(participant.id);
  }

  // Media: the only way from signalling (and load tests) to a participant's media --------------

  async createTransport(participant: Participant, direction: Direction) {
    if (direction === 'send') this.#assertOnStage(participant);
    return this.#localMedia(participant).createTransport(direction);
  }

  /** A plain RTP transport (no ICE/DTLS), for encoders and load-test sinks; sending needs the stage. */
  async createPlainTransport(participant: Participant, options: PlainTransportOptions) {
    if (options.direction === 'send') this.#assertOnStage(participant);
    return this.#localMedia(participant).createPlainTransport(options);
  }

  async connectTransport(participant: Participant, transportId: string, dtlsParameters: DtlsParameters): Promise<void> {
    await this.#localMedia(participant).connectTransport(transportId, dtlsParameters);
  }

  async consume(participant: Participant, transportId: string, producerId: string, rtpCapabilities: RtpCapabilities, mid?: string) {
    return this.#localMedia(participant).consume(transportId, producerId, rtpCapabilities, mid);
  }

  async restartIce(participant: Participant, transportId: string) {
    return this.#localMedia(participant).restartIce(transportId);
  }

  /** Resolves once the participant's WebRTC transport can carry nothing more (and why). */
  transportEnded(participant: Participant, transportId: string) {
    return this.#localMedia(participant).transportEnded(transportId);
  }

  async resumeConsumer(participant: Participant, consumerId: string): Promise<void> {
    await this.#localMedia(participant).resumeConsumer(consumerId);
  }

  closeProducer(participant: Participant, producerId: string): void {
    this.#localMedia(participant).closeProducer(producerId);
  }

  /** Packets and bytes each of the participant's producers has received. */
  async producerStats(participant: Participant) {
    return this.#localMedia(participant).producerStats();
  }

  async produce(participant: Participant, transportId: string, kind: MediaKind, rtpParameters: RtpParameters, videoHeight?: number) {
    this.#assertOnStage(participant);
    const media = this.#localMedia(participant);
    const { producerId } = await media.produce(transportId, kind, rtpParameters);
    // The stage may have changed while the worker was busy.
    if (!this.#stage.isOnStage(participant.id) || media !== participant.media) {
      media.closeProducer(producerId);
      throw new ForbiddenError('you left the stage');
    }
    return this.#announce(participant, producerId, kind, videoHeight);
  }

  /** Tells everyone of a stage member's new producer (paused if the host muted that kind). */
  async #announce(participant: Participant, producerId: string, kind: MediaKind, videoHeight: number | undefined): Promise<{ producerId: string }> {
    const muted = this.#stage.snapshot().seats.find((s) => s.participantId === participant.id)?.muted[kind] ?? false;
    if (muted) await participant.media.setPaused(kind, true);
    const info = this.#producers.announce(producerId, { participantId: participant.id, role: participant.role, ...(videoHeight ? { videoHeight } : {}) });
    // Closed meanwhile (the participant left, or a worker died).
    if (!info) throw new ForbiddenError('you left the stage');
    this.#notifyAll('producerAdded', info, participant);
    this.emit('stageMedia');
    this.emit('trackPublished', { producerId, participantId: participant.id, kind });
    await this.#router.observeSpeaker(producerId);
    return { producerId };
  }

  async setPreferredQuality(participant: Participant, quality: Quality): Promise<void> {
    await this.#localMedia(participant).setPreferredQuality(quality);
  }

  // Pipes to edge nodes (this node is the room's origin) ------------------------------------------

  openNodePipe(address: PipeAddress): Promise<NodePipe> {
    return this.#router.openNodePipe(address);
  }

  /** Sends an announced producer of the room down a pipe to an edge node, with who sends it. */
  async sendToNode(pipe: NodePipe, producerId: string, mirror: Parameters<NodePipe['send']>[1]): Promise<{ piped: PipedProducer; owner: ProducerOwner }> {
    const owner = this.#producers.get(producerId)?.owner;
    const piped = owner && (await this.#router.sendToNode(pipe, producerId, mirror));
    if (!owner || !piped) throw new NotFoundError('PRODUCER_NOT_FOUND', `no producer ${producerId} in this room`);
    return { piped, owner };
  }

  /** A co-host on an edge node published: their producer arrives through the pipe from that node. */
  async produceFromNode(participant: Participant, pipe: NodePipe, piped: PipedProducer, videoHeight?: number): Promise<{ producerId: string }> {
    this.#assertOnStage(participant);
    const producerId = await this.#router.receiveFromNode(pipe, piped);
    if (!this.#stage.isOnStage(participant.id)) {
      this.#producers.get(producerId)?.producer.close();
      throw new ForbiddenError('you left the stage');
    }
    return this.#announce(participant, producerId, piped.kind, videoHeight);
  }

  /** The edge node's producer behind a pipe producer here paused, resumed or closed. */
  mirrorFromNode(pipe: NodePipe, producerId: string, change: { paused?: boolean; closed?: true }): void {
    const entry = this.#producers.get(producerId);
    if (!entry || entry.peer !== pipe) return;
    if (change.closed) return entry.producer.close();
    if (change.paused === undefined || entry.producer.paused === change.paused) return;
    void (change.paused ? entry.producer.pause() : entry.producer.resume()).then(
      () => this.#producers.markPaused(producerId),
      (err: unknown) => this.#logger.warn({ err, producerId }, 'cannot mirror a pause from an edge node'),
    );
  }

  // Stage ---------------------------------------------------------------------------------------

  requestStage(viewer: Participant): void {
    this.#assertRole(viewer, 'viewer');
    this.#stage.request(viewer.id);
  }

  cancelStageRequest(viewer: Participant): void {
    this.#stage.cancelRequest(viewer.id);
  }

  answerInvite(viewer: Participant, accept: boolean): void {
    this.#stage.answerInvite(viewer.id, accept);
  }

  leaveStage(cohost: Participant): void {
    this.#stage.leave(cohost.id);
  }

  inviteToStage(host: Actor, participantId: string): void {
    this.#assertRole(host, 'host');
    this.#stage.invite(this.#find(participantId).id);
  }

  answerStageRequest(host: Actor, participantId: string, accept: boolean): void {
    this.#assertRole(host, 'host');
    this.#stage.answerRequest(participantId, accept);
  }

  removeFromStage(host: Actor, participantId: string): void {
    this.#assertRole(host, 'host');
    this.#stage.remove(participantId);
  }

  async mute(host: Actor, participantId: string, kind: MediaKind, muted: boolean): Promise<void> {
    this.#assertRole(host, 'host');
    const target = this.#find(participantId);
    this.#stage.setMuted(target.id, kind, muted);
    await target.media.setPaused(kind, muted);
  }

  /** (host) Removes a participant now (they may come back with a new token, unlike a ban). */
  remove(host: Actor, participantId: string): void {
    this.#assertRole(host, 'host');
    const target = this.#find(participantId);
    this.#notify(target, 'removed', { reason: 'removed' });
    this.leave(target, 'ended_by_operator');
    target.dropConnection();
  }

  // Chat ----------------------------------------------------------------------------------------

  sendChat(author: Participant, text: string): ChatMessage {
    const message = this.#chat.post({ participantId: author.id, identity: author.identity, displayName: author.displayName }, text);
    this.#notifyAll('chatMessage', message);
    return message;
  }

  /** A message from the system (the operator's backend) to everyone here. */
  systemChat(text: string): ChatMessage {
    const message = this.#chat.post({ participantId: 'system', identity: SYSTEM_IDENTITY, displayName: 'Onstage' }, text);
    this.#notifyAll('chatMessage', message);
    return message;
  }

  deleteChat(host: Actor, messageId: string): void {
    this.#assertRole(host, 'host');
    this.#chat.delete(messageId);
    this.#notifyAll('chatDeleted', { messageId });
  }

  /** Bans the participant's identity for the life of the room and removes them now. */
  ban(host: Actor, participantId: string): void {
    this.#assertRole(host, 'host');
    const target = this.#find(participantId);
    if (target === host) throw new ForbiddenError('the host cannot ban themself');
    const deleted = this.#chat.history().filter((m) => m.participantId === target.id);
    this.#chat.ban(target.identity, [target.id]);
    this.#notify(target, 'removed', { reason: 'banned' });
    this.leave(target);
    target.dropConnection();
    for (const m of deleted) this.#notifyAll('chatDeleted', { messageId: m.messageId });
  }

  // Life ----------------------------------------------------------------------------------------

  /** Ends the show for everyone still here and closes the room. */
  close(reason: ShowEndReason): void {
    if (this.#closed) return;
    this.#notifyAll('showEnded', { reason });
    for (const p of this.#participants.values()) p.markLeft();
    this.#release(reason);
  }

  #release(why: ShowEndReason | 'empty'): void {
    this.#closed = true;
    if (this.#host) this.emit('offair');
    clearInterval(this.#sweepTimer);
    for (const t of [this.#stageOut, this.#participantsOut, this.#audienceOut]) t.cancel();
    this.#changed.clear();
    for (const t of this.#awayTimers.values()) clearTimeout(t);
    this.#awayTimers.clear();
    this.#participants.clear();
    this.#byIdentity.clear();
    this.#host = undefined;
    this.#channel.close();
    this.#router.close();
    this.#logger.info({ why }, 'room closed');
    this.emit('closed');
  }

  #resume(participant: Participant, init: JoinInit): void {
    const connection = init.connection;
    clearTimeout(this.#awayTimers.get(participant.id));
    this.#awayTimers.delete(participant.id);
    const log = this.#logger.child({ peer: participant.id, role: participant.role });
    if (participant.connection) this.#channel.remove(participant.connection);
    participant.resume(connection, this.#createMedia(participant.id, init, log));
    this.#channel.add(connection);
    if (participant === this.#host && this.#hostAwayUntil !== undefined) {
      this.#hostAwayUntil = undefined;
      this.#notifyAll('hostBack', {}, participant);
    }
    if (participant === this.#host) this.#changed.clear();
    this.#touch(participant.id);
    log.info('resumed');
  }

  /** Fresh media for a participant, wired to tell the room (and the client) what it does. */
  #createMedia(participantId: string, init: JoinInit, log: Logger): ParticipantMedia {
    if (init.remoteMedia) return init.remoteMedia();
    // The host stays on the primary router; viewers spread over workers as the audience grows.
    const media = this.#router.createPeer(log, init.role === 'host', init.ownCodecs);
    media.on('consumerClosed', (consumerId) => {
      const p = this.#participants.get(participantId);
      if (p?.media === media) this.#notify(p, 'consumerClosed', { consumerId });
    });
    return media;
  }

  #onUnseated(participantId: string, reason: UnseatReason): void {
    this.#logger.info({ peer: participantId, reason }, 'left the stage');
    // Their media stops the moment they leave the stage.
    this.#participants.get(participantId)?.media.closeProducers();
  }

  /** A participant joined, left, or changed in a way the host's list shows. */
  #touch(participantId: string): void {
    this.#audienceOut.schedule();
    if (!this.#host) return;
    this.#changed.add(participantId);
    this.#participantsOut.schedule();
  }

  #sendParticipantChanges(): void {
    const updated: ParticipantInfo[] = [];
    const left: string[] = [];
    for (const id of this.#changed) {
      const p = this.#participants.get(id);
      if (p) updated.push(this.#infoOf(p));
      else left.push(id);
    }
    this.#changed.clear();
    if (this.#host && (updated.length > 0 || left.length > 0)) this.#notify(this.#host, 'participantsUpdated', { updated, left });
  }

  #sendAudience(): void {
    this.#viewersAt = -Infinity;
    const viewers = this.viewers;
    if (viewers === this.#audienceSent) return;
    this.#audienceSent = viewers;
    this.#notifyAll('audience', { viewers });
  }

  #infoOf(p: Participant): ParticipantInfo {
    return { participantId: p.id, displayName: p.displayName, role: p.role, onStage: this.#stage.isOnStage(p.id), away: p.away };
  }

  #find(participantId: string): Participant {
    const p = this.#participants.get(participantId);
    if (!p) throw new NotFoundError('PARTICIPANT_NOT_FOUND', 'no such participant in this room');
    return p;
  }

  #nameOf(participantId: string): string {
    return this.#participants.get(participantId)?.displayName ?? 'unknown';
  }

  /** Media requests come from the participant's own node, so their media is here. */
  #localMedia(participant: Participant): PeerMedia {
    if (!(participant.media instanceof PeerMedia)) throw new StateError('ROOM_ON_OTHER_NODE', "this participant's media is on another node");
    return participant.media;
  }

  #assertRole(actor: Actor, role: Role): void {
    if (actor === 'operator' ? role !== 'host' : actor.role !== role) throw new ForbiddenError(`only the ${role} may do this`);
  }

  #assertOnStage(participant: Participant): void {
    if (!this.#stage.isOnStage(participant.id)) throw new ForbiddenError('only the host and co-hosts on stage may publish media');
  }

  #notify: <N extends ServerEventName>(p: Participant, name: N, body: ServerEvent<N>) => void = (p, name, body) => {
    this.#messagesSent++;
    p.notify(name, body);
  };

  /** Everyone connected (but `except`) gets this event, handed to the room's channel once. */
  #notifyAll: <N extends ServerEventName>(name: N, body: ServerEvent<N>, except?: Participant) => void = (name, body, except) => {
    const skip = except?.connection;
    this.#messagesSent += this.#channel.emit(name, body, skip);
  };
}
