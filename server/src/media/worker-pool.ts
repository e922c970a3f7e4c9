import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Logger } from '../logger.ts';

export type WorkerPoolOptions = {
  size: number;
  listenIp: string;
  announcedAddress: string;
  /** Worker i serves WebRTC on basePort + i (UDP and TCP); 0 lets the OS pick. */
  basePort: number;
  workerBin: string | undefined;
};

/** One worker and the WebRtcServer that gives all its transports a single port. */
export type MediaWorker = {
  readonly index: number;
  readonly worker: types.Worker;
  readonly webRtcServer: types.WebRtcServer;
};

type WorkerPoolEvents = {
  workerDied: [index: number, error: Error];
  workerRestarted: [index: number];
};

const RESTART_DELAY_MS = 500;

/**
 * Owns the mediasoup workers. A worker that dies is replaced on the same port after a short delay;
 * routers on it are closed by mediasoup (their owners see 'workerclose' and recover).
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  readonly #options: WorkerPoolOptions;
  readonly #logger: Logger;
  readonly #slots: (MediaWorker | undefined)[];
  #closed = false;
  #next = 0;

  private constructor(options: WorkerPoolOptions, logger: Logger) {
    super();
    this.#options = options;
    this.#logger = logger;
    this.#slots = new Array<MediaWorker | undefined>(options.size).fill(undefined);
  }

  static async create(options: WorkerPoolOptions, logger: Logger): Promise<WorkerPool> {
    const pool = new WorkerPool(options, logger);
    try {
      await Promise.all(pool.#slots.map((_, i) => pool.#start(i)));
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.#slots.length;
  }

  get aliveCount(): number {
    return this.#slots.filter((s) => s !== undefined).length;
  }

  /** Round robin over live workers; throws when none is alive. */
  pick(): MediaWorker {
    for (let tries = 0; tries < this.#slots.length; tries++) {
      const slot = this.#slots[this.#next % this.#slots.length];
      this.#next++;
      if (slot) return slot;
    }
    throw new Error('no mediasoup worker is alive');
  }

  workers(): MediaWorker[] {
    return this.#slots.filter((s): s is MediaWorker => s !== undefined);
  }

  close(): void {
    this.#closed = true;
    for (const slot of this.#slots) slot?.worker.close();
    this.#slots.fill(undefined);
  }

  async #start(index: number): Promise<void> {
    const { listenIp, announcedAddress, basePort, workerBin } = this.#options;
    const worker = await mediasoup.createWorker({ logLevel: 'warn', ...(workerBin ? { workerBin } : {}) });
    const port = basePort > 0 ? basePort + index : undefined;
    let webRtcServer: types.WebRtcServer;
    try {
      webRtcServer = await worker.createWebRtcServer({
        listenInfos: [
          { protocol: 'udp', ip: listenIp, announcedAddress, ...(port ? { port } : {}) },
          { protocol: 'tcp', ip: listenIp, announcedAddress, ...(port ? { port } : {}) },
        ],
      });
    } catch (err) {
      worker.close();
      throw new Error(`cannot listen for WebRTC on ${listenIp}:${port ?? 'any'}: ${(err as Error).message}`, { cause: err });
    }
    if (this.#closed) {
      worker.close();
      return;
    }
    const log = this.#logger.child({ worker: index, pid: worker.pid });
    worker.on('died', (error) => {
      this.#slots[index] = undefined;
      log.error({ err: error }, 'mediasoup worker died');
      this.emit('workerDied', index, error);
      if (!this.#closed) setTimeout(() => this.#restart(index), RESTART_DELAY_MS).unref();
    });
    this.#slots[index] = { index, worker, webRtcServer };
    log.info({ port: port ?? 'any' }, 'mediasoup worker started');
  }

  #restart(index: number): void {
    if (this.#closed) return;
    this.#start(index).then(
      () => this.emit('workerRestarted', index),
      (err: unknown) => {
        this.#logger.error({ err, worker: index }, 'mediasoup worker restart failed; retrying');
        setTimeout(() => this.#restart(index), RESTART_DELAY_MS * 4).unref();
      },
    );
  }
}
