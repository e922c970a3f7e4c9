import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { RtpCapabilities } from '@onstage/protocol';
import type { Logger } from '../logger.ts';
import { ROUTER_MEDIA_CODECS } from './codecs.ts';
import { PeerMedia } from './peer-media.ts';
import type { MediaWorker, WorkerPool } from './worker-pool.ts';

type RoomRouterEvents = {
  /** The router's worker died; every transport, producer and consumer of the room is gone. */
  failed: [];
  /** The loudest audio producer among those observed, or undefined when all are silent. */
  dominantSpeaker: [producerId: string | undefined];
};

/** The media side of one room: its router, and the producers peers may consume. */
export class RoomRouter extends EventEmitter<RoomRouterEvents> {
  readonly #router: types.Router;
  readonly #worker: MediaWorker;
  readonly #logger: Logger;
  readonly #producers = new Map<string, types.Producer>();
  readonly #speakers: types.AudioLevelObserver;
  #speaker: string | undefined;

  private constructor(router: types.Router, speakers: types.AudioLevelObserver, worker: MediaWorker, logger: Logger) {
    super();
    this.#router = router;
    this.#speakers = speakers;
    this.#worker = worker;
    this.#logger = logger;
    // Tell only about changes: the observer reports every interval.
    const report = (producerId: string | undefined) => {
      if (producerId === this.#speaker) return;
      this.#speaker = producerId;
      this.emit('dominantSpeaker', producerId);
    };
    speakers.on('volumes', (volumes) => report(volumes[0]?.producer.id));
    speakers.on('silence', () => report(undefined));
    router.on('workerclose', () => {
      this.#logger.error('router lost its worker');
      this.emit('failed');
    });
  }

  /** `speakerThresholdDb`: audio below this level (dBov, -127..0) counts as silence. */
  static async create(pool: WorkerPool, speakerThresholdDb: number, logger: Logger): Promise<RoomRouter> {
    const worker = pool.pick();
    const router = await worker.worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    try {
      const speakers = await router.createAudioLevelObserver({ maxEntries: 1, threshold: speakerThresholdDb, interval: 500 });
      return new RoomRouter(router, speakers, worker, logger.child({ worker: worker.index }));
    } catch (err) {
      router.close();
      throw err;
    }
  }

  get rtpCapabilities(): RtpCapabilities {
    return this.#router.rtpCapabilities as RtpCapabilities;
  }

  get closed(): boolean {
    return this.#router.closed;
  }

  /** Adds an audio producer to active-speaker detection (stage members only). */
  async observeSpeaker(producerId: string): Promise<void> {
    const producer = this.#producers.get(producerId);
    if (producer?.kind !== 'audio') return;
    await this.#speakers.addProducer({ producerId }).catch((err: unknown) => {
      this.#logger.warn({ err, producerId }, 'cannot observe speaker');
    });
  }

  createPeer(peerLogger: Logger): PeerMedia {
    return new PeerMedia(
      {
        router: this.#router,
        webRtcServer: this.#worker.webRtcServer,
        findProducer: (id) => this.#producers.get(id),
        registerProducer: (producer) => {
          this.#producers.set(producer.id, producer);
          producer.observer.once('close', () => this.#producers.delete(producer.id));
        },
      },
      peerLogger,
    );
  }

  close(): void {
    this.#router.close();
  }
}
