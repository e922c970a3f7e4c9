import { createServer, type Server as HttpServer } from 'node:http';
import { lookup } from 'node:dns/promises';
import { isIP, type AddressInfo } from 'node:net';
import { Server as SocketServer } from 'socket.io';
import { MAX_REQUEST_BYTES } from '@onstage/protocol';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { Metrics } from './metrics.ts';
import { loadDemoAssets } from './http/demo-assets.ts';
import { guardConnections } from './http/connection-guard.ts';
import { socketChannels } from './signalling/socket-channels.ts';
import { createHttpHandler, createOpsHandler, type HttpDeps } from './http/http-handler.ts';
import { WorkerPool } from './media/worker-pool.ts';
import { MediaStats } from './media/media-stats.ts';
import { nodeRtpCapabilities } from './media/room-router.ts';
import { RecordingService } from './recording/recording-service.ts';
import { RoomRegistry } from './rooms/room-registry.ts';
import { SignallingSession } from './signalling/session.ts';
import { socketAuth } from './auth/socket-auth.ts';
import type { Cluster } from './cluster/cluster.ts';
import { LocalCluster } from './cluster/local-cluster.ts';
import { RedisCluster } from './cluster/redis-cluster.ts';
import { serveEdges } from './cluster/edge-link.ts';
import { LINK_NAMESPACE } from './cluster/link-protocol.ts';
import { recordingsElsewhere } from './http/recordings-elsewhere.ts';
import { webrtcHttpEndpoint } from './webrtc-http/endpoint.ts';
import { listenRtmp, type RtmpListener } from './rtmp/rtmp-listener.ts';
import { resolveFfmpeg } from '@onstage/recorder';
import { sendRoomWebhooks } from './webhooks/room-webhooks.ts';
import { WebhookSender } from './webhooks/webhook-sender.ts';

