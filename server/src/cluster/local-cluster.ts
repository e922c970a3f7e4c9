import { EventEmitter } from 'node:events';
import type { Cluster, ClusterEvents, NodeInfo, NodeStatus, OriginClaim } from './cluster.ts';

/** A cluster of one: this node is every room's origin and the only node there is. */
export class LocalCluster extends EventEmitter<ClusterEvents> implements Cluster {
  readonly nodeId: string;
  readonly mode = 'single';
  readonly #startedAt = Date.now();
  #status: (() => NodeStatus) | undefined;
  #epoch = 0;

  constructor(nodeId: string) {
    super();
    this.nodeId = nodeId;
  }

  async start(status: () => NodeStatus): Promise<void> {
    this.#status = status;
  }

  async nodes(): Promise<NodeInfo[]> {
    if (!this.#status) return [];
    return [{ nodeId: this.nodeId, startedAt: this.#startedAt, heartbeatAt: Date.now(), ...this.#status() }];
  }

  peers(): readonly NodeInfo[] {
    return [];
  }

  async remoteOriginOf(): Promise<NodeInfo | undefined> {
    return undefined;
  }

  async claimOrigin(): Promise<OriginClaim> {
    return { mine: true, epoch: ++this.#epoch };
  }

  async releaseOrigin(): Promise<void> {}

  async close(): Promise<void> {
    this.#status = undefined;
  }
}
