import type { Cluster, NodeInfo } from '../cluster/cluster.ts';
import { EdgeRoom } from '../cluster/edge-room.ts';
import { LocalCluster } from '../cluster/local-cluster.ts';
import { OriginLink } from '../cluster/origin-link.ts';
import type { Config, RoomPolicy } from '../config.ts';
import { StateError, UnavailableError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { PipeAddress } from '../media/node-pipe.ts';
import { RoomRouter, type RoomRouterOptions } from '../media/room-router.ts';
import type { WorkerPool } from '../media/worker-pool.ts';
import { Room } from './room.ts';
import { localChannels, withRelays, type RoomChannels } from './room-channel.ts';

/** A room as this node serves it: as its origin, or as an edge of another node's room. */
export type ServedRoom = Room | EdgeRoom;

export type RoomRegistryOptions = {
  /** Which node is each room's origin; a cluster of one by default. */
  cluster?: Cluster;
  /** How room-wide events reach participants (socket.io rooms in the server); local by default. */
  channels?: RoomChannels;
  /** Sees every room this node is the origin of as it opens (the recorder follows rooms this way). */
  onOpen?: (room: Room) => void;
  /** Where other nodes' pipes reach this node's media, and the secret nodes prove themselves with. */
  edges?: { pipeAddress: PipeAddress; secret: string };
  /** A link to an origin node dropped (counted in metrics). */
  onOriginLinkLost?: () => void;
  /** A new room opens on another node when that node's participants per worker are lower than this node's by more than this (default: never). */
  placementLoadGap?: number;
};

/**
 * Owns every room of this node: creates a room on first join, claiming its origin in the
 * cluster; forgets it when it closes (releasing the claim). A room whose origin is another node
 * is served here as an edge of it (`EdgeRoom`), over one link per origin node.
 */
export class RoomRegistry {
  readonly #pool: WorkerPool;
  readonly #policy: RoomPolicy;
  readonly #routerOptions: RoomRouterOptions;
  readonly #logger: Logger;
  readonly #rooms = new Map<string, ServedRoom>();
  readonly #creating = new Map<string, Promise<ServedRoom>>();
  readonly #links = new Map<string, OriginLink>();
  readonly #edges: RoomRegistryOptions['edges'];

  readonly #channels: RoomChannels;
  readonly #cluster: Cluster;
  readonly #onOpen: (room: Room) => void;
  readonly #onOriginLinkLost: () => void;
  readonly #placementLoadGap: number;

  constructor(pool: WorkerPool, config: Pick<Config, 'room' | 'rtc'>, logger: Logger, options: RoomRegistryOptions = {}) {
    this.#pool = pool;
    this.#channels = options.channels ?? localChannels();
    this.#cluster = options.cluster ?? new LocalCluster('local');
    // Another node may claim the room once this one cannot prove it holds it: stop serving it.
    this.#cluster.on('originLost', (id) => this.#rooms.get(id)?.close('media_failure'));
    this.#onOpen = options.onOpen ?? (() => {});
    this.#onOriginLinkLost = options.onOriginLinkLost ?? (() => {});
    this.#edges = options.edges;
    this.#placementLoadGap = options.placementLoadGap ?? Infinity;
    this.#policy = config.room;
    this.#routerOptions = { speakerThresholdDb: config.rtc.speakerThresholdDb, viewersPerRouter: config.rtc.viewersPerRouter };
    this.#logger = logger;
  }

  get roomCount(): number {
    return this.#rooms.size;
  }

  get participantCount(): number {
    let n = 0;
    for (const room of this.#rooms.values()) n += room.size;
    return n;
  }

  peersPerWorker(): Map<number, number> {
    const out = new Map<number, number>();
    for (const room of this.#rooms.values()) for (const [w, n] of room.placement()) out.set(w, (out.get(w) ?? 0) + n);
    return out;
  }

  roomMessages(): Map<string, number> {
    return new Map([...this.#rooms].map(([id, room]) => [id, room.messagesSent]));
  }

  /** Ids of the rooms open here: those this node is the origin of, and those it serves as an edge. */
  roomIds(kind: ServedRoom['kind']): string[] {
    return [...this.#rooms].filter(([, room]) => room.kind === kind).map(([id]) => id);
  }

  /** Pipe producers coming in from origin nodes, per room served here as an edge. */
  receivedProducers(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, room] of this.#rooms) if (room.kind === 'edge') out.set(id, room.receivedProducers);
    return out;
  }

  /** The open rooms this node is the origin of. */
  origins(): Room[] {
    return [...this.#rooms.values()].filter((r): r is Room => r.kind === 'origin' && r.state !== 'closed');
  }

  /** The open room with this id if this node is its origin (never opens one). */
  originIfOpen(id: string): Room | undefined {
    const room = this.#rooms.get(id);
    return room?.kind === 'origin' && room.state !== 'closed' ? room : undefined;
  }

  /** Whether this node is the origin of an open room with this id. */
  isOrigin(id: string): boolean {
    return this.#rooms.get(id)?.kind === 'origin';
  }

  isLive(id: string): boolean {
    const room = this.#rooms.get(id);
    return room?.kind === 'origin' && room.state === 'live';
  }

  /**
   * Where a room that is open nowhere yet should open, when that is not here: the least-loaded
   * node, if it carries fewer participants per worker than this one by more than the gap (the gap
   * keeps a room where its people came while the nodes are about even, and two nodes with slightly
   * different views of each other's load from sending a room back and forth). Rooms open
   * anywhere, here or on another node, stay where they are.
   */
  async placeElsewhere(id: string): Promise<NodeInfo | undefined> {
    if (this.#rooms.has(id) || this.#creating.has(id)) return undefined;
    const load = (participants: number, workers: number) => participants / Math.max(1, workers);
    const mine = load(this.participantCount, this.#pool.aliveCount);
    const [lightest] = this.#cluster
      .peers()
      .filter((n) => !n.draining && mine - load(n.participants, n.workers) > this.#placementLoadGap)
      .sort((x, y) => load(x.participants, x.workers) - load(y.participants, y.workers));
    if (!lightest) return undefined;
    // Open elsewhere already (this node serves it as an edge), or Redis cannot tell: the usual path decides.
    const origin = await this.#cluster.remoteOriginOf(id).catch(() => null);
    return origin === undefined ? lightest : undefined;
  }

  /** The open room this node is the origin of (opened if needed), or ROOM_ON_OTHER_NODE. */
  async originRoom(id: string): Promise<Room> {
    const room = await this.open(id);
    if (room.kind !== 'origin') throw new StateError('ROOM_ON_OTHER_NODE', `room ${id} has its origin on node ${room.originNodeId}`);
    return room;
  }

  /** The open room with this id, created if needed. Concurrent callers share one creation. */
  async open(id: string): Promise<ServedRoom> {
    const existing = this.#rooms.get(id);
    if (existing && existing.state !== 'closed') return existing;
    let creating = this.#creating.get(id);
    if (!creating) {
      creating = this.#create(id).finally(() => this.#creating.delete(id));
      this.#creating.set(id, creating);
    }
    return creating;
  }

  closeAll(): void {
    for (const room of [...this.#rooms.values()]) {
      if (room.kind === 'origin') room.close('server_shutdown');
      else room.close('the node is stopping');
    }
  }

  async #create(id: string): Promise<ServedRoom> {
    const logger = this.#logger.child({ room: id });
    const claim = await this.#cluster.claimOrigin(id).catch((err: unknown) => {
      throw new UnavailableError(`cannot open room ${id} now: the cluster cannot tell which node serves it (${(err as Error).message})`);
    });
    if (!claim.mine) return this.#createEdge(id, claim.holder, logger);
    let router: RoomRouter;
    try {
      router = await RoomRouter.create(this.#pool, this.#routerOptions, logger);
    } catch (err) {
      await this.#cluster.releaseOrigin(id);
      throw err;
    }
    const room = new Room(id, router, withRelays(this.#channels.open(id)), this.#policy, logger);
    this.#rooms.set(id, room);
    room.once('closed', () => {
      if (this.#rooms.get(id) !== room) return;
      this.#rooms.delete(id);
      void this.#cluster.releaseOrigin(id);
    });
    this.#onOpen(room);
    logger.info('room opened');
    return room;
  }

  async #createEdge(id: string, origin: NodeInfo | { nodeId: string }, logger: Logger): Promise<EdgeRoom> {
    if (!('url' in origin) || !this.#edges) throw new UnavailableError(`room ${id} has its origin on node ${origin.nodeId}, which this node cannot reach now`);
    // An origin that cannot be reached (it may have just died) gets no edge room here: the client
    // tries again, and once the dead node's heartbeat has expired a live node takes the room over.
    const link = this.#linkTo(origin);
    try {
      await link.ready();
    } catch (err) {
      this.#closeUnusedLinks();
      throw err;
    }
    const router = await RoomRouter.create(this.#pool, this.#routerOptions, logger);
    const room = new EdgeRoom(id, link, router, this.#channels.open(id), this.#edges.pipeAddress, logger.child({ origin: origin.nodeId }));
    this.#rooms.set(id, room);
    room.once('closed', () => {
      if (this.#rooms.get(id) === room) this.#rooms.delete(id);
      this.#closeUnusedLinks();
    });
    logger.info({ origin: origin.nodeId }, 'serving the room as an edge');
    return room;
  }

  /** The link to an origin node, shared by all its rooms served here. */
  #linkTo(origin: NodeInfo): OriginLink {
    const known = this.#links.get(origin.nodeId);
    if (known?.url === origin.url && known.linkUrl === origin.linkUrl) return known;
    known?.close();
    const link = new OriginLink(origin, { nodeId: this.#cluster.nodeId, secret: this.#edges!.secret }, this.#logger.child({ link: 'origin' }));
    link.on('lost', this.#onOriginLinkLost);
    this.#links.set(origin.nodeId, link);
    return link;
  }

  #closeUnusedLinks(): void {
    const used = new Set<string>();
    for (const room of this.#rooms.values()) if (room.kind === 'edge') used.add(room.originNodeId);
    for (const [nodeId, link] of this.#links) {
      if (used.has(nodeId)) continue;
      link.close();
      this.#links.delete(nodeId);
    }
  }
}
