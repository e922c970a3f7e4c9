import { Device, type types } from 'mediasoup-client';
import type {
  ChatMessage,
  MediaKind,
  ParticipantInfo,
  ProducerInfo,
  Quality,
  RequestBody,
  ResponseData,
  Role,
  RoomId,
  ShowEndReason,
  StageState,
} from '@onstage/protocol';
import { playHls, waitForHls } from './hls-player.ts';
import { toTransportOptions } from './transport-options.ts';
import { OnstageRequestError, SignallingChannel, type TokenSource } from './signalling-channel.ts';
import { TypedEmitter } from './typed-emitter.ts';
import { markJoinStep } from './join-timing.ts';

export type OnstageClientOptions = {
  /**
   * The access token for the room, or a function that fetches one: it is called for every
   * connection attempt and before the token expires, so sessions outlive their tokens.
   */
  token: TokenSource;
  /** Server origin; defaults to the page's own origin. */
  url?: string;
  /** How long to wait for any one request (ms). Default 10000. */
  requestTimeoutMs?: number;
};

/** How a viewer receives the show: WebRTC (sub-second) or HLS (a few seconds behind, works anywhere HTTP does). */
export type WatchMode = 'webrtc' | 'hls';

export type WatchOptions = {
  /** 'auto' (default) tries WebRTC and falls back to HLS by itself; the others force one. */
  mode?: 'auto' | WatchMode;
  /** In 'auto', how long WebRTC may take to connect before falling back (ms). Default 5000. */
  fallbackAfterMs?: number;
};

export type OnstageEvents = {
  /** (viewer) The way the show is received; 'hls' means: call `attachHls(video)`. */
  mode: [mode: WatchMode, reason: string];
  /** (viewer) The host went live. Tracks follow as `trackadded`. */
  live: [];
  /** (viewer) The show ended: every received track has been removed. */
  ended: [reason: ShowEndReason];
  /** The host's connection dropped; the show ends at `until` (server ms) unless they return. */
  hostaway: [until: number];
  hostback: [];
  /** A track from a stage member arrived; `stream` is that member's MediaStream. */
  trackadded: [track: MediaStreamTrack, participantId: string, stream: MediaStream];
  trackremoved: [track: MediaStreamTrack, participantId: string];
  /** The stage changed: seats, requests, invitations. */
  stage: [stage: StageState];
  /** This client got a seat on stage: call `publish(stream)` to be seen and heard. */
  onstage: [];
  /** This client is no longer on stage (left, removed, or the show ended); its tracks stopped going out. */
  offstage: [];
  /** (host) Who is in the room (the whole list, kept up to date from the server's changes). */
  participants: [participants: ParticipantInfo[]];
  /** How many viewers are connected ("N watching"); at most once a second. */
  audience: [viewers: number];
  chat: [message: ChatMessage];
  chatdeleted: [messageId: string];
  activespeaker: [participantId: string | null];
  /** The connection dropped; the client is trying to resume. */
  reconnecting: [];
  /** Resumed after a drop (same participant, same stage seat when within the grace period). */
  reconnected: [resumed: boolean];
  /** The connection is gone for good (banned, replaced by another tab, or the server refused it). */
  disconnected: [reason: string];
  /** Something failed in the background (e.g. receiving a track); the session goes on. */
  error: [error: Error];
};

/** Receive-side numbers of one track, from WebRTC stats. */
export type TrackStats = {
  participantId: string;
  kind: MediaKind;
  bytesReceived: number;
  packetsReceived: number;
  packetsLost: number;
  framesDecoded?: number;
  frameWidth?: number;
  frameHeight?: number;
};

type Received = { consumer: types.Consumer; info: ProducerInfo };
type Body<N extends Parameters<SignallingChannel['request']>[0]> = RequestBody<N>;

