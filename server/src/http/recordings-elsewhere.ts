import type { IncomingMessage } from 'node:http';
import { RecordingList, type Recording, type RecordingId } from '@onstage/protocol';
import type { NodeInfo } from '../cluster/cluster.ts';
import { askEveryNode, askNode, isForwarded } from './node-forward.ts';

/** A recording's node, once found, is remembered this long (a player asks again for every byte range). */
const HOLDER_CACHE_MS = 60_000;
const HOLDER_CACHE_SIZE = 10_000;

/** What other nodes of the cluster hold of recordings: asked when this node lacks one. */
export type RecordingsElsewhere = {
  /** The recordings every other node lists for this request, and the nodes that did not answer. */
  list(req: IncomingMessage, pathAndQuery: string): Promise<{ recordings: Recording[]; unanswered: string[] }>;
  /** The link URL of the node that has this recording, if one of the others does. */
  holderOf(req: IncomingMessage, id: RecordingId): Promise<string | undefined>;
  /** The holder could not be reached: ask the cluster again next time. */
  forget(id: RecordingId): void;
};

/**
 * Recordings stay on the disk of the node that recorded them (its origin at the time), and any
 * node answers for all of them by asking the others: lists are merged, and one recording's
 * requests are passed on to its holder, found by asking every other node once. No shared
 * storage is needed (object storage is the operator's choice, later), and nothing is copied
 * between nodes. Requests passed on by another node are answered from this node's disk alone.
 */
export function recordingsElsewhere(peers: () => readonly NodeInfo[]): RecordingsElsewhere {
  const holders = new Map<RecordingId, { url: string; at: number }>();

  return {
    async list(req, pathAndQuery) {
      if (isForwarded(req)) return { recordings: [], unanswered: [] };
      const { answers, unanswered } = await askEveryNode(req, peers(), pathAndQuery, RecordingList);
      return { recordings: answers.flatMap((a) => a.recordings), unanswered };
    },

    async holderOf(req, id) {
      if (isForwarded(req)) return undefined;
      const hit = holders.get(id);
      if (hit && performance.now() - hit.at < HOLDER_CACHE_MS) return hit.url;
      // Any answer but 404 means the node has it (it may still refuse this client: it says so itself).
      const probe = { method: 'GET', headers: req.headers };
      const found = await Promise.any(
        peers().map(async (node) => {
          const res = await askNode(probe, node.linkUrl, `/api/recordings/${id}`);
          await res.body?.cancel();
          if (res.status === 404) throw new Error('not there');
          return node.linkUrl;
        }),
      ).catch(() => undefined);
      if (found) {
        if (holders.size >= HOLDER_CACHE_SIZE) holders.clear();
        holders.set(id, { url: found, at: performance.now() });
      }
      return found;
    },

    forget(id) {
      holders.delete(id);
    },
  };
}
