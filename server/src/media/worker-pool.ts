import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Logger } from '../logger.ts';
import { stallReport } from './worker-stall-report.ts';

export type WorkerPoolOptions = {
  size: number;
  listenIp: string;
  announcedAddress: string;
  /** Worker i serves WebRTC on basePort + i (UDP and TCP); 0 lets the OS pick. */
  basePort: number;
  workerBin: string | undefined;
  /** A worker that does not answer a request for this long is killed and replaced. */
  watchdogMs: number;
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
  /** The watchdog killed a worker that stopped answering. */
  workerHung: [pid: number];
  /** A worker is up (at start, or replacing a dead one). */
  workerStarted: [worker: MediaWorker];
};

const RESTART_DELAY_MS = 500;
/** How often the watchdog asks each worker for a sign of life. */
const WATCHDOG_PROBE_MS = 1000;
/** How long the watchdog spends on a hung worker's stall report before killing it anyway. */
const STALL_REPORT_TIMEOUT_MS = 5000;

/**
 * Owns the mediasoup workers. A worker that dies is replaced on the same port after a short delay;
 * routers on it are closed by mediasoup (their owners see 'workerclose' and recover).
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  readonly #options: WorkerPoolOptions;
  readonly #logger: Logger;
  readonly #slots: (MediaWorker | undefined)[];
  #closed = false;
  /** The node is stopping: workers ending now are part of that, not failures. */
  #stopping = false;
  #next = 0;
  /** CPU seconds (user + system) each live worker process has used, as the watchdog last learnt. */
  readonly #cpuSeconds = new Map<number, number>();

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

  /** Worker index → CPU seconds its process has used (it starts again from 0 when a worker is replaced). */
  cpuSeconds(): Map<number, number> {
    return new Map(this.#cpuSeconds);
  }

  workers(): MediaWorker[] {
    return this.#slots.filter((s): s is MediaWorker => s !== undefined);
  }

  /**
   * The node is stopping (from its own SIGTERM/SIGINT handler, before anything else): a worker that
   * exits from now on got the same signal (a process group's or a cgroup's SIGTERM), not a crash.
   */
  expectStop(): void {
    this.#stopping = true;
  }

  get stopping(): boolean {
    return this.#stopping || this.#closed;
  }

  close(): void {
    this.#closed = true;
    for (const slot of this.#slots) slot?.worker.close();
    this.#slots.fill(undefined);
  }

  async #start(index: number): Promise<void> {
    const { listenIp, announcedAddress, basePort, workerBin } = this.#options;
    const worker = await mediasoup.createWorker({ logLevel: 'warn', ...(workerBin ? { workerBin } : {}) });
    // mediasoup closes every worker on the process's SIGINT/SIGTERM; the server decides when its
    // workers close (a drain keeps them for as long as its shows go on), and closes them itself.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.removeListener(signal, signalHandlerOf(worker));
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
    const watchdog = this.#watch(worker, log, index);
    worker.on('died', (error) => {
      clearInterval(watchdog);
      this.#cpuSeconds.delete(index);
      this.#slots[index] = undefined;
      // Judged a moment later: when the whole process group gets SIGTERM, this worker's exit can be
      // seen just before the node's own signal handler runs (both come in one turn of the loop).
      setImmediate(() => {
        if (this.stopping) return log.info({ err: error }, 'mediasoup worker stopped with the node');
        log.error({ err: error }, 'mediasoup worker died');
        this.emit('workerDied', index, error);
        setTimeout(() => this.#restart(index), RESTART_DELAY_MS).unref();
      });
    });
    this.#slots[index] = { index, worker, webRtcServer };
    log.info({ port: port ?? 'any' }, 'mediasoup worker started');
    this.emit('workerStarted', this.#slots[index]);
  }

  /**
   * A worker can stop answering without exiting (seen near saturation): it is asked for its
   * resource usage every second, and one that has not answered within `watchdogMs` is killed, so
   * it dies like a crashed one and its rooms recover the same way. A stall report (state, CPU,
   * kernel and gdb stacks) is logged first, so a stall leaves evidence of where it stood.
   */
  #watch(worker: types.Worker, log: Logger, index: number): NodeJS.Timeout {
    let askedAt: number | undefined;
    const timer = setInterval(() => {
      if (worker.closed || worker.died) return clearInterval(timer);
      if (askedAt === undefined) {
        const at = (askedAt = performance.now());
        worker.getResourceUsage().then(
          (usage) => {
            this.#cpuSeconds.set(index, (usage.ru_utime + usage.ru_stime) / 1000);
            if (askedAt === at) askedAt = undefined;
          },
          () => askedAt === at && (askedAt = undefined),
        );
        return;
      }
      const silentMs = performance.now() - askedAt;
      if (silentMs < this.#options.watchdogMs) return;
      clearInterval(timer);
      log.error({ silentMs: Math.round(silentMs) }, 'mediasoup worker stopped answering; killing it');
      this.emit('workerHung', worker.pid);
      void stallReport(worker.pid, STALL_REPORT_TIMEOUT_MS).then((report) => {
        log.error(report, 'what the hung worker was doing');
        try {
          process.kill(worker.pid, 'SIGKILL');
        } catch (err) {
          log.error({ err }, 'cannot kill the hung worker');
        }
      });
    }, WATCHDOG_PROBE_MS);
    timer.unref();
    return timer;
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

/** The listener mediasoup's Worker adds for SIGINT and SIGTERM (a public field of its implementation, untyped). */
function signalHandlerOf(worker: types.Worker): (...args: unknown[]) => void {
  const handler = (worker as unknown as { onSignal?: (...args: unknown[]) => void }).onSignal;
  if (!handler) throw new Error('this mediasoup version has no Worker.onSignal: check how it handles signals');
  return handler;
}
