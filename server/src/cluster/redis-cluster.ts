import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { Cluster, ClusterEvents, NodeInfo, NodeStatus, OriginClaim } from './cluster.ts';

export type RedisClusterOptions = {
  url: string;
  nodeId: string;
  /** How often this node heartbeats; a node silent for `nodeTtlMs` is gone. */
  heartbeatMs: number;
  nodeTtlMs: number;
  /** An origin claim lasts this long unless renewed (renewed every third of it). */
  originLeaseMs: number;
};

const NODES = 'onstage:nodes';
const NODE_KEY_PREFIX = 'onstage:node:';
const nodeKey = (id: string) => `${NODE_KEY_PREFIX}${id}`;
const originKey = (room: string) => `onstage:origin:${room}`;
const epochKey = (room: string) => `onstage:epoch:${room}`;
/** A room's epoch counter outlives its leases (so epochs only grow) but not for ever. */
const EPOCH_KEEP_MS = 7 * 24 * 3600 * 1000;

// The lease's value is "<nodeId> <epoch>". Each script is atomic in Redis. A lease whose holder
// has stopped heartbeating (its node key expired) is taken over at once, with a new epoch: the
// room's show goes on on the claiming node instead of waiting for the dead node's lease to run out.
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if v then
  local holder, epoch = string.match(v, '^(.*) (%d+)$')
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, tonumber(epoch)}
  end
  if redis.call('EXISTS', ARGV[4] .. holder) == 1 then return {0, holder} end
