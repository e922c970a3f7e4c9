import type {
  MediaKind,
  ParticipantInfo,
  Quality,
  RequestBody,
  ResponseData,
  Role,
  RoomId,
  StageState,
} from '@onstage/protocol';
import type { OnstageClientOptions, OnstageEvents, TrackStats, WatchMode, WatchOptions } from './client-events.ts';
import { asError } from './as-error.ts';
import { markJoinStep } from './join-timing.ts';
import { LocalParticipant } from './local-participant.ts';
import { MediaSession } from './media-session.ts';
import { ParticipantRoster } from './participant-roster.ts';
import { RemoteParticipants } from './remote-participants.ts';
import { ShowReceiver } from './show-receiver.ts';
import { OnstageRequestError, SignallingChannel, type TokenSource } from './signalling-channel.ts';
import { TypedEmitter } from './typed-emitter.ts';
import { WatchModeController } from './watch-mode.ts';

type RequestName = Parameters<SignallingChannel['request']>[0];

/** Nodes a join may be sent on to before giving up (the origin can move while following it). */
const MAX_REDIRECTS = 2;
/** Refusals that pass by themselves: the room is between origins, or its node is busy. */
const PASSING = new Set<OnstageRequestError['code']>(['UNAVAILABLE', 'TIMEOUT']);

/**
 * One person's connection to an Onstage room: `goLive` as the host, or `watch` as a viewer (who
 * may be brought on stage and then `publish`). One client is one participant. It survives network
 * drops: it reconnects by itself and resumes the same participant within the server's grace period.
 *
 * The room session lives here (joining, following redirects, resuming); the parts it drives each
 * have a file: MediaSession (device and transports), ShowReceiver (how the show's tracks come in),
 * LocalParticipant (what this client sends), RemoteParticipants (what it receives),
 * WatchModeController (WebRTC or HLS), ParticipantRoster.
 */
