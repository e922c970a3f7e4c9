import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { errors, type types } from 'mediasoup';
import type { DtlsParameters, MediaKind, Quality, RtpCapabilities, RtpParameters, TransportOptions } from '@onstage/protocol';
import { InvalidInputError, MediaError, NotFoundError, OnstageError, StateError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ProducerDirectory } from './producer-directory.ts';

export type Direction = 'send' | 'recv';

/** The router a peer's transports live on, and the WebRtcServer (port) of its worker. */
export type RouterPlacement = { router: types.Router; webRtcServer: types.WebRtcServer };

/** What a peer needs from its room's routers. */
export type PeerMediaContext = {
  /** Picks this peer's router; called once, when its first transport is made. */
  place(): Promise<RouterPlacement>;
  /** A producer of the room as seen on `router` (piped there if needed), or undefined. */
  producerOn(router: types.Router, producerId: string): Promise<types.Producer | undefined>;
  /** The room's producers; this peer's own are entered there. */
  directory: ProducerDirectory;
};

/** Simulcast layer per preferred quality; 'auto' allows the best, mediasoup lowers it to fit bandwidth. */
const SPATIAL_LAYER: Record<Quality, number> = { low: 0, medium: 1, high: 2, auto: 2 };

type PeerMediaEvents = {
  closed: [];
  /** A consumer was closed from the server side (its producer or transport went away). */
  consumerClosed: [consumerId: string];
};

// Bounds on what one peer may allocate in the worker.
const MAX_PRODUCERS = 4;
const MAX_CONSUMERS = 64;

/** `webRtc` is set for WebRTC transports (ICE and DTLS), unset for plain RTP ones. */
type PeerTransport = { transport: types.Transport; webRtc?: types.WebRtcTransport; direction: Direction; connected: boolean };

/** A plain RTP transport (no ICE/DTLS): FFmpeg sources, load-test sinks, recorders. */
export type PlainTransportOptions = {
  direction: Direction;
  listenIp: string;
  /** Learn the remote address from the first packet (a sender such as FFmpeg). */
  comedia: boolean;
  rtcpMux: boolean;
  /** SRTP with AES_CM_128_HMAC_SHA1_80, as WebRTC viewers cost. */
  srtp: boolean;
  /** Send to this address (a receiver); RTCP to rtcpPort when rtcpMux is off. */
  connectTo?: { ip: string; port: number; rtcpPort?: number };
};

/**
 * All mediasoup objects of one participant: at most one transport per direction, its producers and
 * its consumers. Owns them and closes them. Its producers are listed in the room's directory.
 */
export class PeerMedia extends EventEmitter<PeerMediaEvents> {
  readonly #ctx: PeerMediaContext;
  readonly #logger: Logger;
  readonly #transports = new Map<string, PeerTransport>();
  readonly #consumers = new Map<string, types.Consumer>();
  #quality: Quality = 'auto';
  #placement: Promise<RouterPlacement> | undefined;
  #closed = false;