end
local epoch = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. epoch, 'PX', ARGV[2])
if v then return {1, epoch, string.match(v, '^(.*) %d+$')} end
return {1, epoch}`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type Lease = { epoch: number };

/** Longest wait between reconnect attempts to Redis. */
const MAX_RECONNECT_DELAY_MS = 2000;
/**
 * After Redis comes back (perhaps restarted empty), nodes re-assert the rooms they hold at once;
 * new claims wait this long, so every node has reconnected (at most MAX_RECONNECT_DELAY_MS) and
 * re-asserted its rooms before another node could take one of them.
 */
const RECOVERY_MS = 2 * MAX_RECONNECT_DELAY_MS;

/**
 * Cluster membership and room origins in Redis. Nodes heartbeat a key with a TTL (and a sorted
 * set of heartbeat times, for listing). A room's origin is a lease, claimed atomically with a
 * fencing epoch and renewed every third of its length. A node that learns another node holds one
 * of its rooms stops serving it (`originLost`); while Redis is unreachable nobody can claim a room,
 * and the rooms already running go on.
 */
export class RedisCluster extends EventEmitter<ClusterEvents> implements Cluster {
  readonly nodeId: string;
  readonly mode = 'redis';
  readonly #options: RedisClusterOptions;
  readonly #logger: Logger;
  readonly #redis: Redis;
  readonly #startedAt = Date.now();
  readonly #leases = new Map<string, Lease>();
  #status: (() => NodeStatus) | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #renewal: NodeJS.Timeout | undefined;
  #lastWarning = 0;
  #peers: NodeInfo[] = [];
  #wasDown = false;
  #recoveringUntil = 0;

  private constructor(redis: Redis, options: RedisClusterOptions, logger: Logger) {
    super();
    this.nodeId = options.nodeId;
    this.#redis = redis;
    this.#options = options;
    this.#logger = logger;
    redis.on('close', () => (this.#wasDown = true));
    redis.on('ready', () => {
      if (!this.#wasDown) return;
      this.#wasDown = false;
      this.#recoveringUntil = Date.now() + RECOVERY_MS;
      this.#logger.info({ rooms: this.#leases.size }, 'Redis is back; re-asserting this node and its rooms');
      void this.#beat().catch((err: unknown) => this.#warn(err, 'heartbeat failed'));
      void this.#renewAll();
    });
  }

  /** Connects to Redis (fails if it cannot); the node joins the cluster with start(). */
  static async connect(options: RedisClusterOptions, logger: Logger): Promise<RedisCluster> {
    const redis = new Redis(options.url, {
      lazyConnect: true,
      // Fail fast while Redis is away instead of queueing: the caller decides what to do.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 200, MAX_RECONNECT_DELAY_MS),
    });
    redis.on('error', () => {}); // reported by the failing commands, rate-limited
    try {
      await redis.connect();
    } catch (err) {
      redis.disconnect();
      throw new Error(`cannot reach Redis at ${options.url}: ${(err as Error).message}`, { cause: err });
    }
    return new RedisCluster(redis, options, logger);
  }

  async start(status: () => NodeStatus): Promise<void> {
    this.#status = status;
    await this.#beat();
    this.#heartbeat = setInterval(() => void this.#beat().catch((err: unknown) => this.#warn(err, 'heartbeat failed')), this.#options.heartbeatMs).unref();
    this.#renewal = setInterval(() => void this.#renewAll(), this.#options.originLeaseMs / 3).unref();
  }

  async nodes(): Promise<NodeInfo[]> {
    const ids = await this.#redis.zrangebyscore(NODES, Date.now() - this.#options.nodeTtlMs, '+inf');
    if (ids.length === 0) return [];
    const values = await this.#redis.mget(ids.map(nodeKey));
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as NodeInfo);
  }

  peers(): readonly NodeInfo[] {
    return this.#peers;
  }

  async remoteOriginOf(roomId: string): Promise<NodeInfo | undefined> {
    const lease = await this.#redis.get(originKey(roomId));
    const holder = lease ? /^(.*) \d+$/.exec(lease)?.[1] : undefined;
    return holder === undefined ? undefined : this.#peers.find((n) => n.nodeId === holder);
  }

  async claimOrigin(roomId: string): Promise<OriginClaim> {
    if (!this.#leases.has(roomId) && Date.now() < this.#recoveringUntil) {
      throw new Error('Redis just came back; new rooms wait a moment while nodes re-assert theirs');
    }
    const [mine, value, deadHolder] = (await this.#redis.eval(CLAIM, 2, originKey(roomId), epochKey(roomId), this.nodeId, this.#options.originLeaseMs, EPOCH_KEEP_MS, NODE_KEY_PREFIX).catch((err: unknown) => {
      this.#warn(err, 'cannot claim a room origin (Redis unreachable)');
      throw err;
    })) as [number, number | string, string?];
    if (mine === 1) {
      if (deadHolder !== undefined) {
        this.#logger.warn({ room: roomId, epoch: Number(value), deadHolder }, 'took the room over from a node that stopped heartbeating');
        this.emit('originTakenOver', roomId, deadHolder);
      }
      this.#leases.set(roomId, { epoch: Number(value) });
      return { mine: true, epoch: Number(value) };
    }
    const holder = String(value);
    const info = (await this.nodes()).find((n) => n.nodeId === holder);
    return { mine: false, holder: info ?? { nodeId: holder } };
  }

  async releaseOrigin(roomId: string): Promise<void> {
    const lease = this.#leases.get(roomId);
    if (!lease) return;
    this.#leases.delete(roomId);
    await this.#redis.eval(RELEASE, 1, originKey(roomId), `${this.nodeId} ${lease.epoch}`).catch((err: unknown) => this.#warn(err, 'cannot release a room origin (it expires by itself)'));
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    clearInterval(this.#renewal);
    await Promise.all([...this.#leases.keys()].map((room) => this.releaseOrigin(room)));
    await this.#redis.multi().del(nodeKey(this.nodeId)).zrem(NODES, this.nodeId).exec().catch(() => undefined);
    this.#redis.disconnect();
  }

  async #beat(): Promise<void> {
    if (!this.#status) return;
    const now = Date.now();
    const info: NodeInfo = { nodeId: this.nodeId, startedAt: this.#startedAt, heartbeatAt: now, ...this.#status() };
    await this.#redis
      .multi()
      .set(nodeKey(this.nodeId), JSON.stringify(info), 'PX', this.#options.nodeTtlMs)
      .zadd(NODES, now, this.nodeId)
      .zremrangebyscore(NODES, '-inf', now - 10 * this.#options.nodeTtlMs)
      .exec();
    this.#peers = (await this.nodes()).filter((n) => n.nodeId !== this.nodeId);
  }

  /**
   * Renews every lease. Redis saying another node holds it (or cannot be given it back, after a
   * Redis restart) ends it here. Redis unreachable does not: no node can claim the room meanwhile,
   * so running shows go on, and the lease is renewed (or claimed again) once Redis answers. The
   * price, written down: a node cut off from Redis while other nodes still reach it keeps serving
   * its rooms until it hears back, though another node may have claimed them after the lease ran out.
   */
  async #renewAll(): Promise<void> {
    const { originLeaseMs } = this.#options;
    await Promise.all(
      [...this.#leases].map(async ([roomId, lease]) => {
        try {
          const renewed = await this.#redis.eval(RENEW, 1, originKey(roomId), `${this.nodeId} ${lease.epoch}`, originLeaseMs);
          // Gone (Redis restarted empty, or the lease ran out while Redis was away): claim it again,
          // with a new epoch, unless another node did.
          if (renewed !== 1 && (await this.claimOrigin(roomId)).mine === false) this.#lose(roomId, lease, 'another node holds the lease');
        } catch (err) {
          this.#warn(err, 'cannot renew a room origin lease (Redis unreachable); the room goes on');
        }
      }),
    );
  }

  #lose(roomId: string, lease: Lease, why: string): void {
    if (this.#leases.get(roomId) !== lease) return;
    this.#leases.delete(roomId);
    this.#logger.error({ room: roomId, epoch: lease.epoch, why }, 'no longer the origin of this room');
    this.emit('originLost', roomId);
  }

  #warn(err: unknown, what: string): void {
    this.emit('redisFailed');
    if (Date.now() - this.#lastWarning < 10_000) return;
    this.#lastWarning = Date.now();
    this.#logger.warn({ err: (err as Error).message }, what);
  }
}
