import type { Cluster } from '../cluster/cluster.ts';
import { LocalCluster } from '../cluster/local-cluster.ts';
import type { Config, RoomPolicy } from '../config.ts';
import { StateError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { RoomRouter, type RoomRouterOptions } from '../media/room-router.ts';
import type { WorkerPool } from '../media/worker-pool.ts';
import { Room } from './room.ts';
import { localChannels, type RoomChannels } from './room-channel.ts';

export type RoomRegistryOptions = {
  /** Which node is each room's origin; a cluster of one by default. */
  cluster?: Cluster;
  /** How room-wide events reach participants (socket.io rooms in the server); local by default. */
  channels?: RoomChannels;
  /** Sees every room as it opens (the recorder follows rooms this way). */
  onOpen?: (room: Room) => void;
};

/**
 * Owns every room of this node: creates a room on first join (claiming its origin in the
 * cluster), forgets it when it closes (releasing the claim). A room whose origin is another node
 * is refused with ROOM_ON_OTHER_NODE, naming that node's URL, until nodes can serve as edges.
 */
export class RoomRegistry {
  readonly #pool: WorkerPool;
  readonly #policy: RoomPolicy;
  readonly #routerOptions: RoomRouterOptions;
  readonly #logger: Logger;
  readonly #rooms = new Map<string, Room>();
  readonly #creating = new Map<string, Promise<Room>>();

  readonly #channels: RoomChannels;
  readonly #cluster: Cluster;
  readonly #onOpen: (room: Room) => void;

  constructor(pool: WorkerPool, config: Pick<Config, 'room' | 'rtc'>, logger: Logger, options: RoomRegistryOptions = {}) {
    this.#pool = pool;
    this.#channels = options.channels ?? localChannels();
    this.#cluster = options.cluster ?? new LocalCluster('local');
    // Another node may claim the room once this one cannot prove it holds it: stop serving it.
    this.#cluster.on('originLost', (id) => this.#rooms.get(id)?.close('media_failure'));
    this.#onOpen = options.onOpen ?? (() => {});
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

  /** Ids of the rooms open here. */
  roomIds(): string[] {
    return [...this.#rooms.keys()];
  }

  isLive(id: string): boolean {
    return this.#rooms.get(id)?.state === 'live';
  }

  /** The open room with this id, created if needed. Concurrent callers share one creation. */
  async open(id: string): Promise<Room> {
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
    for (const room of [...this.#rooms.values()]) room.close('server_shutdown');
  }

  async #create(id: string): Promise<Room> {
    const logger = this.#logger.child({ room: id });
    const claim = await this.#cluster.claimOrigin(id);
    if (!claim.mine) {
      const where = 'url' in claim.holder ? ` at ${claim.holder.url}` : '';
      throw new StateError('ROOM_ON_OTHER_NODE', `room ${id} is served by node ${claim.holder.nodeId}${where}; connect there`);
    }
    let router: RoomRouter;
    try {
      router = await RoomRouter.create(this.#pool, this.#routerOptions, logger);
    } catch (err) {
      await this.#cluster.releaseOrigin(id);
      throw err;
    }
    const room = new Room(id, router, this.#channels.open(id), this.#policy, logger);
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
}