  constructor(ctx: PeerMediaContext, logger: Logger) {
    super();
    this.#ctx = ctx;
    this.#logger = logger;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Creates the transport for a direction, replacing (and closing) an earlier one. */
  async createTransport(direction: Direction): Promise<TransportOptions> {
    for (const t of this.#transports.values()) if (t.direction === direction) t.transport.close();
    const { router, webRtcServer } = await this.#where();
    const transport = await mediaCall(() =>
      router.createWebRtcTransport({
        webRtcServer,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        appData: { direction },
      }),
    );
    if (this.#closed) {
      transport.close();
      throw new MediaError('MEDIA_ERROR', 'participant left while the transport was being created');
    }
    this.#transports.set(transport.id, { transport, webRtc: transport, direction, connected: false });
    transport.observer.once('close', () => this.#transports.delete(transport.id));
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') this.#logger.warn({ transportId: transport.id, state }, 'DTLS state');
    });
    return {
      transportId: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates as TransportOptions['iceCandidates'],
      dtlsParameters: transport.dtlsParameters as DtlsParameters,
    };
  }

  /** A plain transport; unlike WebRTC ones, several may exist per direction (one per FFmpeg stream). */
  async createPlainTransport(o: PlainTransportOptions): Promise<{ transportId: string; port: number; rtcpPort: number | undefined }> {
    const { router } = await this.#where();
    const transport = await mediaCall(() =>
      router.createPlainTransport({
        listenInfo: { protocol: 'udp', ip: o.listenIp },
        rtcpMux: o.rtcpMux,
        comedia: o.comedia,
        enableSrtp: o.srtp,
        srtpCryptoSuite: 'AES_CM_128_HMAC_SHA1_80',
      }),
    );
    if (this.#closed) {
      transport.close();
      throw new MediaError('MEDIA_ERROR', 'participant left while the transport was being created');
    }
    if (o.connectTo) {
      // The far end's SRTP key: a receiver that only counts packets never needs it.
      const srtpParameters = o.srtp
        ? { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80' as const, keyBase64: randomBytes(30).toString('base64') }
        : undefined;
      await mediaCall(() => transport.connect({ ...o.connectTo, ...(srtpParameters ? { srtpParameters } : {}) }));
    }
    this.#transports.set(transport.id, { transport, direction: o.direction, connected: o.connectTo !== undefined });
    transport.observer.once('close', () => this.#transports.delete(transport.id));
    return { transportId: transport.id, port: transport.tuple.localPort, rtcpPort: transport.rtcpTuple?.localPort };
  }

  /** New ICE credentials for a WebRTC transport (the client restarts ICE, e.g. after a network change). */
  async restartIce(transportId: string): Promise<TransportOptions['iceParameters']> {
    const { webRtc } = this.#transport(transportId);
    if (!webRtc) throw new InvalidInputError('INVALID_PAYLOAD', `transport ${transportId} has no ICE`);
    return mediaCall(() => webRtc.restartIce());
  }

  /**
   * Resolves once a WebRTC transport can carry nothing more: its DTLS session closed (the client
   * hung up) or failed, its ICE consent ran out, or it was closed here.
   */
  transportEnded(transportId: string): Promise<'dtls_closed' | 'dtls_failed' | 'ice_disconnected' | 'closed'> {
    const { transport, webRtc } = this.#transport(transportId);
    return new Promise((resolve) => {
      if (transport.closed) return resolve('closed');
      transport.observer.once('close', () => resolve('closed'));
      if (!webRtc) return;
      webRtc.on('dtlsstatechange', (state) => {
        if (state === 'closed' || state === 'failed') resolve(state === 'closed' ? 'dtls_closed' : 'dtls_failed');
      });
      webRtc.on('icestatechange', (state) => {
        if (state === 'disconnected') resolve('ice_disconnected');
      });
    });
  }

  async connectTransport(transportId: string, dtlsParameters: DtlsParameters): Promise<void> {
    const t = this.#transport(transportId);
    if (t.connected) throw new StateError('ALREADY_CONNECTED', 'transport is already connected');
    t.connected = true;
    try {
      await mediaCall(() => t.transport.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters }), 'client');
    } catch (err) {
      t.connected = false;
      throw err;
    }
  }

  async produce(transportId: string, kind: MediaKind, rtpParameters: RtpParameters): Promise<{ producerId: string }> {
    const t = this.#transport(transportId, 'send');
    if (this.#producers().length >= MAX_PRODUCERS) {
      throw new InvalidInputError('INVALID_PAYLOAD', `at most ${MAX_PRODUCERS} tracks per participant`);
    }
    const producer = await mediaCall(() => t.transport.produce({ kind, rtpParameters: rtpParameters as types.RtpParameters }), 'client');
    if (this.#closed || t.transport.closed) {
      producer.close();
      throw new MediaError('MEDIA_ERROR', 'transport closed while producing');
    }
    const { directory } = this.#ctx;
    directory.add(producer, (await this.#where()).router, this);
    void whenFlowing(producer).then((flowing) => flowing && directory.markFlowing(producer.id));
    return { producerId: producer.id };
  }

  /** Packets and bytes each of this peer's producers has received so far. */
  async producerStats(): Promise<{ producerId: string; kind: MediaKind; packets: number; bytes: number }[]> {
    const out = [];
    for (const producer of this.#producers()) {
      let packets = 0;
      let bytes = 0;
      for (const s of await producer.getStats()) {
        packets += s.packetCount;
        bytes += s.byteCount;
      }
      out.push({ producerId: producer.id, kind: producer.kind, packets, bytes });
    }
    return out;
  }

  /** Stops sending everything (e.g. a co-host leaving the stage); the transport stays for next time. */
  closeProducers(): void {
    for (const producer of this.#producers()) producer.close();
  }

  /** Pauses or resumes this peer's producers of one kind (muting); their consumers follow. */
  async setPaused(kind: MediaKind, paused: boolean): Promise<void> {
    for (const producer of this.#producers()) {
      if (producer.kind !== kind || producer.paused === paused) continue;
      await mediaCall(() => (paused ? producer.pause() : producer.resume()));
      this.#ctx.directory.markPaused(producer.id);
    }
  }

  /** Caps the simulcast layer of every video this peer receives, now and later. */
  async setPreferredQuality(quality: Quality): Promise<void> {
    this.#quality = quality;
    for (const consumer of this.#consumers.values()) await this.#applyQuality(consumer);
  }

  async #applyQuality(consumer: types.Consumer): Promise<void> {
    if (consumer.type !== 'simulcast' && consumer.type !== 'svc') return;
    await mediaCall(() => consumer.setPreferredLayers({ spatialLayer: SPATIAL_LAYER[this.#quality] }));
  }

  closeProducer(producerId: string): void {
    const entry = this.#ctx.directory.get(producerId);
    if (entry?.peer !== this) throw new NotFoundError('PRODUCER_NOT_FOUND', `no producer ${producerId} of this participant`);
    entry.producer.close();
  }

  /** `mid`: the consumer's media section, when the client's SDP fixed it (WHEP); otherwise the transport picks one. */
  async consume(
    transportId: string,
    producerId: string,
    rtpCapabilities: RtpCapabilities,
    mid?: string,
  ): Promise<{ consumerId: string; producerId: string; kind: MediaKind; rtpParameters: RtpParameters }> {
    const t = this.#transport(transportId, 'recv');
    const { router } = await this.#where();
    const producer = await mediaCall(() => this.#ctx.producerOn(router, producerId));
    if (!producer) throw new NotFoundError('PRODUCER_NOT_FOUND', `no producer ${producerId} in this room`);
    if (this.#consumers.size >= MAX_CONSUMERS) {
      throw new InvalidInputError('INVALID_PAYLOAD', `at most ${MAX_CONSUMERS} consumers per participant`);
    }
    const caps = rtpCapabilities as types.RtpCapabilities;
    let canConsume: boolean;
    try {
      canConsume = router.canConsume({ producerId: producer.id, rtpCapabilities: caps });
    } catch (err) {
      throw new InvalidInputError('INVALID_PAYLOAD', `invalid rtpCapabilities: ${(err as Error).message}`, { cause: err });
    }
    if (!canConsume) throw new MediaError('CANNOT_CONSUME', 'these rtpCapabilities cannot receive this producer');
    // Paused until the client has set up its side, so the first packets are not lost (the
    // client resumes it, and a keyframe is requested then).
    // `producer.id` is the room's id for it, except for a pipe within one worker (a router of a peer's own).
    const consumer = await mediaCall(() => t.transport.consume({ producerId: producer.id, rtpCapabilities: caps, paused: true, ...(mid ? { mid } : {}) }));
    if (this.#closed || t.transport.closed) {
      consumer.close();
      throw new MediaError('MEDIA_ERROR', 'transport closed while consuming');
    }
    this.#consumers.set(consumer.id, consumer);
    const closedByServer = () => {
      this.#consumers.delete(consumer.id);
      this.emit('consumerClosed', consumer.id);
    };
    consumer.on('producerclose', closedByServer);
    consumer.on('transportclose', closedByServer);
    await this.#applyQuality(consumer);
    return {
      consumerId: consumer.id,
      producerId,
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters as RtpParameters,
    };
  }

  /** Asks the senders of every video this peer receives for a keyframe. */
  async requestKeyFrames(): Promise<void> {
    for (const consumer of this.#consumers.values()) if (consumer.kind === 'video') await mediaCall(() => consumer.requestKeyFrame());
  }

  async resumeConsumer(consumerId: string): Promise<void> {
    const consumer = this.#consumers.get(consumerId);
    if (!consumer) throw new NotFoundError('CONSUMER_NOT_FOUND', `no consumer ${consumerId} of this participant`);
    await mediaCall(() => consumer.resume());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Closing a transport closes its producers and consumers.
    for (const t of this.#transports.values()) t.transport.close();
    this.#transports.clear();
    this.emit('closed');
  }

  #producers(): types.Producer[] {
    return this.#ctx.directory.ofPeer(this);
  }

  #where(): Promise<RouterPlacement> {
    if (this.#closed) return Promise.reject(new MediaError('MEDIA_ERROR', 'this participant has left'));
    this.#placement ??= this.#ctx.place().catch((err: unknown) => {
      this.#placement = undefined; // let a later request try again
      throw err;
    });
    return mediaCall(() => this.#placement!);
  }

  #transport(transportId: string, direction?: Direction): PeerTransport {
    const t = this.#transports.get(transportId);
    if (!t) throw new NotFoundError('TRANSPORT_NOT_FOUND', `no transport ${transportId} of this participant`);
    if (direction && t.direction !== direction) {
      throw new InvalidInputError('INVALID_PAYLOAD', `transport ${transportId} is a ${t.direction} transport`);
    }
    return t;
  }
}

/** A worker request that takes this long is given up on, so one stuck request cannot block a client's queue. */
const MEDIA_CALL_TIMEOUT_MS = 10_000;

/**
 * Runs a mediasoup call and maps its failures: mediasoup throws TypeError or UnsupportedError for
 * parameters it rejects (the client's fault); anything else, a timeout included, is a media failure.
 * For calls whose parameters all come from the client (`rejections: 'client'`: produce, connect),
 * the worker refusing the request (a duplicate SSRC or MID, say) is the client's fault too; a
 * closed worker or channel, an entity gone from the worker and a timeout stay media failures.
 */
async function mediaCall<T>(fn: () => Promise<T>, rejections: 'client' | 'server' = 'server'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MediaError('MEDIA_ERROR', `the media worker did not answer within ${MEDIA_CALL_TIMEOUT_MS} ms`)), MEDIA_CALL_TIMEOUT_MS);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } catch (err) {
    if (err instanceof OnstageError) throw err;
    if (err instanceof TypeError || err instanceof errors.UnsupportedError) throw new InvalidInputError('INVALID_PAYLOAD', err.message, { cause: err });
    if (rejections === 'client' && err instanceof Error && !(err instanceof errors.WorkerClosedError) && !(err instanceof errors.NotFoundError)) {
      throw new InvalidInputError('INVALID_PAYLOAD', err.message, { cause: err });
    }
    throw new MediaError('MEDIA_ERROR', (err as Error).message ?? 'media operation failed', { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves true once the worker has had packets of this producer (false if it closes or nothing
 * comes for 15 s). The first 'score' event says so at once, but it can arrive in the same channel
 * read as the produce response, before the Producer listens, so packet counts are polled too.
 */
async function whenFlowing(producer: types.Producer): Promise<boolean> {
  const scored = new Promise<true>((resolve) => producer.once('score', () => resolve(true)));
  for (let i = 0; i < 60 && !producer.closed; i++) {
    if (producer.score.length > 0) return true;
    const stats = await mediaCall(() => producer.getStats()).catch(() => []);
    if (stats.some((s) => s.packetCount > 0)) return true;
    if (await Promise.race([scored, new Promise<false>((resolve) => setTimeout(() => resolve(false), 250))])) return true;
  }
  return false;
}
