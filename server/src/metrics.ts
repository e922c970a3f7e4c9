import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MediaCount, MediaSample } from './media/media-stats.ts';

/** Sources the gauges read at scrape time. */
export type MetricsSources = {
  rooms(): number;
  viewers(): number;
  /** The node's media lately (media-stats.ts). */
  media(): MediaSample;
  /** Worker index → CPU seconds its process has used. */
  workerCpuSeconds(): Map<number, number>;
  /** Each show's recorder state. */
  recorderStates(): { room: string; state: string }[];
  webhooksQueued(): number;
  /** Finished recordings waiting to go to object storage. */
  uploadsPending(): number;
  participants(): number;
  connections(): number;
  workersAlive(): number;
  /** Participants' media per worker index, over all rooms. */
  peersPerWorker(): Map<number, number>;
  /** Worker index → process id of the live workers. */
  workerPids(): Map<number, number>;
  /** Room → process id of its recorder's FFmpeg. */
  recorderProcesses(): { room: string; process: 'mixer' | 'ffmpeg'; pid: number }[];
  /** Open room → server → client messages it has sent (each recipient counts). */
  roomMessages(): Map<string, number>;
  /** Connections closed on arrival, by the limit they hit (total, per_address). */
  connectionsRefused(): Map<string, number>;
  /** (origin) Producers sent down pipes, per edge node. */
  pipedOut(): Map<string, number>;
  /** (edge) Producers received through pipes, per room served as an edge. */
  pipedIn(): Map<string, number>;
  /** (origin) Bytes sent so far down the open pipes, per edge node. */
  pipeBytesOut(): Promise<Map<string, number>>;
};

