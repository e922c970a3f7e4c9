import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { RtpCapabilities, RtpParameters } from '@onstage/protocol';
import type { Logger } from '../logger.ts';
import { ROUTER_MEDIA_CODECS } from './codecs.ts';
import { NodePipe, type PipeAddress, type PipedProducer } from './node-pipe.ts';
import { PeerMedia, type RouterPlacement } from './peer-media.ts';
import { ProducerDirectory, type ProducerOwner } from './producer-directory.ts';
import type { MediaWorker, WorkerPool } from './worker-pool.ts';

type RoomRouterEvents = {
  /** The primary router's worker died; every transport, producer and consumer of the room is gone. */
  failed: [];
  /** A secondary router's worker died: these peers lost their media and must reconnect. */
  peersLost: [peers: PeerMedia[]];
  /** The loudest audio producer among those observed, or undefined when all are silent. */
  dominantSpeaker: [producerId: string | undefined];
};

export type RoomRouterOptions = {
  /** Audio below this level (dBov, -127..0) counts as silence for the active speaker. */
  speakerThresholdDb: number;
  /** Viewers a router takes before new ones go to a router on another worker. */
  viewersPerRouter: number;
};

/** One router of the room, on one worker, and the peers placed on it (`viewers`: those who only receive). */
type Slot = { router: types.Router; worker: MediaWorker; peers: Set<PeerMedia>; viewers: number };

/** What every room router of this node receives and sends: all are made with the same codecs. */
export async function nodeRtpCapabilities(pool: WorkerPool): Promise<RtpCapabilities> {
  const router = await pool.pick().worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
  try {
    return router.rtpCapabilities as RtpCapabilities;
  } finally {
    router.close();
  }
}

/**
 * The media side of one room. The primary router (created with the room) carries the host and the
 * first viewers; once it holds `viewersPerRouter` viewers, the room opens a router on every other
 * worker and each new viewer goes to the router with the fewest viewers, primary included. Other
 * routers are fed by `pipeToRouter`: every producer is piped once per router, never per viewer.
 */
export class RoomRouter extends EventEmitter<RoomRouterEvents> {
  readonly #pool: WorkerPool;
  readonly #options: RoomRouterOptions;
  readonly #logger: Logger;
  readonly #primary: Slot;
  /** Secondary routers by worker index, and those still being created. */
  readonly #secondaries = new Map<number, Slot>();
  readonly #opening = new Map<number, Promise<void>>();
  /** The room's producers (pipe producers on other routers are in #pipes). */
  readonly #producers = new ProducerDirectory();
  /** Pipes already made (or being made): `${producerId} ${routerId}`. */
  readonly #pipes = new Map<string, Promise<types.Producer>>();
  readonly #speakers: types.AudioLevelObserver;
  #speaker: string | undefined;
  #closed = false;

