import type { IncomingMessage } from 'node:http';
import { RoomId } from '@onstage/protocol';
import { askNode, isForwarded, type ForwardedReply } from './node-forward.ts';

/** How long a room's origin, once looked up, is believed (HLS players ask every second). */
const LOOKUP_CACHE_MS = 1000;

/**
 * HLS and live status are made on a room's origin node, where its recorder runs; any other node
 * passes those requests on to it, so a player can use whichever node it reached. `originElsewhere`
 * gives the origin's link URL when another node is the room's origin.
 */
export function originProxy(originElsewhere: (room: string) => Promise<string | undefined>) {
  const known = new Map<string, { url: string | undefined; at: number }>();
  const lookup = async (room: string): Promise<string | undefined> => {
    const hit = known.get(room);
    if (hit && performance.now() - hit.at < LOOKUP_CACHE_MS) return hit.url;
    const url = await originElsewhere(room).catch(() => undefined);
    if (known.size > 10_000) known.clear();
    known.set(room, { url, at: performance.now() });
    return url;
  };

  /** The origin's answer to this GET, or undefined when this node answers it itself. */
  return async function viaOrigin(req: IncomingMessage, room: string, pathAndQuery: string): Promise<ForwardedReply | undefined> {
    if (isForwarded(req) || !RoomId.safeParse(room).success) return undefined;
    const origin = await lookup(room);
    return origin ? { forwarded: await askNode(req, origin, pathAndQuery) } : undefined;
  };
}