/** Every Prometheus metric of the server, on its own registry (served at /metrics). */
export class Metrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'request' | 'result'>;
  readonly #requestSeconds: Histogram<'request'>;
  readonly #workerDeaths: Counter;
  readonly #workerHangs: Counter;
  readonly #recorderFailures: Counter<'reason'>;
  readonly #recordings: Counter<'status'>;
  readonly #webhooks: Counter<'result'>;
  readonly #uploads: Counter<'result'>;
  readonly #mediaCounts: Record<MediaCount, Counter>;
  readonly #connectSeconds: Histogram;
  readonly #redisFailures: Counter;
  readonly #takeovers: Counter;
  readonly #originsLost: Counter;
  readonly #sentAway: Counter;
  readonly #placedAway: Counter;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'onstage_' });
    this.#requests = new Counter({
      name: 'onstage_signalling_requests_total',
      help: 'Signalling requests by name and result (ok or error code)',
      labelNames: ['request', 'result'],
      registers,
    });
    this.#requestSeconds = new Histogram({
      name: 'onstage_signalling_request_duration_seconds',
      help: 'Time to answer a signalling request',
      labelNames: ['request'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.#workerDeaths = new Counter({
      name: 'onstage_mediasoup_worker_deaths_total',
      help: 'mediasoup workers that died unexpectedly',
      registers,
    });
    this.#workerHangs = new Counter({
      name: 'onstage_mediasoup_worker_hangs_total',
      help: 'mediasoup workers killed by the watchdog because they stopped answering (WORKER_WATCHDOG_MS)',
      registers,
    });
    this.#recorderFailures = new Counter({
      name: 'onstage_recorder_failures_total',
      help: 'Recorder failures by reason (ffmpeg_exited, mixer_exited, disk_full, no_ffmpeg, no_mixer, data_dir_unwritable)',
      labelNames: ['reason'],
      registers,
    });
    // A series per reason from the start (at 0): an increase over it reads 0, not "no data".
    for (const reason of ['ffmpeg_exited', 'mixer_exited', 'disk_full', 'no_ffmpeg', 'no_mixer', 'data_dir_unwritable']) this.#recorderFailures.inc({ reason }, 0);
    this.#recordings = new Counter({
      name: 'onstage_recordings_finished_total',
      help: 'Recordings finished, by status (ready, failed)',
      labelNames: ['status'],
      registers,
    });
    this.#webhooks = new Counter({
      name: 'onstage_webhook_deliveries_total',
      help: 'Webhook delivery attempts by result (delivered; failed: retried later; dropped: the queue for a receiver that stayed down overflowed)',
      labelNames: ['result'],
      registers,
    });
    // Every result has a series from the start (at 0), so a rate over it reads 0, not "no data".
    for (const result of ['delivered', 'failed', 'dropped']) this.#webhooks.inc({ result }, 0);
    new Gauge({
      name: 'onstage_webhook_queued',
      help: 'Webhook events waiting to be delivered',
      registers,
      collect() {
        this.set(sources.webhooksQueued());
      },
    });
    this.#mediaCounts = {
      nacks: new Counter({ name: 'onstage_media_nacks_total', help: 'NACKs (retransmission requests) the server sent to senders', registers }),
      plis: new Counter({ name: 'onstage_media_plis_total', help: 'PLIs (keyframe requests) the server sent to senders', registers }),
      packetsLost: new Counter({ name: 'onstage_media_packets_lost_total', help: 'RTP packets lost on their way from senders to the server', registers }),
    };
    this.#connectSeconds = new Histogram({
      name: 'onstage_transport_connect_seconds',
      help: "Time from a WebRTC transport's creation (at join, or when a client asks) to DTLS connected: a participant's media path coming up",
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10],
      registers,
    });
    const byDirection = (name: string, help: string, read: (m: MediaSample) => { in: number; out: number }) =>
      new Gauge({
        name,
        help,
        labelNames: ['direction'],
        registers,
        collect() {
          const value = read(sources.media());
          this.set({ direction: 'in' }, value.in);
          this.set({ direction: 'out' }, value.out);
        },
      });
    byDirection('onstage_media_bitrate_bps', 'Bits per second over all transports of this node, by direction (in: from senders, out: to receivers), sampled every 5 s', (m) => ({ in: m.bitrateIn, out: m.bitrateOut }));
    byDirection('onstage_media_packet_loss_ratio', 'Mean RTP packet loss over the transports that report it (0-1), by direction', (m) => ({ in: m.lossIn, out: m.lossOut }));
    new Gauge({
      name: 'onstage_media_rtt_seconds',
      help: 'Mean round-trip time to the senders that report one',
      registers,
      collect() {
        this.reset();
        const rtt = sources.media().rttSeconds;
        if (rtt !== undefined) this.set(rtt);
      },
    });
    new Gauge({
      name: 'onstage_worker_cpu_seconds',
      help: 'CPU seconds (user + system) each mediasoup worker process has used (starts again at 0 when a worker is replaced); rate() gives its load',
      labelNames: ['worker'],
      registers,
      collect() {
        this.reset();
        for (const [worker, seconds] of sources.workerCpuSeconds()) this.set({ worker: String(worker) }, seconds);
      },
    });
    new Gauge({
      name: 'onstage_recorder_state',
      help: "1 for each show's recorder, labelled with its state (starting, running, restarting, stopping, stopped)",
      labelNames: ['room', 'state'],
      registers,
      collect() {
        this.reset();
        for (const { room, state } of sources.recorderStates()) this.set({ room, state }, 1);
      },
    });
    this.#uploads = new Counter({
      name: 'onstage_recording_uploads_total',
      help: 'Recordings moved to object storage (uploaded), and upload attempts that failed (retried; the local copy stays)',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['uploaded', 'failed']) this.#uploads.inc({ result }, 0);
    new Gauge({
      name: 'onstage_recording_uploads_pending',
      help: 'Finished recordings waiting to go to object storage',
      registers,
      collect() {
        this.set(sources.uploadsPending());
      },
    });
    this.#redisFailures = new Counter({
      name: 'onstage_cluster_redis_failures_total',
      help: 'Cluster commands to Redis that failed (Redis unreachable); running rooms go on meanwhile',
      registers,
    });
    this.#takeovers = new Counter({
      name: 'onstage_cluster_origin_takeovers_total',
      help: 'Rooms this node took over as origin from a node that had stopped heartbeating',
      registers,
    });
    this.#sentAway = new Counter({
      name: 'onstage_cluster_joins_sent_away_total',
      help: 'Joins this node refused because it was full (NODE_MAX_PARTICIPANTS), most with a redirect to another node',
      registers,
    });
    this.#placedAway = new Counter({
      name: 'onstage_cluster_rooms_placed_away_total',
      help: 'New rooms this node sent to a less loaded node (PLACEMENT_LOAD_GAP) instead of opening them here',
      registers,
    });
    this.#originsLost = new Counter({
      name: 'onstage_cluster_origin_links_lost_total',
      help: "Times this node, serving rooms as an edge, lost its connection to their origin node (their participants here reconnect)",
      registers,
    });
    new Gauge({
      name: 'onstage_recorder_process_info',
      help: "One series per process of a running recorder (its stage mixer, its FFmpeg), labelled with its room and process id",
      labelNames: ['room', 'process', 'pid'],
      registers,
      collect() {
        this.reset();
        for (const { room, process, pid } of sources.recorderProcesses()) this.set({ room, process, pid: String(pid) }, 1);
      },
    });
    new Counter({
      name: 'onstage_room_messages_sent_total',
      help: 'Server-to-client messages each open room has sent (one per recipient); its rate is the room fan-out',
      labelNames: ['room'],
      registers,
      collect() {
        this.reset();
        for (const [room, n] of sources.roomMessages()) this.inc({ room }, n);
      },
    });
    new Counter({
      name: 'onstage_connections_refused_total',
      help: 'TCP connections closed by the server, by the limit they hit (total: MAX_CONNECTIONS, per_address: MAX_CONNECTIONS_PER_ADDRESS, on arrival; idle: no request within HTTP_HEADERS_TIMEOUT_MS)',
      labelNames: ['limit'],
      registers,
      collect() {
        this.reset();
        for (const [limit, n] of sources.connectionsRefused()) this.inc({ limit }, n);
      },
    });
    new Gauge({
      name: 'onstage_cluster_pipe_producers_out',
      help: "Producers this node sends to each edge node (one per producer and edge, whatever the edge's viewers)",
      labelNames: ['edge'],
      registers,
      collect() {
        this.reset();
        for (const [edge, n] of sources.pipedOut()) this.set({ edge }, n);
      },
    });
    new Counter({
      name: 'onstage_cluster_pipe_bytes_out_total',
      help: 'Bytes this node has sent down its open pipes to each edge node (RTP, RTX, RTCP); restarts from 0 when a pipe is reopened',
      labelNames: ['edge'],
      registers,
      async collect() {
        this.reset();
        for (const [edge, n] of await sources.pipeBytesOut()) this.inc({ edge }, n);
      },
    });
    new Gauge({
      name: 'onstage_cluster_pipe_producers_in',
      help: 'Producers this node receives from the origin node, per room it serves as an edge',
      labelNames: ['room'],
      registers,
      collect() {
        this.reset();
        for (const [room, n] of sources.pipedIn()) this.set({ room }, n);
      },
    });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers, collect() { this.set(read()); } });
    gauge('onstage_rooms', 'Open rooms', sources.rooms);
    gauge('onstage_participants', 'Participants in rooms', sources.participants);
    gauge('onstage_viewers', 'Viewers of the shows this node is the origin of (wherever they watch from)', sources.viewers);
    gauge('onstage_socket_connections', 'Connected signalling sockets', sources.connections);
    gauge('onstage_mediasoup_workers_alive', 'mediasoup workers alive', sources.workersAlive);
    new Gauge({
      name: 'onstage_mediasoup_worker_info',
      help: 'One series per live mediasoup worker, labelled with its index and process id',
      labelNames: ['worker', 'pid'],
      registers,
      collect() {
        this.reset();
        for (const [worker, pid] of sources.workerPids()) this.set({ worker: String(worker), pid: String(pid) }, 1);
      },
    });
    new Gauge({
      name: 'onstage_worker_peers',
      help: 'Participants whose media is on each mediasoup worker',
      labelNames: ['worker'],
      registers,
      collect() {
        this.reset();
        for (const [worker, n] of sources.peersPerWorker()) this.set({ worker: String(worker) }, n);
      },
    });
  }

  observeRequest(request: string, result: string, ms: number): void {
    this.#requests.inc({ request, result });
    this.#requestSeconds.observe({ request }, ms / 1000);
  }

  workerDied(): void {
    this.#workerDeaths.inc();
  }

  workerHung(): void {
    this.#workerHangs.inc();
  }

  recorderFailed(reason: string): void {
    this.#recorderFailures.inc({ reason });
  }

  redisFailed(): void {
    this.#redisFailures.inc();
  }

  originTakenOver(): void {
    this.#takeovers.inc();
  }

  sentAway(): void {
    this.#sentAway.inc();
  }

  placedAway(): void {
    this.#placedAway.inc();
  }

  originLinkLost(): void {
    this.#originsLost.inc();
  }

  recordingFinished(status: string): void {
    this.#recordings.inc({ status });
  }

  recordingUploaded(result: 'uploaded' | 'failed'): void {
    this.#uploads.inc({ result });
  }

  mediaCounted(kind: MediaCount, n: number): void {
    this.#mediaCounts[kind].inc(n);
  }

  transportConnected(seconds: number): void {
    this.#connectSeconds.observe(seconds);
  }

  webhookResult(result: 'delivered' | 'failed' | 'dropped'): void {
    this.#webhooks.inc({ result });
  }
}