// Three simulcast layers: viewers get the one that fits their bandwidth (or their preference).
const SIMULCAST: types.RtpEncodingParameters[] = [
  { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

/** Nodes a join may be sent on to before giving up (the origin can move while following it). */
const MAX_REDIRECTS = 2;
/** Refusals that pass by themselves: the room is between origins, or its node is busy. */
const PASSING = new Set<OnstageRequestError['code']>(['UNAVAILABLE', 'TIMEOUT']);

/**
 * One person's connection to an Onstage room: `goLive` as the host, or `watch` as a viewer (who
 * may be brought on stage and then `publish`). One client is one participant. It survives network
 * drops: it reconnects by itself and resumes the same participant within the server's grace period.
 */
export class OnstageClient extends TypedEmitter<OnstageEvents> {
  /** The node this client talks to; a host follows the room to its origin node. */
  #url: string;
  readonly #timeoutMs: number;
  readonly #token: TokenSource;
  #channel: SignallingChannel | undefined;
  #room: { id: RoomId; role: Role } | undefined;
  #device: Device | undefined;
  #sendTransport: types.Transport | undefined;
  #recvTransport: Promise<types.Transport> | undefined;
  /** Tracks this client sends whenever it is on stage (survives reconnects). */
  #outgoing: MediaStreamTrack[] = [];
  readonly #producers = new Map<string, types.Producer>();
  readonly #received = new Map<string, Received>();
  readonly #streams = new Map<string, MediaStream>();
  readonly #showStream = new MediaStream();
  #participantId: string | undefined;
  #stage: StageState | undefined;
  /** (host) Everyone in the room, in join order. */
  readonly #participants = new Map<string, ParticipantInfo>();
  #viewers = 0;
  #quality: Quality = 'auto';
  #mode: WatchMode = 'webrtc';
  #modeChoice: 'auto' | WatchMode = 'auto';
  #fallbackAfterMs = 5000;
  #fallbackTimer: ReturnType<typeof setTimeout> | undefined;
  #hls: { video: HTMLVideoElement; stop: () => void; abort: AbortController } | undefined;

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
    return [...this.#participants.values()];
  }

  get onStage(): boolean {
    return this.#stage?.seats.some((s) => s.participantId === this.#participantId) ?? false;
  }

  /** A stage member's MediaStream (as received), if any of their tracks arrived. */
  streamOf(participantId: string): MediaStream | undefined {
    return this.#streams.get(participantId);
  }

  /** Joins `roomId` as its host and sends every track of `stream`. */
  async goLive(roomId: RoomId, stream: MediaStream): Promise<void> {
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
    this.#modeChoice = options.mode ?? 'auto';
    this.#fallbackAfterMs = options.fallbackAfterMs ?? 5000;
    this.#mode = this.#modeChoice === 'hls' ? 'hls' : 'webrtc';
    await this.#enter(roomId, 'viewer');
    // A fallback during the join has already said so.
    if (this.#modeChoice === 'hls') this.emit('mode', 'hls', 'HLS was asked for');
    else if (this.#mode === 'webrtc') this.emit('mode', 'webrtc', 'WebRTC');
    return this.#showStream;
  }

  /** How this viewer receives the show now. */
  get mode(): WatchMode {
    return this.#mode;
  }

  /**
   * (HLS mode) Plays the room's HLS in `video`, once the server has it, and again for each new
   * show. Calling it again moves playback to another element.
   */
  attachHls(video: HTMLVideoElement): void {
    this.#detachHls();
    const room = this.#room;
    if (!room) throw new Error('not in a room');
    const abort = new AbortController();
    const entry = { video, stop: () => {}, abort };
    this.#hls = entry;
    const token = this.#token;
    waitForHls(this.#url, room.id, abort.signal, () => (typeof token === 'string' ? Promise.resolve(token) : token())).then(
      (url) => {
        if (this.#hls === entry) entry.stop = playHls(video, url, (message) => this.emit('error', new Error(`HLS: ${message}`)));
      },
      () => {},
    );
  }

  #detachHls(): void {
    this.#hls?.abort.abort();
    this.#hls?.stop();
    this.#hls = undefined;
  }

  /** Gives up on WebRTC for this session (auto mode only) and tells the app to play HLS. */
  #fallBack(reason: string): void {
    if (this.#mode === 'hls' || this.#modeChoice !== 'auto' || this.#room?.role !== 'viewer') return;
    this.#mode = 'hls';
    clearTimeout(this.#fallbackTimer);
    void this.#resetMedia();
    this.emit('mode', 'hls', reason);
  }

  /** Sends these tracks while on stage (the host always is; a viewer once seated). */
  async publish(stream: MediaStream): Promise<void> {
    for (const track of stream.getTracks()) if (!this.#outgoing.includes(track)) this.#outgoing.push(track);
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
  async getReceiveStats(): Promise<TrackStats[]> {
    const out: TrackStats[] = [];
    for (const { consumer, info } of this.#received.values()) {
      const report = await consumer.getStats();
      report.forEach((s: Record<string, unknown>) => {
        if (s['type'] !== 'inbound-rtp') return;
        out.push({
          participantId: info.participantId,
          kind: info.kind,
          bytesReceived: Number(s['bytesReceived'] ?? 0),
          packetsReceived: Number(s['packetsReceived'] ?? 0),
          packetsLost: Number(s['packetsLost'] ?? 0),
          ...(info.kind === 'video'
            ? {
                framesDecoded: Number(s['framesDecoded'] ?? 0),
                frameWidth: Number(s['frameWidth'] ?? 0),
                frameHeight: Number(s['frameHeight'] ?? 0),
              }
            : {}),
        });
      });
    }
    return out;
  }

  /** Leaves the room (as host: ends the show) and closes the connection. */
  async leave(): Promise<void> {
    const channel = this.#channel;
    this.#channel = undefined;
    this.#room = undefined;
    if (channel?.connected) await channel.request('leave', {}).catch(() => undefined);
    channel?.close();
    await this.#resetMedia();
    this.#detachHls();
    clearTimeout(this.#fallbackTimer);
    this.#outgoing = [];
    this.#participantId = undefined;
    this.#stage = undefined;
    this.#participants.clear();
  }

  // Internals -----------------------------------------------------------------------------------

  async #enter(roomId: RoomId, role: Role, redirects = 0): Promise<void> {
    if (this.#channel) throw new Error('this client is already in a room; call leave() first');
    const channel = new SignallingChannel(this.#url, this.#token, this.#timeoutMs);
    this.#channel = channel;
    this.#room = { id: roomId, role };
    this.#listen(channel);
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
      if (this.#hls) this.attachHls(this.#hls.video);
      this.emit('live');
    });
    channel.on('producerAdded', (info) => mine() && this.#mode === 'webrtc' && void this.#receiveSafely(channel, info));
    channel.on('producerClosed', ({ producerId }) => {
      for (const [id, r] of this.#received) if (r.info.producerId === producerId) this.#unreceive(id);
    });
    channel.on('consumerClosed', ({ consumerId }) => this.#unreceive(consumerId));
    channel.on('showEnded', ({ reason }) => {
      if (!mine()) return;
      for (const id of [...this.#received.keys()]) this.#unreceive(id);
      this.emit('ended', reason);
      // A media failure closed the room and took this viewer out of it: join again, to see the next show.
      if (reason === 'media_failure' && this.#room?.role === 'viewer') void this.#rejoin(channel);
    });
    channel.on('hostAway', ({ until }) => mine() && this.emit('hostaway', until));
    channel.on('hostBack', () => mine() && this.emit('hostback'));
    channel.on('stageChanged', (stage) => mine() && this.#onStage(stage));
    channel.on('participantsUpdated', ({ updated, left }) => {
      if (!mine()) return;
      for (const p of updated) this.#participants.set(p.participantId, p);
      for (const id of left) this.#participants.delete(id);
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
          this.emit('error', err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  /** Joins (or resumes) and builds all media from scratch; returns whether it resumed. */
  async #join(channel: SignallingChannel): Promise<boolean> {
    const room = this.#room;
    if (!room) return false;
    const joined = await channel.request('join', { roomId: room.id, role: room.role });
    markJoinStep('joined');
    await this.#resetMedia();
    this.#participantId = joined.participantId;
    channel.fallbacks = joined.nodes;
    if (this.#mode === 'webrtc') {
      try {
        await this.#startWebRtc(channel, joined.routerRtpCapabilities as types.RtpCapabilities);
      } catch (err) {
        if (this.#modeChoice !== 'auto' || room.role !== 'viewer') throw err;
        this.#fallBack(`WebRTC failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.#onStage(joined.stage);
    this.#viewers = joined.viewers;
    this.emit('audience', joined.viewers);
    if (room.role === 'host') await this.#loadParticipants(channel);
    for (const m of joined.chat) this.emit('chat', m);
    if (joined.live) this.emit('live');
    if (joined.hostAwayUntil !== undefined) this.emit('hostaway', joined.hostAwayUntil);
    if (this.#mode === 'webrtc') await Promise.all(joined.producers.map((info) => this.#receiveSafely(channel, info)));
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
        if (attempt === 5) this.emit('error', err instanceof Error ? err : new Error(String(err)));
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

  /** (host) Pages through the participant list; changes that arrive meanwhile are newer, and win. */
  async #loadParticipants(channel: SignallingChannel): Promise<void> {
    this.#participants.clear();
    const seenChange = new Set<string>();
    const onChange = ({ updated, left }: { updated: ParticipantInfo[]; left: string[] }) => {
      for (const p of updated) seenChange.add(p.participantId);
      for (const id of left) seenChange.add(id);
    };
    channel.on('participantsUpdated', onChange);
    try {
      let after: string | null | undefined;
      do {
        const page = await channel.request('listParticipants', after ? { after } : {});
        for (const p of page.participants) if (!seenChange.has(p.participantId)) this.#participants.set(p.participantId, p);
        after = page.next;
      } while (after && this.#channel === channel);
    } finally {
      channel.off('participantsUpdated', onChange);
    }
    this.emit('participants', this.participants);
  }

  async #startWebRtc(channel: SignallingChannel, routerRtpCapabilities: types.RtpCapabilities): Promise<void> {
    if (!this.#device) {
      const device = await Device.factory();
      await device.load({ routerRtpCapabilities });
      this.#device = device;
    }
    const device = this.#device;
    this.#recvTransport = channel.request('createTransport', { direction: 'recv' }).then((options) => {
      const transport = device.createRecvTransport(toTransportOptions(options));
      transport.on('connectionstatechange', (state) => state === 'connected' && markJoinStep('transport-connected'));
      this.#wireConnect(channel, transport);
      this.#watchConnection(transport);
      return transport;
    });
    await this.#recvTransport;
    if (this.#quality !== 'auto') await channel.request('setPreferredQuality', { quality: this.#quality });
  }

  /** (auto mode) Falls back to HLS if the receive transport fails, or is not connected in time once it starts. */
  #watchConnection(transport: types.Transport): void {
    if (this.#modeChoice !== 'auto' || this.#room?.role !== 'viewer') return;
    transport.on('connectionstatechange', (state) => {
      if (state === 'connected') {
        clearTimeout(this.#fallbackTimer);
        this.#fallbackTimer = undefined;
      }
      if (state === 'failed' && !transport.closed) this.#fallBack('WebRTC connection failed');
    });
  }

  /** (auto mode) Media is about to flow: WebRTC has `fallbackAfterMs` to connect. */
  #armFallback(transport: types.Transport): void {
    if (this.#modeChoice !== 'auto' || this.#room?.role !== 'viewer') return;
    if (this.#fallbackTimer || transport.connectionState === 'connected') return;
    this.#fallbackTimer = setTimeout(() => {
      this.#fallbackTimer = undefined;
      if (transport.connectionState !== 'connected' && !transport.closed) {
        this.#fallBack(`WebRTC did not connect within ${this.#fallbackAfterMs} ms`);
      }
    }, this.#fallbackAfterMs);
  }

  #onStage(stage: StageState): void {
    const wasOn = this.onStage;
    this.#stage = stage;
    this.emit('stage', stage);
    if (this.onStage === wasOn || this.#room?.role === 'host') return;
    if (this.onStage) {
      this.emit('onstage');
      void this.#produceOutgoing().catch((err: unknown) => this.emit('error', err as Error));
    } else {
      // The server closed our producers; drop our side of them.
      for (const p of this.#producers.values()) p.close();
      this.#producers.clear();
      this.emit('offstage');
    }
  }

  /** Sends every outgoing track not yet sent, if this client is on stage. */
  async #produceOutgoing(): Promise<void> {
    const channel = this.#channel;
    if (!channel || !this.#device || !this.onStage) return;
    if (!this.#sendTransport) {
      const options = await channel.request('createTransport', { direction: 'send' });
      const transport = this.#device.createSendTransport(toTransportOptions(options));
      this.#wireConnect(channel, transport);
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        const videoHeight = typeof appData['videoHeight'] === 'number' ? Math.round(appData['videoHeight']) : undefined;
        channel
          .request('produce', {
            transportId: transport.id,
            kind,
            rtpParameters: rtpParameters as Body<'produce'>['rtpParameters'],
            ...(videoHeight ? { videoHeight } : {}),
          })
          .then(({ producerId }) => callback({ id: producerId }), errback);
      });
      this.#sendTransport = transport;
    }
    for (const track of this.#outgoing) {
      if (this.#producers.has(track.id) || track.readyState === 'ended') continue;
      const producer = await this.#sendTransport.produce({
        track,
        stopTracks: false,
        appData: track.kind === 'video' && track.getSettings().height ? { videoHeight: track.getSettings().height } : {},
        ...(track.kind === 'video' ? { encodings: SIMULCAST, codecOptions: { videoGoogleStartBitrate: 1000 } } : {}),
      });
      this.#producers.set(track.id, producer);
    }
  }

  async #resetMedia(): Promise<void> {
    for (const id of [...this.#received.keys()]) this.#unreceive(id);
    for (const p of this.#producers.values()) p.close();
    this.#producers.clear();
    this.#sendTransport?.close();
    this.#sendTransport = undefined;
    const recv = this.#recvTransport;
    this.#recvTransport = undefined;
    (await recv?.catch(() => undefined))?.close();
  }

  async #request<N extends Parameters<SignallingChannel['request']>[0]>(name: N, body: Body<N>): Promise<ResponseData<N>> {
    if (!this.#channel) throw new Error('not in a room');
    return this.#channel.request(name, body);
  }

  async #act<N extends Parameters<SignallingChannel['request']>[0]>(name: N, body: Body<N>): Promise<void> {
    await this.#request(name, body);
  }

  #wireConnect(channel: SignallingChannel, transport: types.Transport): void {
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      channel
        .request('connectTransport', {
          transportId: transport.id,
          dtlsParameters: { role: dtlsParameters.role, fingerprints: dtlsParameters.fingerprints },
        })
        .then(() => callback(), errback);
    });
  }

  /** Receives a track; a producer that vanished meanwhile is normal, other failures are reported. */
  async #receiveSafely(channel: SignallingChannel, info: ProducerInfo): Promise<void> {
    try {
      await this.#receive(channel, info);
    } catch (err) {
      if (this.#channel !== channel) return;
      if (err instanceof OnstageRequestError && err.code === 'PRODUCER_NOT_FOUND') return;
      if (this.#modeChoice === 'auto' && this.#room?.role === 'viewer') {
        this.#fallBack(`cannot receive over WebRTC: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    }
  }

  async #receive(channel: SignallingChannel, info: ProducerInfo): Promise<void> {
    const recv = this.#recvTransport;
    const transport = await recv;
    const device = this.#device;
    if (!transport || !device || this.#channel !== channel) return;
    for (const r of this.#received.values()) if (r.info.producerId === info.producerId) return;
    const answer = await channel.request('consume', {
      transportId: transport.id,
      producerId: info.producerId,
      rtpCapabilities: device.rtpCapabilities as Body<'consume'>['rtpCapabilities'],
    });
    if (this.#recvTransport !== recv) return; // media was rebuilt meanwhile
    this.#armFallback(transport);
    const consumer = await transport.consume({
      id: answer.consumerId,
      producerId: answer.producerId,
      kind: answer.kind,
      rtpParameters: answer.rtpParameters as types.RtpParameters,
    });
    this.#received.set(consumer.id, { consumer, info });
    let stream = this.#streams.get(info.participantId);
    if (!stream) this.#streams.set(info.participantId, (stream = new MediaStream()));
    stream.addTrack(consumer.track);
    if (info.role === 'host') this.#showStream.addTrack(consumer.track);
    this.emit('trackadded', consumer.track, info.participantId, stream);
    await channel.request('resumeConsumer', { consumerId: consumer.id });
  }

  #unreceive(consumerId: string): void {
    const r = this.#received.get(consumerId);
    if (!r) return;
    this.#received.delete(consumerId);
    r.consumer.close();
    const stream = this.#streams.get(r.info.participantId);
    stream?.removeTrack(r.consumer.track);
    if (stream?.getTracks().length === 0) this.#streams.delete(r.info.participantId);
    this.#showStream.removeTrack(r.consumer.track);
    this.emit('trackremoved', r.consumer.track, r.info.participantId);
  }
}
