import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { ConnectionLimits } from './http/connection-guard.ts';
import type { ChatOptions } from './rooms/chat.ts';
import type { StageOptions } from './rooms/stage.ts';

const Port = z.coerce.number().int().min(0).max(65535);
const Ms = z.coerce.number().int().min(0).max(24 * 3600 * 1000);
const Count = (max: number) => z.coerce.number().int().min(1).max(max);
const Bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const Ip = z.string().refine((s) => isIP(s) !== 0, 'must be an IPv4 or IPv6 address');

/** Environment variables the server reads (see .env.example). Unknown variables are ignored. */
const EnvSchema = z.object({
  HOST: Ip.default('127.0.0.1'),
  PORT: Port.default(3000),
  RTC_LISTEN_IP: Ip.optional(),
  ANNOUNCED_ADDRESS: z.string().min(1).optional(),
  RTC_PORT: Port.default(40000),
  SPEAKER_THRESHOLD_DB: z.coerce.number().int().min(-127).max(0).default(-80),
  VIEWERS_PER_ROUTER: Count(100_000).default(200),
  WORKERS: z.coerce.number().int().min(1).max(128).default(os.availableParallelism()),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MEDIASOUP_WORKER_BIN: z.string().min(1).optional(),
  WORKER_WATCHDOG_MS: z.coerce.number().int().min(1000).max(600_000).default(5_000),
  TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  DEV_TOKENS: Bool.optional(),
  GRACE_MS: Ms.default(30_000),
  MAX_CONNECTIONS: Count(1_000_000).default(10_000),
  MAX_CONNECTIONS_PER_ADDRESS: Count(1_000_000).default(200),
  HTTP_HEADERS_TIMEOUT_MS: Ms.default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: Ms.default(30_000),
  AUTH_TIMEOUT_MS: Ms.default(5_000),
  MEDIA_ACCESS: z.enum(['public', 'token']).default('public'),
  OPS_HOST: Ip.default('127.0.0.1'),
  OPS_PORT: Port.optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** The server API's credentials (HTTP Basic); both or neither. */
  API_KEY: z.string().regex(/^[A-Za-z0-9_-]{3,64}$/, '3-64 characters of A-Z a-z 0-9 _ -').optional(),
  API_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Finished recordings go to this S3-compatible bucket (and are served from it) when set. */
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name').optional(),
  /** An S3-compatible service's URL (MinIO, Ceph, …); without it, AWS S3 in S3_REGION. */
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  /** Without these, the AWS SDK's usual credential chain (environment, instance role, …). */
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Object keys start with this. */
  S3_PREFIX: z.string().regex(/^[A-Za-z0-9!_.*'()\/-]*$/, 'safe S3 key characters').default('recordings/'),
  /** Path-style URLs (bucket in the path): the default with S3_ENDPOINT, which most S3-compatible services need. */
  S3_FORCE_PATH_STYLE: Bool.optional(),
  /** How long a signed recording URL works. */
  S3_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(604_800).default(3600),
  /** How long a draining node waits for its shows to end before it ends them and stops (0: SIGTERM stops at once). */
  DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).max(86_400_000).default(0),
  /** Where webhook events go (comma-separated URLs), signed with WEBHOOK_SECRET. */
  WEBHOOK_URLS: z
    .string()
    .transform((s) => s.split(',').map((u) => u.trim()).filter(Boolean))
    .pipe(z.array(z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL')))
    .optional(),
  WEBHOOK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  HEARTBEAT_INTERVAL_MS: Ms.default(10_000),
  HEARTBEAT_TIMEOUT_MS: Ms.default(5_000),
  STAGE_MAX_SIZE: Count(16).default(4),
  STAGE_INVITE_TTL_MS: Ms.default(30_000),
  STAGE_MAX_PENDING: Count(1000).default(20),
  CHAT_MAX_LENGTH: Count(2000).default(300),
  CHAT_HISTORY: Count(1000).default(50),
  CHAT_BURST: Count(100).default(5),
  CHAT_PER_SECOND: z.coerce.number().positive().max(100).default(1),
  CHAT_ROOM_BURST: Count(10_000).default(40),
  CHAT_ROOM_PER_SECOND: z.coerce.number().positive().max(10_000).default(20),
  CHAT_DUPLICATE_WINDOW_MS: Ms.default(10_000),
  HLS: Bool.default(true),
  DATA_DIR: z.string().min(1).default('data'),
  FFMPEG_PATH: z.string().min(1).optional(),
  /** The Python that runs the stage mixer (it needs PyGObject and GStreamer, Debian's packages). */
  MIXER_PYTHON: z.string().min(1).optional(),
  HLS_SEGMENT_SECONDS: z.coerce.number().int().min(1).max(10).default(1),
  /**
   * Low-Latency HLS part (FFmpeg fragment) duration. At least 0.2 s: PART-TARGET is a part plus a
   * frame, and every part but a segment's last must be 85% of it (6 frames of 7 at 30 fps).
   */
  HLS_PART_SECONDS: z.coerce.number().min(0.2).max(1).default(0.2),
  HLS_LIST_SIZE: Count(100).default(6),
  HLS_RETAIN_MS: Ms.default(60_000),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  NODE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" and "-" only (at most 64)').optional(),
  PUBLIC_URL: z.string().url().optional(),
  NODE_MAX_PARTICIPANTS: z.coerce.number().int().min(1).max(1_000_000).optional(),
  PLACEMENT_LOAD_GAP: z.coerce.number().int().min(0).max(1_000_000).default(50),
  CLUSTER_ADDRESS: z.string().regex(/^[A-Za-z0-9.:_-]{1,253}$/, 'a host name or an IP address').optional(),
  CLUSTER_HEARTBEAT_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
  CLUSTER_NODE_TTL_MS: z.coerce.number().int().min(300).max(300_000).default(3000),
  ORIGIN_LEASE_MS: z.coerce.number().int().min(1000).max(300_000).default(10_000),
  RTMP: Bool.default(true),
  RTMP_HOST: Ip.optional(),
  RTMP_PORT: Port.default(1935),
  ICE_SERVERS: z
    .string()
    .transform((s) => s.split(',').map((u) => u.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^(stun|turns?):[^\s<>",;]{1,256}$/, 'comma-separated stun:, turn: or turns: URLs')).max(8))
    .default([]),
  ICE_SERVER_USERNAME: z.string().regex(/^[^"\s]{1,128}$/).optional(),
  ICE_SERVER_CREDENTIAL: z.string().regex(/^[^"\s]{1,256}$/).optional(),
});

/** Every variable the server reads (deployment files are checked against this list). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

/** An S3-compatible bucket for finished recordings. */
export type ObjectStorageConfig = {
  bucket: string;
  region: string;
  endpoint: string | undefined;
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  prefix: string;
  forcePathStyle: boolean;
  urlTtlSeconds: number;
};

export type Config = {
  http: { host: string; port: number; limits: ConnectionLimits };
  rtc: {
    listenIp: string;
    announcedAddress: string;
    /** First WebRtcServer port; worker i listens on basePort + i (UDP and TCP). 0 = any free port. */
    basePort: number;
    /** Audio quieter than this (dBov) is silence for active-speaker detection. */
    speakerThresholdDb: number;
    /** Viewers one router takes before a room spreads to routers on other workers. */
    viewersPerRouter: number;
  };
  workers: number;
  workerBin: string | undefined;
  /** A worker that does not answer for this long is killed and replaced. */
  workerWatchdogMs: number;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  auth: {
    secret: string;
    /** True when no TOKEN_SECRET was set and a random one was made for this run. */
    secretGenerated: boolean;
    /** Serve POST /api/dev/token, which signs any token: for development only. */
    devTokens: boolean;
  };
  /** A dead client is noticed within intervalMs + timeoutMs. */
  heartbeat: { intervalMs: number; timeoutMs: number };
  /** A signalling connection that has not authenticated by then is closed. */
  authTimeoutMs: number;
  /**
   * The operator's port: /healthz, /readyz and /metrics outside the public connection limits; when
   * set, /metrics is served there only. `metricsToken` protects /metrics wherever it is served.
   */
  ops: { host: string; port: number | undefined; metricsToken: string | undefined };
  /** The operator's server API (/api/server/…): off without credentials. */
  serverApi: { key: string; secret: string } | undefined;
  /**
   * Drain (POST /api/server/drain, or SIGTERM when `timeoutMs` > 0): the node takes nothing new,
   * sends its viewers to other nodes, and stops once its shows have ended or after `timeoutMs`.
   */
  drain: { timeoutMs: number };
  /** Webhook events (room, participants, stage, tracks, recordings, drain): off without URLs. */
  webhooks: { urls: string[]; secret: string } | undefined;
  room: RoomPolicy;
  /**
   * Without a Redis URL the node is a cluster of one (nothing changes for users). `publicUrl` is
   * what clients and other nodes are told to reach this node at (default: its listening address).
   */
  cluster: {
    redisUrl: string | undefined;
    nodeId: string;
    publicUrl: string | undefined;
    /** Where other nodes reach this one (its PORT for links, its media for pipes); the announced address by default. */
    address: string;
    /** Participants this node takes before it sends newcomers to another node (none: no limit). */
    maxParticipants: number | undefined;
    /** A new room opens on a node carrying fewer participants per worker than this one by more than this. */
    placementLoadGap: number;
    heartbeatMs: number;
    nodeTtlMs: number;
    originLeaseMs: number;
  };
  ingest: {
    /** WHIP: `Link` header values announcing STUN/TURN servers (RFC 9725 section 4.4). */
    iceServerLinks: string[];
    /** The RTMP listener (port 0: any free port), or undefined when RTMP is off. */
    rtmp: { host: string; port: number } | undefined;
  };
  recorder: {
    /** HLS ladder + recording of every show. */
    enabled: boolean;
    /** Absolute; recordings in recordings/ (live HLS is served from memory). */
    dataDir: string;
    ffmpegPath: string | undefined;
    mixerPython: string | undefined;
    segmentSeconds: number;
    partSeconds: number;
    listSize: number;
    /** How long a finished show's live HLS (with ENDLIST) stays served. */
    retainMs: number;
    /** 'token': recordings and live status need an access token of their room. */
    access: 'public' | 'token';
    /** Finished recordings are uploaded here and served from here (local copies removed). */
    objectStorage: ObjectStorageConfig | undefined;
  };
};

/** The rules every room runs by. */
export type RoomPolicy = {
  /** How long a dropped participant (the host included) keeps their place. */
  graceMs: number;
  stage: Omit<StageOptions, 'now'>;
  chat: Omit<ChatOptions, 'now'>;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}=${JSON.stringify(env[String(i.path[0])])}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const listenIp = e.RTC_LISTEN_IP ?? e.HOST;
  const announcedAddress = e.ANNOUNCED_ADDRESS ?? (WILDCARDS.has(listenIp) ? undefined : listenIp);
  if (announcedAddress === undefined) {
    throw new ConfigError(
      `invalid configuration:\n  ANNOUNCED_ADDRESS is required when media listens on ${listenIp}: ` +
        'set it to the IP (or hostname) that browsers can reach, e.g. your LAN or public IP',
    );
  }
  if ((e.API_KEY === undefined) !== (e.API_SECRET === undefined)) {
    throw new ConfigError('invalid configuration:\n  API_KEY and API_SECRET go together: set both (the server API) or neither');
  }
  if ((e.S3_ACCESS_KEY_ID === undefined) !== (e.S3_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError('invalid configuration:\n  S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both, or neither (the AWS credential chain)');
  }
  if (e.WEBHOOK_URLS?.length && !e.WEBHOOK_SECRET) {
    throw new ConfigError('invalid configuration:\n  WEBHOOK_SECRET is required with WEBHOOK_URLS (every event is signed with it)');
  }
  if (e.RTC_PORT > 0 && e.RTC_PORT + e.WORKERS - 1 > 65535) {
    throw new ConfigError(`invalid configuration:\n  RTC_PORT=${e.RTC_PORT} leaves no room for ${e.WORKERS} workers`);
  }
  return {
    http: {
      host: e.HOST,
      port: e.PORT,
      limits: {
        maxConnections: e.MAX_CONNECTIONS,
        maxPerAddress: e.MAX_CONNECTIONS_PER_ADDRESS,
        headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
        requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      },
    },
    rtc: { listenIp, announcedAddress, basePort: e.RTC_PORT, speakerThresholdDb: e.SPEAKER_THRESHOLD_DB, viewersPerRouter: e.VIEWERS_PER_ROUTER },
    workers: e.WORKERS,
    workerBin: e.MEDIASOUP_WORKER_BIN,
    workerWatchdogMs: e.WORKER_WATCHDOG_MS,
    logLevel: e.LOG_LEVEL,
    auth: {
      secret: e.TOKEN_SECRET ?? randomBytes(32).toString('base64url'),
      secretGenerated: e.TOKEN_SECRET === undefined,
      devTokens: e.DEV_TOKENS ?? e.TOKEN_SECRET === undefined,
    },
    heartbeat: { intervalMs: e.HEARTBEAT_INTERVAL_MS, timeoutMs: e.HEARTBEAT_TIMEOUT_MS },
    authTimeoutMs: e.AUTH_TIMEOUT_MS,
    ops: { host: e.OPS_HOST, port: e.OPS_PORT, metricsToken: e.METRICS_TOKEN },
    serverApi: e.API_KEY && e.API_SECRET ? { key: e.API_KEY, secret: e.API_SECRET } : undefined,
    drain: { timeoutMs: e.DRAIN_TIMEOUT_MS },
    webhooks: e.WEBHOOK_URLS?.length && e.WEBHOOK_SECRET ? { urls: e.WEBHOOK_URLS, secret: e.WEBHOOK_SECRET } : undefined,
    cluster: {
      redisUrl: e.REDIS_URL,
      nodeId: e.NODE_ID ?? `${os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40)}-${randomBytes(3).toString('hex')}`,
      publicUrl: e.PUBLIC_URL,
      address: e.CLUSTER_ADDRESS ?? announcedAddress,
      maxParticipants: e.NODE_MAX_PARTICIPANTS,
      placementLoadGap: e.PLACEMENT_LOAD_GAP,
      heartbeatMs: e.CLUSTER_HEARTBEAT_MS,
      nodeTtlMs: e.CLUSTER_NODE_TTL_MS,
      originLeaseMs: e.ORIGIN_LEASE_MS,
    },
    ingest: {
      rtmp: e.RTMP ? { host: e.RTMP_HOST ?? e.HOST, port: e.RTMP_PORT } : undefined,
      iceServerLinks: e.ICE_SERVERS.map((url) => {
        const credentials = url.startsWith('turn') && e.ICE_SERVER_USERNAME && e.ICE_SERVER_CREDENTIAL;
        return `<${url}>; rel="ice-server"${credentials ? `; username="${e.ICE_SERVER_USERNAME}"; credential="${e.ICE_SERVER_CREDENTIAL}"; credential-type="password"` : ''}`;
      }),
    },
    recorder: {
      enabled: e.HLS,
      dataDir: resolve(e.DATA_DIR),
      ffmpegPath: e.FFMPEG_PATH,
      mixerPython: e.MIXER_PYTHON,
      segmentSeconds: e.HLS_SEGMENT_SECONDS,
      partSeconds: e.HLS_PART_SECONDS,
      listSize: e.HLS_LIST_SIZE,
      retainMs: e.HLS_RETAIN_MS,
      access: e.MEDIA_ACCESS,
      objectStorage: e.S3_BUCKET
        ? {
            bucket: e.S3_BUCKET,
            region: e.S3_REGION,
            endpoint: e.S3_ENDPOINT,
            credentials: e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY ? { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY } : undefined,
            prefix: e.S3_PREFIX,
            forcePathStyle: e.S3_FORCE_PATH_STYLE ?? e.S3_ENDPOINT !== undefined,
            urlTtlSeconds: e.S3_URL_TTL_SECONDS,
          }
        : undefined,
    },
    room: {
      graceMs: e.GRACE_MS,
      stage: { maxSize: e.STAGE_MAX_SIZE, ttlMs: e.STAGE_INVITE_TTL_MS, maxPending: e.STAGE_MAX_PENDING },
      chat: {
        maxLength: e.CHAT_MAX_LENGTH,
        historySize: e.CHAT_HISTORY,
        burst: e.CHAT_BURST,
        perSecond: e.CHAT_PER_SECOND,
        roomBurst: e.CHAT_ROOM_BURST,
        roomPerSecond: e.CHAT_ROOM_PER_SECOND,
        duplicateWindowMs: e.CHAT_DUPLICATE_WINDOW_MS,
      },
    },
  };
}