export class OnstageClient extends TypedEmitter<OnstageEvents> {
  /** The node this client talks to; a host follows the room to its origin node. */
  #url: string;
  readonly #timeoutMs: number;
  readonly #token: TokenSource;
  #channel: SignallingChannel | undefined;
  #room: { id: RoomId; role: Role } | undefined;
  #participantId: string | undefined;
  #stage: StageState | undefined;
  #viewers = 0;
  #quality: Quality = 'auto';
  readonly #media = new MediaSession((transport) => this.#watchMode.watch(transport));
  readonly #local = new LocalParticipant();
  readonly #remote = new RemoteParticipants({
    added: (track, participantId, stream) => this.emit('trackadded', track, participantId, stream),
    removed: (track, participantId) => this.emit('trackremoved', track, participantId),
  });
  readonly #roster = new ParticipantRoster();
  readonly #watchMode = new WatchModeController({
    fellBack: (reason) => {
      void this.#resetMedia();
      this.emit('mode', 'hls', reason);
    },
    hlsError: (message) => this.emit('error', new Error(`HLS: ${message}`)),
  });
  readonly #receiver: ShowReceiver = new ShowReceiver({
    media: this.#media,
    remote: this.#remote,
    watchMode: this.#watchMode,
    isCurrent: (channel) => this.#channel === channel,
    onError: (error) => this.emit('error', error),
  });

  constructor(options: OnstageClientOptions) {
    super();
    this.#url = options.url ?? globalThis.location.origin;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#token = options.token;
  }

  get participantId(): string | undefined {
    return this.#participantId;
  }

  get stage(): StageState | undefined {
    return this.#stage;
  }

  /** Viewers connected now, as last told by the server. */
  get viewers(): number {
    return this.#viewers;
  }

  /** (host) Everyone in the room. */
  get participants(): ParticipantInfo[] {
    return this.#roster.list;
  }

  get onStage(): boolean {
    return this.#stage?.seats.some((s) => s.participantId === this.#participantId) ?? false;
  }

  /** A stage member's MediaStream (as received), if any of their tracks arrived. */
  streamOf(participantId: string): MediaStream | undefined {
    return this.#remote.streamOf(participantId);
  }

  /** Joins `roomId` as its host and sends every track of `stream`. */
  async goLive(roomId: RoomId, stream: MediaStream): Promise<void> {
    this.#watchMode.startAsPublisher();
    await this.#enter(roomId, 'host');
    await this.publish(stream);
  }

  /**
   * Joins `roomId` as a viewer. Resolves with a MediaStream of the host's tracks, now or when the
   * host goes live; co-hosts' tracks come with `trackadded` (and `streamOf`). When WebRTC cannot
   * be used (no WebRTC, the server refuses it, or it does not connect in time) the client switches
   * to HLS by itself and emits `mode` 'hls': then show the stream with `attachHls(video)`. Chat and
   * the stage work the same in both modes.
   */
  async watch(roomId: RoomId, options: WatchOptions = {}): Promise<MediaStream> {
    this.#watchMode.start(options);
    await this.#enter(roomId, 'viewer');
    // A fallback during the join has already said so.
    if (options.mode === 'hls' || this.#watchMode.mode === 'webrtc') this.emit('mode', this.#watchMode.mode, this.#watchMode.reason);
    return this.#remote.showStream;
  }

  /** How this viewer receives the show now. */
  get mode(): WatchMode {
    return this.#watchMode.mode;
  }

  /**
   * (HLS mode) Plays the room's HLS in `video`, once the server has it, and again for each new
   * show. Calling it again moves playback to another element.
   */
  attachHls(video: HTMLVideoElement): void {
    const room = this.#room;
    if (!room) throw new Error('not in a room');
    const token = this.#token;
    this.#watchMode.attachHls(video, this.#url, room.id, () => (typeof token === 'string' ? Promise.resolve(token) : token()));
  }

  /** Sends these tracks while on stage (the host always is; a viewer once seated). */
  async publish(stream: MediaStream): Promise<void> {
    this.#local.add(stream);
    await this.#produceOutgoing();
  }

  /** (host or co-host) Sends one more track, e.g. a microphone added after going live. */
  async addTrack(track: MediaStreamTrack): Promise<void> {
    await this.publish(new MediaStream([track]));
  }

  // Stage ---------------------------------------------------------------------------------------

  /** (viewer) Ask the host to come on stage. */
  requestStage = () => this.#act('requestStage', {});
  cancelStageRequest = () => this.#act('cancelStageRequest', {});
  /** (viewer) Answer the host's invitation. */
  respond = (accept: boolean) => this.#act('answerInvite', { accept });
  /** (co-host) Step down; your tracks stop going out. */
  leaveStage = () => this.#act('leaveStage', {});
  /** (host) Invite a viewer on stage. */
  inviteToStage = (participantId: string) => this.#act('inviteToStage', { participantId });
  /** (host) Answer a viewer's request. */
  answerRequest = (participantId: string, accept: boolean) => this.#act('answerStageRequest', { participantId, accept });
  /** (host) End a co-host's turn. */
  removeFromStage = (participantId: string) => this.#act('removeFromStage', { participantId });
  /** (host) Mute or unmute a stage member's audio or video for everyone. */
  mute = (participantId: string, kind: MediaKind, muted = true) => this.#act('mute', { participantId, kind, muted });

  // Chat ----------------------------------------------------------------------------------------

  async sendChat(text: string): Promise<string> {
    return (await this.#request('sendChat', { text })).messageId;
  }
  /** (host) */
  deleteChat = (messageId: string) => this.#act('deleteChat', { messageId });
  /** (host) Remove a participant and keep their identity out for the life of the room. */
  ban = (participantId: string) => this.#act('ban', { participantId });

  /** Caps the received video quality; 'auto' follows bandwidth. Kept across reconnects. */
  async setPreferredQuality(quality: Quality): Promise<void> {
    this.#quality = quality;
    await this.#act('setPreferredQuality', { quality });
  }

  /** Receive-side stats of every track being received. */
  getReceiveStats(): Promise<TrackStats[]> {
    return this.#remote.stats();
  }

  /** Leaves the room (as host: ends the show) and closes the connection. */
  async leave(): Promise<void> {
    const channel = this.#channel;
    this.#channel = undefined;
    this.#room = undefined;
    if (channel?.connected) await channel.request('leave', {}).catch(() => undefined);
    channel?.close();
    await this.#resetMedia();
    this.#watchMode.stop();
    this.#local.clear();
    this.#participantId = undefined;
    this.#stage = undefined;
    this.#roster.clear();
  }

  // The room session ------------------------------------------------------------------------------

  async #enter(roomId: RoomId, role: Role, redirects = 0): Promise<void> {
    if (this.#channel) throw new Error('this client is already in a room; call leave() first');
    const channel = new SignallingChannel(this.#url, this.#token, this.#timeoutMs);
    this.#channel = channel;
    this.#room = { id: roomId, role };
    this.#listen(channel);
    this.#receiver.preload(channel, this.#url);
    try {
      await channel.connected;
      markJoinStep('connected');
      await this.#join(channel);
    } catch (err) {
      await this.leave();
      // In a cluster, the host goes live on the room's origin node, and a full node sends newcomers
      // to another: the node asked says which.
      if (err instanceof OnstageRequestError && err.redirect && redirects < MAX_REDIRECTS) {
        this.#url = err.redirect;
        return this.#enter(roomId, role, redirects + 1);
      }
      throw err;
    }
  }

  #listen(channel: SignallingChannel): void {
    const mine = () => this.#channel === channel;
    channel.on('showStarted', () => {
      if (!mine()) return;
      // A new show has new HLS: start its playback over.
      const video = this.#watchMode.hlsVideo;
      if (video) this.attachHls(video);
      this.emit('live');
    });
    channel.on('producerAdded', (info) => mine() && this.#watchMode.mode === 'webrtc' && void this.#receiver.receive(channel, info));
    channel.on('producerClosed', ({ producerId }) => this.#remote.removeProducer(producerId));
    channel.on('consumerClosed', ({ consumerId }) => this.#remote.remove(consumerId));
    channel.on('showEnded', ({ reason }) => {
      if (!mine()) return;
      this.#remote.clear();
      this.emit('ended', reason);
      // A media failure closed the room and took this viewer out of it: join again, to see the next show.
      if (reason === 'media_failure' && this.#room?.role === 'viewer') void this.#rejoin(channel);
    });
    channel.on('hostAway', ({ until }) => mine() && this.emit('hostaway', until));
    channel.on('hostBack', () => mine() && this.emit('hostback'));
    channel.on('stageChanged', (stage) => mine() && this.#onStage(stage));
    channel.on('participantsUpdated', (change) => {
      if (!mine()) return;
      this.#roster.apply(change);
      this.emit('participants', this.participants);
    });
    channel.on('audience', ({ viewers }) => {
      if (!mine()) return;
      this.#viewers = viewers;
      this.emit('audience', viewers);
    });
    channel.on('chatMessage', (m) => mine() && this.emit('chat', m));
    channel.on('chatDeleted', ({ messageId }) => mine() && this.emit('chatdeleted', messageId));
    channel.on('activeSpeaker', ({ participantId }) => mine() && this.emit('activespeaker', participantId));
    channel.on('removed', ({ reason }) => {
      if (!mine()) return;
      this.#channel = undefined;
      channel.close();
      void this.#resetMedia();
      this.emit('disconnected', reason);
    });
    channel.onConnectionChange((state, reason) => {
      if (!mine()) return;
      if (state === 'failed') {
        this.#channel = undefined;
        void this.#resetMedia();
        this.emit('disconnected', reason ?? 'refused');
        return;
      }
      if (state === 'lost') {
        this.emit('reconnecting');
        return;
      }
      // Back (perhaps on another node): the room resumes the same participant inside its grace period.
      this.#join(channel).then(
        (resumed) => this.emit('reconnected', resumed),
        (err: unknown) => {
          if (this.#followed(channel, err)) return;
          // The room is between origins (its node died and another is taking it over): try again shortly.
          if (err instanceof OnstageRequestError && PASSING.has(err.code)) {
            void this.#rejoin(channel).then((ok) => ok && this.emit('reconnected', false));
            return;
          }
          this.emit('error', asError(err));
        },
      );
    });
  }

  /**
   * Joins (or resumes) and builds all media from scratch; returns whether it resumed. Over WebRTC
   * the join itself asks for the receive side: the answer brings the receive transport and running
   * consumers of the room's tracks, so media needs no more than connecting the transport.
   */
  async #join(channel: SignallingChannel): Promise<boolean> {
    const room = this.#room;
    if (!room) return false;
    const rtpCapabilities = await this.#receiver.ready(channel);
    const quality = this.#quality !== 'auto' ? { quality: this.#quality } : {};
    const joined = await channel.request('join', {
      roomId: room.id,
      role: room.role,
      ...(rtpCapabilities ? { receive: { rtpCapabilities, ...quality } } : {}),
    });
    markJoinStep('joined');
    await this.#resetMedia();
    this.#participantId = joined.participantId;
    channel.fallbacks = joined.nodes;
    const receiving = this.#watchMode.mode === 'webrtc' ? this.#receiver.start(channel, joined, this.#quality) : Promise.resolve();
    receiving.catch(() => undefined); // awaited below; this only keeps a failure meanwhile from being "unhandled"
    this.#onStage(joined.stage);
    this.#viewers = joined.viewers;
    this.emit('audience', joined.viewers);
    if (room.role === 'host') {
      await this.#roster.load(channel, () => this.#channel === channel);
      this.emit('participants', this.participants);
    }
    for (const m of joined.chat) this.emit('chat', m);
    if (joined.live) this.emit('live');
    if (joined.hostAwayUntil !== undefined) this.emit('hostaway', joined.hostAwayUntil);
    await receiving;
    await this.#produceOutgoing();
    return joined.resumed;
  }

  /**
   * Joins again after the room closed under this client, or could not be joined after a reconnect;
   * the server may need a moment (a worker restarting, another node taking the room over).
   */
  async #rejoin(channel: SignallingChannel): Promise<boolean> {
    for (let attempt = 0; attempt < 6 && this.#channel === channel; attempt++) {
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      if (this.#channel !== channel) return false;
      try {
        await this.#join(channel);
        return true;
      } catch (err) {
        if (this.#followed(channel, err)) return false;
        if (attempt === 5) this.emit('error', asError(err));
      }
    }
    return false;
  }

  /**
   * The server named another node (the room's origin moved after a node died, or this node is
   * full): go on there; the join there follows as after any reconnect. Returns whether it did.
   */
  #followed(channel: SignallingChannel, err: unknown): boolean {
    if (!(err instanceof OnstageRequestError) || !err.redirect) return false;
    channel.moveTo(err.redirect);
    return true;
  }

  #onStage(stage: StageState): void {
    const wasOn = this.onStage;
    this.#stage = stage;
    this.emit('stage', stage);
    if (this.onStage === wasOn || this.#room?.role === 'host') return;
    if (this.onStage) {
      this.emit('onstage');
      void this.#produceOutgoing().catch((err: unknown) => this.emit('error', asError(err)));
    } else {
      // The server closed our producers; drop our side of them.
      this.#local.stopSending();
      this.emit('offstage');
    }
  }

  /** Sends every outgoing track not yet sent, if this client is on stage. */
  async #produceOutgoing(): Promise<void> {
    const channel = this.#channel;
    if (!channel || !this.#media.loaded || !this.onStage) return;
    await this.#local.sendAll((track) => this.#media.produce(channel, track));
  }

  async #resetMedia(): Promise<void> {
    this.#remote.clear();
    this.#local.stopSending();
    await this.#media.reset();
  }

  async #request<N extends RequestName>(name: N, body: RequestBody<N>): Promise<ResponseData<N>> {
    if (!this.#channel) throw new Error('not in a room');
    return this.#channel.request(name, body);
  }

  async #act<N extends RequestName>(name: N, body: RequestBody<N>): Promise<void> {
    await this.#request(name, body);
  }
}
