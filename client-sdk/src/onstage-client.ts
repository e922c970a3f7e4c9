import { Device, type types } from 'mediasoup-client';
import type { ProducerInfo, RoomId, ShowEndReason, TransportOptions } from '@onstage/protocol';
import { OnstageRequestError, SignallingChannel } from './signalling-channel.ts';
import { TypedEmitter } from './typed-emitter.ts';

export type OnstageClientOptions = {
  /** Server origin; defaults to the page's own origin. */
  url?: string;
  /** How long to wait for any one request (ms). Default 10000. */
  requestTimeoutMs?: number;
  displayName?: string;
};

export type OnstageEvents = {
  /** (viewer) The host went live. Tracks follow as `trackadded`. */
  live: [];
  /** (viewer) The show ended: every received track has been removed. */
  ended: [reason: ShowEndReason];
  trackadded: [track: MediaStreamTrack];
  trackremoved: [track: MediaStreamTrack];
  /** The connection to the server is gone; call goLive/watch again to continue. */
  disconnected: [reason: string];
  /** Something failed in the background (e.g. receiving a track); the session goes on. */
  error: [error: Error];
};

/** Receive-side numbers of one track, from WebRTC stats. */
export type TrackStats = {
  kind: 'audio' | 'video';
  bytesReceived: number;
  packetsReceived: number;
  packetsLost: number;
  framesDecoded?: number;
  frameWidth?: number;
  frameHeight?: number;
};

type Received = { consumer: types.Consumer; producerId: string };

/**
 * One person's connection to an Onstage room: `goLive` as the host, or `watch` as a viewer.
 * One client is one participant; create another client for another room.
 */
export class OnstageClient extends TypedEmitter<OnstageEvents> {
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #displayName: string | undefined;
  #channel: SignallingChannel | undefined;
  #device: Device | undefined;
  #sendTransport: types.Transport | undefined;
  #recvTransport: Promise<types.Transport> | undefined;
  readonly #producers = new Map<string, types.Producer>();
  readonly #received = new Map<string, Received>();
  #stream = new MediaStream();
  #participantId: string | undefined;

  constructor(options: OnstageClientOptions = {}) {
    super();
    this.#url = options.url ?? globalThis.location.origin;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#displayName = options.displayName;
  }

  get participantId(): string | undefined {
    return this.#participantId;
  }

  /** Joins `roomId` as its host and sends every track of `stream` to the room. */
  async goLive(roomId: RoomId, stream: MediaStream): Promise<void> {
    const channel = this.#open();
    const joined = await channel.request('join', { roomId, role: 'host', ...this.#nameField() });
    this.#participantId = joined.participantId;
    const device = await this.#loadDevice(joined.routerRtpCapabilities);
    const options = await channel.request('createTransport', { direction: 'send' });
    const transport = device.createSendTransport(toTransportOptions(options));
    this.#wireConnect(channel, transport);
    transport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
      channel
        .request('produce', {
          transportId: transport.id,
          kind,
          rtpParameters: rtpParameters as Parameters<typeof channel.request<'produce'>>[1]['rtpParameters'],
        })
        .then(({ producerId }) => callback({ id: producerId }), errback);
    });
    this.#sendTransport = transport;
    for (const track of stream.getTracks()) await this.addTrack(track);
  }