  private constructor(pool: WorkerPool, primary: Slot, speakers: types.AudioLevelObserver, options: RoomRouterOptions, logger: Logger) {
    super();
    this.#pool = pool;
    this.#primary = primary;
    this.#speakers = speakers;
    this.#options = options;
    this.#logger = logger;
    // Tell only about changes: the observer reports every interval.
    const report = (producerId: string | undefined) => {
      if (producerId === this.#speaker) return;
      this.#speaker = producerId;
      this.emit('dominantSpeaker', producerId);
    };
    speakers.on('volumes', (volumes) => report(volumes[0]?.producer.id));
    speakers.on('silence', () => report(undefined));
    primary.router.on('workerclose', () => {
      // A moment later, as the pool judges a worker's exit: the node may be stopping (then the
      // room is closed as server_shutdown by then).
      setImmediate(() => {
        if (this.#closed || pool.stopping) return;
        this.#logger.error('the room lost its primary router (worker died)');
        this.emit('failed');
      });
    });
  }

  static async create(pool: WorkerPool, options: RoomRouterOptions, logger: Logger): Promise<RoomRouter> {
    const worker = pool.pick();
    const router = await worker.worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    try {
      const speakers = await router.createAudioLevelObserver({ maxEntries: 1, threshold: options.speakerThresholdDb, interval: 500 });
      return new RoomRouter(pool, { router, worker, peers: new Set(), viewers: 0 }, speakers, options, logger.child({ worker: worker.index }));
    } catch (err) {
      router.close();
      throw err;
    }
  }

  /** The codec a producer of the room sends (its first: RTX and the like follow it). */
  codecOf(producerId: string): RtpParameters['codecs'][number] | undefined {
    return this.#producers.get(producerId)?.producer.rtpParameters.codecs[0] as RtpParameters['codecs'][number] | undefined;
  }

  /** Every producer of the room, in one directory. */
  get producers(): ProducerDirectory {
    return this.#producers;
  }

  get rtpCapabilities(): RtpCapabilities {
    return this.#primary.router.rtpCapabilities as RtpCapabilities;
  }

  /** How many peers each worker carries for this room (worker index → peers). */
  placement(): Map<number, number> {
    const out = new Map<number, number>([[this.#primary.worker.index, this.#primary.peers.size]]);
    for (const slot of this.#secondaries.values()) out.set(slot.worker.index, slot.peers.size);
    return out;
  }

  /** Adds an audio producer to active-speaker detection (stage members only). */
  async observeSpeaker(producerId: string): Promise<void> {
    if (this.#producers.get(producerId)?.producer.kind !== 'audio') return;
    try {
      await this.#producerOn(this.#primary.router, producerId);
      await this.#speakers.addProducer({ producerId });
    } catch (err) {
      this.#logger.warn({ err, producerId }, 'cannot observe speaker');
    }
  }

  /**
   * Media for one participant; `publisher` peers (the host) stay on the primary router. A peer
   * with `ownCodecs` gets a router of its own (on the primary's worker, fed by pipes like any other
   * router): mediasoup's consumers send with their router's payload types, and a client that
   * fixed its own in its SDP offer (a WHEP player) must get exactly those.
   */
  createPeer(peerLogger: Logger, publisher: boolean, ownCodecs?: RtpCapabilities['codecs']): PeerMedia {
    const peer: PeerMedia = new PeerMedia(
      {
        place: () => (ownCodecs ? this.#placeAlone(peer, ownCodecs as types.RouterRtpCodecCapability[]) : this.#place(peer, publisher)),
        producerOn: (router, producerId) => this.#producerOn(router, producerId),
        directory: this.#producers,
      },
      peerLogger,
    );
    peer.once('closed', () => {
      for (const slot of [this.#primary, ...this.#secondaries.values()]) {
        if (slot.peers.delete(peer) && !publisher) slot.viewers--;
      }
    });
    return peer;
  }

  /** One end of a pipe to another node, on the primary router (closed with the room). */
  openNodePipe(address: PipeAddress): Promise<NodePipe> {
    return NodePipe.open(this.#primary.router, address);
  }

  /** (origin) Sends one of the room's producers to another node; undefined if there is no such producer. */
  async sendToNode(pipe: NodePipe, producerId: string, mirror: Parameters<NodePipe['send']>[1]): Promise<PipedProducer | undefined> {
    const producer = await this.#producerOn(this.#primary.router, producerId);
    return producer && pipe.send(producer.id, mirror);
  }

  /**
   * A producer arriving through `pipe` from another node (the origin's, on an edge; an edge
   * co-host's, on the origin): entered in the directory as the room's own, announced with `owner`
   * when that is known already. Returns its id (the same as on the other node).
   */
  async receiveFromNode(pipe: NodePipe, piped: PipedProducer, owner?: ProducerOwner): Promise<string> {
    const producer = await pipe.receive(piped);
    if (this.#closed) {
      producer.close();
      throw new Error('the room is closing');
    }
    this.#producers.add(producer, this.#primary.router, pipe);
    if (owner) this.#producers.announce(producer.id, owner);
    this.#producers.markFlowing(producer.id);
    return producer.id;
  }

  close(): void {
    this.#closed = true;
    this.#primary.router.close();
    for (const slot of this.#secondaries.values()) slot.router.close();
    this.#secondaries.clear();
  }

  async #placeAlone(peer: PeerMedia, mediaCodecs: types.RouterRtpCodecCapability[]): Promise<RouterPlacement> {
    const { worker } = this.#primary;
    const router = await worker.worker.createRouter({ mediaCodecs, appData: { sameWorker: true } });
    peer.once('closed', () => router.close());
    if (this.#closed || peer.closed) {
      router.close();
      throw new Error('the room is closing');
    }
    return { router, webRtcServer: worker.webRtcServer };
  }

  async #place(peer: PeerMedia, publisher: boolean): Promise<RouterPlacement> {
    let slot = this.#primary;
    if (!publisher && this.#primary.viewers >= this.#options.viewersPerRouter) slot = await this.#leastLoaded();
    if (this.#closed || slot.router.closed) throw new Error('the room is closing');
    slot.peers.add(peer);
    if (!publisher) slot.viewers++;
    return { router: slot.router, webRtcServer: slot.worker.webRtcServer };
  }

  /** The router with the fewest viewers, after opening one on every live worker that has none. */
  async #leastLoaded(): Promise<Slot> {
    for (const worker of this.#pool.workers()) {
      const index = worker.index;
      if (index === this.#primary.worker.index || this.#secondaries.has(index) || this.#opening.has(index)) continue;
      const opening = this.#openSecondary(worker)
        .then((slot) => {
          if (this.#closed) slot.router.close();
          else this.#secondaries.set(index, slot);
        })
        .catch((err: unknown) => this.#logger.warn({ err, secondaryWorker: index }, 'cannot open a router on this worker'))
        .finally(() => this.#opening.delete(index));
      this.#opening.set(index, opening);
    }
    await Promise.all(this.#opening.values());
    // Ties go to the primary: no pipe needed there.
    return [this.#primary, ...this.#secondaries.values()].reduce((best, s) => (s.viewers < best.viewers ? s : best));
  }

  async #openSecondary(worker: MediaWorker): Promise<Slot> {
    const router = await worker.worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    const slot: Slot = { router, worker, peers: new Set(), viewers: 0 };
    this.#logger.info({ secondaryWorker: worker.index }, 'room spreads to another worker');
    router.on('workerclose', () => {
      this.#logger.error({ secondaryWorker: worker.index, peers: slot.peers.size }, 'a secondary router lost its worker');
      if (this.#secondaries.get(worker.index) === slot) this.#secondaries.delete(worker.index);
      for (const key of [...this.#pipes.keys()]) if (key.endsWith(` ${router.id}`)) this.#pipes.delete(key);
      const lost = [...slot.peers];
      slot.peers.clear();
      slot.viewers = 0;
      if (lost.length > 0) this.emit('peersLost', lost);
    });
    return slot;
  }

  /** The producer as seen on `router`: itself, or its pipe producer there (made once). */
  async #producerOn(router: types.Router, producerId: string): Promise<types.Producer | undefined> {
    const origin = this.#producers.get(producerId);
    if (!origin) return undefined;
    if (origin.router === router) return origin.producer;
    const key = `${producerId} ${router.id}`;
    let pipe = this.#pipes.get(key);
    if (!pipe) {
      // A router of a peer's own shares its worker with the room's primary: there the pipe producer needs an id of its own.
      const sameWorker = router.appData['sameWorker'] === true;
      pipe = origin.router.pipeToRouter({ producerId, router, keepId: !sameWorker }).then(({ pipeProducer }) => {
        if (!pipeProducer) throw new Error('pipeToRouter gave no producer');
        pipeProducer.observer.once('close', () => this.#pipes.delete(key));
        return pipeProducer;
      });
      pipe.catch(() => this.#pipes.delete(key));
      this.#pipes.set(key, pipe);
    }
    return pipe;
  }
}
