/**
 * How a node takes part in a cluster. One node alone uses `LocalCluster` (nothing outside the
 * process); with REDIS_URL, `RedisCluster`. Both answer the same questions: which nodes are up,
 * and which node is the origin of a room (where its host's media enters and its state lives).
 */

/** What a node says of itself in every heartbeat. */
export type NodeStatus = {
  /** The HTTP(S) URL clients reach this node at. */
  url: string;
  /** The URL other nodes link to this node at (its signalling port, on its cluster address). */
  linkUrl: string;
  /** The IP address other nodes reach this node's media at (pipes between nodes). */
  address: string;
  workers: number;
  participants: number;
  /** Rooms this node is the origin of. */
  rooms: string[];
  /** Rooms of other origins this node serves viewers of. */
  edgeRooms: string[];
  /** The node is draining: no new rooms or viewers go there. */
  draining?: boolean;
};

export type NodeInfo = NodeStatus & {
  nodeId: string;
  startedAt: number;
  /** When this node last said it was alive (ms since the epoch). */
  heartbeatAt: number;
};

/**
 * A room's origin claim. `epoch` grows with every new holder of the room (a fencing token: an
 * older holder's writes can be told apart); `holder` is who has it when it is not this node.
 */
export type OriginClaim = { mine: true; epoch: number } | { mine: false; holder: NodeInfo | { nodeId: string } };

export type ClusterEvents = {
  /** This node can no longer prove it is the room's origin (its lease was not renewed in time). */
  originLost: [roomId: string];
  /** This node took a room over from `deadNode`, which held it and stopped heartbeating. */
  originTakenOver: [roomId: string, deadNode: string];
  /** A Redis command failed (Redis unreachable); the cluster retries by itself. */
  redisFailed: [];
};

export interface Cluster {
  readonly nodeId: string;
  readonly mode: 'single' | 'redis';
  /** Registers this node and heartbeats `status()` until close(). */
  start(status: () => NodeStatus): Promise<void>;
  /** Nodes that heartbeat recently, this one included. */
  nodes(): Promise<NodeInfo[]>;
  /** The other nodes as of this node's last heartbeat (no round trip): where clients may go on if this node dies or is full. */
  peers(): readonly NodeInfo[];
  /** The other live node that is the room's origin now, if there is one (a read; claims nothing). */
  remoteOriginOf(roomId: string): Promise<NodeInfo | undefined>;
  /** Becomes the room's origin unless another node is; renewed until released or lost. */
  claimOrigin(roomId: string): Promise<OriginClaim>;
  releaseOrigin(roomId: string): Promise<void>;
  on<E extends keyof ClusterEvents>(event: E, listener: (...args: ClusterEvents[E]) => void): this;
  /** Releases every claim and leaves the cluster. */
  close(): Promise<void>;
}