  /** (host) Sends one more track, e.g. a microphone added after going live. */
  async addTrack(track: MediaStreamTrack): Promise<void> {
    if (!this.#sendTransport) throw new Error('goLive() first');
    const producer = await this.#sendTransport.produce({ track, stopTracks: false });
    this.#producers.set(producer.id, producer);
  }

  /**
   * Joins `roomId` as a viewer. Resolves with a MediaStream that receives the show's tracks as the
   * host sends them (now, or later if the host is not live yet); attach it to a <video> element.
   */
  async watch(roomId: RoomId): Promise<MediaStream> {
    const channel = this.#open();
    channel.on('showStarted', () => this.emit('live'));
    channel.on('producerAdded', (info) => void this.#receiveSafely(channel, info));
    channel.on('producerClosed', ({ producerId }) => {
      for (const [id, r] of this.#received) if (r.producerId === producerId) this.#unreceive(id);
    });
    channel.on('consumerClosed', ({ consumerId }) => this.#unreceive(consumerId));
    channel.on('showEnded', ({ reason }) => {
      for (const id of [...this.#received.keys()]) this.#unreceive(id);
      this.emit('ended', reason);
    });

    const joined = await channel.request('join', { roomId, role: 'viewer', ...this.#nameField() });
    this.#participantId = joined.participantId;
    const device = await this.#loadDevice(joined.routerRtpCapabilities);
    this.#recvTransport = channel.request('createTransport', { direction: 'recv' }).then((options) => {
      const transport = device.createRecvTransport(toTransportOptions(options));
      this.#wireConnect(channel, transport);
      return transport;
    });
    await this.#recvTransport;
    if (joined.live) this.emit('live');
    await Promise.all(joined.producers.map((info) => this.#receiveSafely(channel, info)));
    return this.#stream;
  }

  /** Receive-side stats of every track being watched. */
  async getReceiveStats(): Promise<TrackStats[]> {
    const out: TrackStats[] = [];
    for (const { consumer } of this.#received.values()) {
      const report = await consumer.getStats();
      report.forEach((s: Record<string, unknown>) => {
        if (s['type'] !== 'inbound-rtp') return;
        out.push({
          kind: consumer.kind as 'audio' | 'video',
          bytesReceived: Number(s['bytesReceived'] ?? 0),
          packetsReceived: Number(s['packetsReceived'] ?? 0),
          packetsLost: Number(s['packetsLost'] ?? 0),
          ...(consumer.kind === 'video'
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
    if (channel?.connected) await channel.request('leave', {}).catch(() => undefined);
    channel?.close();
    for (const id of [...this.#received.keys()]) this.#unreceive(id);
    for (const p of this.#producers.values()) p.close();
    this.#producers.clear();
    this.#sendTransport?.close();
    this.#sendTransport = undefined;
    const recv = this.#recvTransport;
    this.#recvTransport = undefined;
    (await recv?.catch(() => undefined))?.close();
    this.#participantId = undefined;
    this.#stream = new MediaStream();
  }

  #open(): SignallingChannel {
    if (this.#channel) throw new Error('this client is already in a room; call leave() first');
    const channel = new SignallingChannel(this.#url, this.#timeoutMs);
    channel.onDisconnect((reason) => {
      if (this.#channel === channel) this.emit('disconnected', reason);
    });
    this.#channel = channel;
    return channel;
  }

  #nameField(): { displayName?: string } {
    return this.#displayName ? { displayName: this.#displayName } : {};
  }

  async #loadDevice(routerRtpCapabilities: unknown): Promise<Device> {
    if (!this.#device) {
      const device = await Device.factory();
      await device.load({ routerRtpCapabilities: routerRtpCapabilities as types.RtpCapabilities });
      this.#device = device;
    }
    return this.#device;
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
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    }
  }

  async #receive(channel: SignallingChannel, info: ProducerInfo): Promise<void> {
    const transport = await this.#recvTransport;
    const device = this.#device;
    if (!transport || !device || this.#channel !== channel) return;
    for (const r of this.#received.values()) if (r.producerId === info.producerId) return;
    const answer = await channel.request('consume', {
      transportId: transport.id,
      producerId: info.producerId,
      rtpCapabilities: device.rtpCapabilities as Parameters<typeof channel.request<'consume'>>[1]['rtpCapabilities'],
    });
    const consumer = await transport.consume({
      id: answer.consumerId,
      producerId: answer.producerId,
      kind: answer.kind,
      rtpParameters: answer.rtpParameters as types.RtpParameters,
    });
    this.#received.set(consumer.id, { consumer, producerId: info.producerId });
    this.#stream.addTrack(consumer.track);
    this.emit('trackadded', consumer.track);
    await channel.request('resumeConsumer', { consumerId: consumer.id });
  }

  #unreceive(consumerId: string): void {
    const r = this.#received.get(consumerId);
    if (!r) return;
    this.#received.delete(consumerId);
    r.consumer.close();
    this.#stream.removeTrack(r.consumer.track);
    this.emit('trackremoved', r.consumer.track);
  }
}

function toTransportOptions(o: TransportOptions): types.TransportOptions {
  return {
    id: o.transportId,
    iceParameters: o.iceParameters as types.IceParameters,
    iceCandidates: o.iceCandidates as types.IceCandidate[],
    dtlsParameters: o.dtlsParameters as types.DtlsParameters,
  };
}
