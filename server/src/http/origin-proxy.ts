import type { IncomingMessage } from 'node:http';
import { RoomId } from '@onstage/protocol';
import { UnavailableError } from '../errors.ts';

/** Marks a request one node passes to another, so it is never passed on again (no loops). */
const PROXIED = 'x-onstage-proxied';
const TIMEOUT_MS = 5000;
/** How long a room's origin, once looked up, is believed (HLS players ask every second). */
const LOOKUP_CACHE_MS = 1000;
const PASSED_HEADERS = ['content-type', 'cache-control', 'access-control-allow-origin'] as const;

export type ProxiedReply = { status: number; body: Buffer; contentType: string; cacheControl?: string; headers: Record<string, string> };

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
  return async function viaOrigin(req: IncomingMessage, room: string, pathAndQuery: string): Promise<ProxiedReply | undefined> {
    if (req.headers[PROXIED] !== undefined || !RoomId.safeParse(room).success) return undefined;
    const origin = await lookup(room);
    if (!origin) return undefined;
    let res: Response;
    try {
      res = await fetch(`${origin}${pathAndQuery}`, {
        headers: { [PROXIED]: '1', ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw new UnavailableError(`the room's origin node did not answer (${(err as Error).message})`);
    }
    const headers: Record<string, string> = {};
    for (const name of PASSED_HEADERS) {
      const value = res.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    const { 'content-type': contentType = 'application/octet-stream', 'cache-control': cacheControl, ...rest } = headers;
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()), contentType, ...(cacheControl ? { cacheControl } : {}), headers: rest };
  };
}