/** A drain asked for over the server API with no timeout, when DRAIN_TIMEOUT_MS is 0 (SIGTERM stops at once). */
const DEFAULT_API_DRAIN_MS = 600_000;
/** Time for the other nodes to see this one draining (a heartbeat) before its viewers are sent to them. */
const DRAIN_NOTICE_MS = 2500;
const MOVE_BATCH = 100;
const MOVE_BATCH_PAUSE_MS = 100;
/** What the signalling layer keeps on each socket. */
type SocketData = { claims?: { role: string; room: string }; participantId?: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One Onstage node: HTTP + socket.io on one port, the worker pool and the rooms. Owns them all. */
export class OnstageServer {
  readonly #http: HttpServer;
  readonly #ops: HttpServer | undefined;
  readonly #io: SocketServer;
  readonly #pool: WorkerPool;
  readonly #rooms: RoomRegistry;
  readonly #recordings: RecordingService;
  readonly #cluster: Cluster;
  readonly #logger: Logger;
  readonly #webhooks: WebhookSender | undefined;
  readonly #mediaStats: MediaStats;
  #rtmp: RtmpListener | undefined;
  #closing = false;
  /** Set once the node drains: when it began, and the drain's end (the node stopped). */
  #drain: { since: number; done: Promise<void> } | undefined;
  readonly #stopped = Promise.withResolvers<void>();

  private constructor(
    http: HttpServer,
    ops: HttpServer | undefined,
    io: SocketServer,
    pool: WorkerPool,
    rooms: RoomRegistry,
    recordings: RecordingService,
    cluster: Cluster,
    logger: Logger,
    webhooks: WebhookSender | undefined,
    mediaStats: MediaStats,
  ) {
    this.#webhooks = webhooks;
    this.#mediaStats = mediaStats;
    this.#cluster = cluster;
    this.#http = http;
    this.#ops = ops;
    this.#io = io;
    this.#pool = pool;
    this.#rooms = rooms;
    this.#recordings = recordings;
    this.#logger = logger;
  }

  static async start(config: Config, logger: Logger): Promise<OnstageServer> {
    const clusterLogger = logger.child({ component: 'cluster', node: config.cluster.nodeId });
    const { redisUrl, nodeId, heartbeatMs, nodeTtlMs, originLeaseMs } = config.cluster;
    const cluster: Cluster = redisUrl
      ? await RedisCluster.connect({ url: redisUrl, nodeId, heartbeatMs, nodeTtlMs, originLeaseMs }, clusterLogger)
      : new LocalCluster(nodeId);
    const [pool, assets] = await Promise.all([
      WorkerPool.create(
        {
          size: config.workers,
          listenIp: config.rtc.listenIp,
          announcedAddress: config.rtc.announcedAddress,
          basePort: config.rtc.basePort,
          workerBin: config.workerBin,
          watchdogMs: config.workerWatchdogMs,
        },
        logger.child({ component: 'media' }),
      ),
      loadDemoAssets(),
    ]);
    let metrics: Metrics | undefined;
    const mediaStats = new MediaStats(pool, {
      connected: (seconds) => metrics?.transportConnected(seconds),
      counted: (kind, n) => metrics?.mediaCounted(kind, n),
    });
    const webhooks = config.webhooks
      ? new WebhookSender(config.webhooks, nodeId, logger.child({ component: 'webhooks' }), (result) => metrics?.webhookResult(result))
      : undefined;
    const recordings = await RecordingService.create(config.recorder, logger.child({ component: 'recorder' }), {
      failure: (reason) => metrics?.recorderFailed(reason),
      started: (recording) => webhooks?.send({ event: 'recording_started', room: recording.room, recording }),
      uploaded: (result) => metrics?.recordingUploaded(result),
      finished: (recording) => {
        metrics?.recordingFinished(recording.status);
        webhooks?.send({ event: recording.status === 'ready' ? 'recording_ready' : 'recording_failed', room: recording.room, recording });
      },
    });
    // Timeouts are checked every second (Node's default, 30 s, held slow headers for up to 105 s).
    const http = createServer({ connectionsCheckingInterval: 1000 });
    const guard = guardConnections(http, config.http.limits, logger.child({ component: 'http' }));
    // Leave headroom above the request limit so oversized requests get PAYLOAD_TOO_LARGE, not a
    // dropped connection.
    const io = new SocketServer(http, {
      maxHttpBufferSize: 4 * MAX_REQUEST_BYTES,
      serveClient: false,
      pingInterval: config.heartbeat.intervalMs,
      pingTimeout: config.heartbeat.timeoutMs,
      // A connection that has not authenticated by then is closed.
      connectTimeout: config.authTimeoutMs,
    });
    io.use(socketAuth(config.auth.secret));
    // Other nodes reach this one's media (pipes) at its cluster address, which may be a name (a compose service).
    const clusterAddress = config.cluster.address;
    const pipeIp = redisUrl && !isIP(clusterAddress) ? (await lookup(clusterAddress)).address : clusterAddress;
    const pipeAddress = { listenIp: config.rtc.listenIp, announcedAddress: pipeIp };
    const rooms = new RoomRegistry(pool, config, logger.child({ component: 'rooms' }), {
      channels: socketChannels(io),
      cluster,
      onOpen: (room) => {
        recordings.attach(room);
        if (webhooks) sendRoomWebhooks(room, (event) => webhooks.send(event));
      },
      edges: { pipeAddress, secret: config.auth.secret },
      onOriginLinkLost: () => metrics?.originLinkLost(),
      placementLoadGap: config.cluster.placementLoadGap,
    });
    // Other nodes serve this node's rooms as edges through this namespace (cluster mode only).
    const edges =
      cluster.mode === 'redis'
        ? serveEdges(io.of(LINK_NAMESPACE), { originRoom: (id) => rooms.originRoom(id), pipeAddress, secret: config.auth.secret, logger: clusterLogger })
        : undefined;
    metrics = new Metrics({
      rooms: () => rooms.roomCount,
      viewers: () => rooms.origins().reduce((n, r) => n + r.viewers, 0),
      webhooksQueued: () => webhooks?.queued ?? 0,
      uploadsPending: () => recordings.pendingUploads,
      media: () => mediaStats.sample,
      workerCpuSeconds: () => pool.cpuSeconds(),
      recorderStates: () => recordings.recorderStates(),
      participants: () => rooms.participantCount,
      connections: () => io.engine.clientsCount,
      workersAlive: () => pool.aliveCount,
      peersPerWorker: () => rooms.peersPerWorker(),
      workerPids: () => new Map(pool.workers().map((w) => [w.index, w.worker.pid])),
      recorderProcesses: () => recordings.recorderProcesses(),
      roomMessages: () => rooms.roomMessages(),
      connectionsRefused: () => guard.refused(),
      pipedOut: () => edges?.pipedProducers() ?? new Map(),
      pipedIn: () => rooms.receivedProducers(),
      pipeBytesOut: async () => edges?.pipeBytesSent() ?? new Map(),
    });
    pool.on('workerDied', () => metrics.workerDied());
    cluster.on('redisFailed', () => metrics.redisFailed());
    cluster.on('originTakenOver', () => metrics.originTakenOver());
    pool.on('workerHung', () => metrics.workerHung());
    // Found before the metrics existed; counted now so a scrape shows it.
    if (recordings.unavailable) metrics.recorderFailed(recordings.unavailable.reason);
    const ops = config.ops.port === undefined ? undefined : createServer();
    const server = new OnstageServer(http, ops, io, pool, rooms, recordings, cluster, logger, webhooks, mediaStats);
    const endpointDeps = { rooms, tokenSecret: config.auth.secret, logger: logger.child({ component: 'webrtc-http' }), iceServerLinks: config.ingest.iceServerLinks };
    const httpSessions = { whip: webrtcHttpEndpoint('whip', endpointDeps), whep: webrtcHttpEndpoint('whep', endpointDeps) };
    const routerRtpCapabilities = await nodeRtpCapabilities(pool);
    const httpDeps: HttpDeps = {
      assets,
      metrics,
      logger: logger.child({ component: 'http' }),
      devTokenSecret: config.auth.devTokens ? config.auth.secret : undefined,
      notReadyReason: () => server.#notReadyReason(),
      serveMetrics: ops === undefined,
      metricsToken: config.ops.metricsToken,
      media: {
        recordings,
        isLive: (room) => rooms.isLive(room),
        servesLocally: (room) => rooms.isOrigin(room) || recordings.hlsOf(room) !== undefined,
        tokenSecret: config.auth.secret,
        access: config.recorder.access,
        elsewhere: recordingsElsewhere(() => cluster.peers()),
        ingestOf: (room) => server.#rtmp?.ingestOf(room)?.status() ?? httpSessions.whip.ingestOf(room),
      },
      cluster: async () => ({ mode: cluster.mode, nodeId: cluster.nodeId, nodes: await cluster.nodes() }),
      originElsewhere: async (room) => (await cluster.remoteOriginOf(room))?.linkUrl,
      rtmpPort: () => server.rtmpPort,
      mediaCapabilities: { routerRtpCapabilities },
      webrtcHttp: httpSessions,
      serverApi: {
        credentials: config.serverApi,
        nodeId: cluster.nodeId,
        origins: () => rooms.origins(),
        originIfOpen: (room) => rooms.originIfOpen(room),
        originElsewhere: async (room) => (await cluster.remoteOriginOf(room))?.linkUrl,
        peers: () => cluster.peers(),
        recordings: recordings.store,
        deleteRecording: (recording) => recordings.delete(recording),
        drain: (timeoutMs) => {
          void server.drain(timeoutMs ?? (config.drain.timeoutMs || DEFAULT_API_DRAIN_MS));
          return { draining: true, since: server.#drain!.since };
        },
      },
    };
    http.on('request', createHttpHandler(httpDeps));
    ops?.on('request', createOpsHandler(httpDeps));
    const signallingLogger = logger.child({ component: 'signalling' });
    const sessionDeps = {
      rooms,
      metrics,
      logger: signallingLogger,
      tokenSecret: config.auth.secret,
      // Newcomers are never sent to a node that is draining.
      peers: () => cluster.peers().filter((n) => !n.draining),
      maxParticipants: config.cluster.maxParticipants,
      routerRtpCapabilities,
      draining: () => server.draining,
    };
    io.on('connection', (socket) => new SignallingSession(socket, sessionDeps));

    try {
      await listen(http, config.http.port, config.http.host);
      if (ops) await listen(ops, config.ops.port!, config.ops.host);
      const linkUrl = `http://${isIP(clusterAddress) === 6 ? `[${clusterAddress}]` : clusterAddress}:${(http.address() as AddressInfo).port}`;
      // Fixed now: the heartbeat may run once more while the node closes its listener.
      const publicUrl = config.cluster.publicUrl ?? server.url;
      await cluster.start(() => ({
        url: publicUrl,
        linkUrl,
        address: pipeIp,
        workers: pool.aliveCount,
        participants: rooms.participantCount,
        rooms: rooms.roomIds('origin'),
        edgeRooms: rooms.roomIds('edge'),
        ...(server.draining ? { draining: true } : {}),
      }));
      server.#rtmp = await startRtmp(config, rooms, logger.child({ component: 'rtmp' }));
    } catch (err) {
      io.close();
      ops?.close();
      pool.close();
      await cluster.close();
      throw err;
    }
    logger.info(
      {
        url: server.url,
        workers: pool.size,
        announcedAddress: config.rtc.announcedAddress,
        node: nodeId,
        cluster: cluster.mode,
        ...(server.opsUrl ? { opsUrl: server.opsUrl } : {}),
        ...(server.rtmpUrl ? { rtmpUrl: server.rtmpUrl } : {}),
      },
      'Onstage is up',
    );
    return server;
  }

  /** The socket.io server, for operators' tooling and fault-injection tests. */
  get io(): SocketServer {
    return this.#io;
  }

  get url(): string {
    return urlOf(this.#http);
  }

  /** This node's rooms, for the benchmarks' synthetic participants (server/src/loadtest). */
  get rooms(): RoomRegistry {
    return this.#rooms;
  }

  /** Process ids of the live mediasoup workers (the benchmarks measure their CPU). */
  workerPids(): number[] {
    return this.#pool.workers().map((w) => w.worker.pid);
  }

  /** Where encoders publish over RTMP (rtmp://host:port/live), when RTMP is on. */
  get rtmpUrl(): string | undefined {
    return this.#rtmp?.url;
  }

  get rtmpPort(): number | undefined {
    return this.#rtmp?.port;
  }

  /** The operator's port (health, readiness, metrics), when OPS_PORT is set. */
  get opsUrl(): string | undefined {
    return this.#ops && urlOf(this.#ops);
  }

  /** Resolves once the node has stopped (close(), or the end of a drain). */
  get stopped(): Promise<void> {
    return this.#stopped.promise;
  }

  get draining(): boolean {
    return this.#drain !== undefined;
  }

  /**
   * Drains the node: readiness turns 503, no new rooms or viewers come here (newcomers are sent to
   * other nodes), its viewers are sent to other nodes now (the SDK reconnects them there; alone,
   * the node keeps them), and its shows go on until they end or `timeoutMs` passes; then it stops
   * as close() does. Resolves once stopped.
   */
  drain(timeoutMs: number): Promise<void> {
    if (!this.#drain) {
      this.#webhooks?.send({ event: 'node_draining', reason: 'drain' });
      this.#drain = { since: Date.now(), done: this.#drainThenClose(timeoutMs) };
    }
    return this.#drain.done;
  }

  async #drainThenClose(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.#logger.info({ timeoutMs }, 'draining: sending viewers to other nodes, waiting for shows to end');
    // Peers learn of the drain from the next heartbeat; then the viewers go, a batch at a time, so
    // the nodes that take them are not hit by all at once.
    await sleep(this.#cluster.mode === 'redis' ? DRAIN_NOTICE_MS : 0);
    if (this.#cluster.peers().some((n) => !n.draining)) {
      const viewers = [...this.#io.of('/').sockets.values()].filter((s) => this.#movable(s.data as SocketData));
      for (let i = 0; i < viewers.length; i += MOVE_BATCH) {
        for (const s of viewers.slice(i, i + MOVE_BATCH)) s.disconnect(true);
        await sleep(MOVE_BATCH_PAUSE_MS);
      }
      this.#logger.info({ viewers: viewers.length }, 'draining: viewers sent to other nodes');
    }
    while (Date.now() < deadline && !this.#closing && this.#rooms.origins().some((r) => r.state === 'live')) await sleep(500);
    this.#logger.info({ showsLeft: this.#rooms.origins().filter((r) => r.state === 'live').length }, 'drained; stopping');
    await this.close();
  }

  /** A viewer connected here and not on stage (hosts and co-hosts stay: their media enters here). */
  #movable(data: SocketData): boolean {
    if (data.claims?.role !== 'viewer') return false;
    const seats = this.#rooms.originIfOpen(data.claims.room)?.stageState().seats ?? [];
    return !seats.some((s) => s.participantId === data.participantId);
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (!this.#drain) this.#webhooks?.send({ event: 'node_draining', reason: 'shutting down' });
    // Shows end first, at once: the workers may be getting the same signal (a process group's SIGTERM).
    this.#pool.expectStop();
    this.#rooms.closeAll();
    const rtmp = this.#rtmp?.close();
    // Shows ended above; their recordings are finished before the workers go.
    await this.#recordings.closeAll();
    await Promise.all([rtmp, new Promise<void>((resolve) => this.#io.close(() => resolve()))]);
    this.#ops?.close();
    this.#mediaStats.close();
    this.#pool.close();
    await this.#cluster.close();
    // What the shutdown itself said (shows ended, recordings finished), if the receivers take it soon.
    await this.#webhooks?.close();
    this.#logger.info('Onstage stopped');
    this.#stopped.resolve();
  }

  #notReadyReason(): string | undefined {
    if (this.#closing) return 'shutting down';
    if (this.#drain) return 'draining';
    if (this.#pool.aliveCount === 0) return 'no mediasoup worker alive';
    return undefined;
  }
}

/** The RTMP listener, unless RTMP is off or there is no FFmpeg to turn its streams into RTP. */
async function startRtmp(config: Config, rooms: RoomRegistry, logger: Logger): Promise<RtmpListener | undefined> {
  const { rtmp } = config.ingest;
  if (!rtmp) return undefined;
  let ffmpegPath: string;
  try {
    ffmpegPath = resolveFfmpeg(config.recorder.ffmpegPath).ffmpeg;
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'RTMP ingest is off: no FFmpeg');
    return undefined;
  }
  return listenRtmp({ ...rtmp, rooms, tokenSecret: config.auth.secret, ffmpegPath, logger, maxConnections: 100 });
}

function listen(server: HttpServer, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function urlOf(server: HttpServer): string {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}
