import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as SocketServer } from 'socket.io';
import { MAX_REQUEST_BYTES } from '@onstage/protocol';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { Metrics } from './metrics.ts';
import { loadDemoAssets } from './http/demo-assets.ts';
import { createHttpHandler } from './http/http-handler.ts';
import { WorkerPool } from './media/worker-pool.ts';
import { RecordingService } from './recording/recording-service.ts';
import { RoomRegistry } from './rooms/room-registry.ts';
import { SignallingSession } from './signalling/session.ts';
import { socketAuth } from './auth/socket-auth.ts';

/** One Onstage node: HTTP + socket.io on one port, the worker pool and the rooms. Owns them all. */
export class OnstageServer {
  readonly #http: HttpServer;
  readonly #io: SocketServer;
  readonly #pool: WorkerPool;
  readonly #rooms: RoomRegistry;
  readonly #recordings: RecordingService;
  readonly #logger: Logger;
  #closing = false;

  private constructor(http: HttpServer, io: SocketServer, pool: WorkerPool, rooms: RoomRegistry, recordings: RecordingService, logger: Logger) {
    this.#http = http;
    this.#io = io;
    this.#pool = pool;
    this.#rooms = rooms;
    this.#recordings = recordings;
    this.#logger = logger;
  }

  static async start(config: Config, logger: Logger): Promise<OnstageServer> {
    const [pool, assets] = await Promise.all([
      WorkerPool.create(
        {
          size: config.workers,
          listenIp: config.rtc.listenIp,
          announcedAddress: config.rtc.announcedAddress,
          basePort: config.rtc.basePort,
          workerBin: config.workerBin,
        },
        logger.child({ component: 'media' }),
      ),
      loadDemoAssets(),
    ]);
    let metrics: Metrics | undefined;
    const recordings = await RecordingService.create(config.recorder, logger.child({ component: 'recorder' }), {
      failure: (reason) => metrics?.recorderFailed(reason),
      finished: (status) => metrics?.recordingFinished(status),
    });
    const rooms = new RoomRegistry(pool, config, logger.child({ component: 'rooms' }), (room) => recordings.attach(room));
    const http = createServer();
    // Leave headroom above the request limit so oversized requests get PAYLOAD_TOO_LARGE, not a
    // dropped connection.
    const io = new SocketServer(http, {
      maxHttpBufferSize: 4 * MAX_REQUEST_BYTES,
      serveClient: false,
      pingInterval: config.heartbeat.intervalMs,
      pingTimeout: config.heartbeat.timeoutMs,
    });
    io.use(socketAuth(config.auth.secret));
    metrics = new Metrics({
      rooms: () => rooms.roomCount,
      participants: () => rooms.participantCount,
      connections: () => io.engine.clientsCount,
      workersAlive: () => pool.aliveCount,
      peersPerWorker: () => rooms.peersPerWorker(),
      workerPids: () => new Map(pool.workers().map((w) => [w.index, w.worker.pid])),
      recorderPids: () => recordings.ffmpegPids(),
    });
    pool.on('workerDied', () => metrics.workerDied());
    // Found before the metrics existed; counted now so a scrape shows it.
    if (recordings.unavailable) metrics.recorderFailed(recordings.unavailable.reason);
    const server = new OnstageServer(http, io, pool, rooms, recordings, logger);
    http.on(
      'request',
      createHttpHandler({
        assets,
        metrics,
        logger: logger.child({ component: 'http' }),
        devTokenSecret: config.auth.devTokens ? config.auth.secret : undefined,
        notReadyReason: () => server.#notReadyReason(),
        media: { recordings, isLive: (room) => rooms.isLive(room), tokenSecret: config.auth.secret },
      }),
    );
    const signallingLogger = logger.child({ component: 'signalling' });
    io.on('connection', (socket) => new SignallingSession(socket, rooms, metrics, signallingLogger));

    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.http.port, config.http.host, () => {
        http.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      io.close();
      pool.close();
      throw err;
    });
    logger.info({ url: server.url, workers: pool.size, announcedAddress: config.rtc.announcedAddress }, 'Onstage is up');
    return server;
  }

  /** The socket.io server, for operators' tooling and fault-injection tests. */
  get io(): SocketServer {
    return this.#io;
  }

  get url(): string {
    const { address, port } = this.#http.address() as AddressInfo;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#rooms.closeAll();
    // Shows ended above; their recordings are finished before the workers go.
    await this.#recordings.closeAll();
    await new Promise<void>((resolve) => this.#io.close(() => resolve()));
    this.#pool.close();
    this.#logger.info('Onstage stopped');
  }

  #notReadyReason(): string | undefined {
    if (this.#closing) return 'shutting down';
    if (this.#pool.aliveCount === 0) return 'no mediasoup worker alive';
    return undefined;
  }
}
