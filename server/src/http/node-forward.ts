import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { z } from 'zod';
import type { NodeInfo } from '../cluster/cluster.ts';
import { UnavailableError } from '../errors.ts';

/** Marks a request one node passes to another, so it is never passed on again (no loops). */
const FORWARDED = 'x-onstage-proxied';
/** How long another node may take to start answering (its body may then stream for as long as it needs). */
const HEADERS_TIMEOUT_MS = 5000;
const PASSED_REQUEST_HEADERS = ['authorization', 'range', 'content-type'] as const;
const PASSED_REPLY_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'accept-ranges',
  'cache-control',
  'content-disposition',
  'last-modified',
  'access-control-allow-origin',
] as const;

/** Another node's answer to a request, streamed on to the client as it comes. */
export type ForwardedReply = { forwarded: Response };

/** Whether this request was passed on by another node (it must then be answered here). */
export function isForwarded(req: IncomingMessage): boolean {
  return req.headers[FORWARDED] !== undefined;
}

/**
 * Asks another node (its link URL) the same request: method, credentials, byte range and the body
 * (already read, if any) go with it. A node that does not start answering within 5 s is UNAVAILABLE.
 */
export async function askNode(req: Pick<IncomingMessage, 'method' | 'headers'>, nodeUrl: string, pathAndQuery: string, body?: Buffer): Promise<Response> {
  const headers: Record<string, string> = { [FORWARDED]: '1' };
  for (const name of PASSED_REQUEST_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`no answer within ${HEADERS_TIMEOUT_MS} ms`)), HEADERS_TIMEOUT_MS);
  try {
    return await fetch(`${nodeUrl}${pathAndQuery}`, { method: req.method ?? 'GET', headers, signal: abort.signal, ...(body ? { body: new Uint8Array(body) } : {}) });
  } catch (err) {
    throw new UnavailableError(`node ${nodeUrl} did not answer (${(err as Error).message})`);
  } finally {
    clearTimeout(timer);
  }
}

export async function sendForwarded(res: ServerResponse, { forwarded }: ForwardedReply): Promise<void> {
  const headers: Record<string, string> = { 'x-content-type-options': 'nosniff' };
  for (const name of PASSED_REPLY_HEADERS) {
    const value = forwarded.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  res.writeHead(forwarded.status, headers);
  if (!forwarded.body || res.req.method === 'HEAD') {
    await forwarded.body?.cancel();
    res.end();
    return;
  }
  // A client that goes away cancels the body it was being sent (pipeline destroys both ends).
  await pipeline(Readable.fromWeb(forwarded.body as WebReadableStream<Uint8Array>), res);
}

/**
 * Asks every given node the same request and keeps the answers that parse as `schema`; nodes that
 * do not answer, or answer something else, are named in `unanswered`.
 */
export async function askEveryNode<T extends z.ZodTypeAny>(
  req: Pick<IncomingMessage, 'method' | 'headers'>,
  nodes: readonly NodeInfo[],
  pathAndQuery: string,
  schema: T,
): Promise<{ answers: z.infer<T>[]; unanswered: string[] }> {
  const results = await Promise.all(
    nodes.map(async (node): Promise<{ answer: z.infer<T> } | { unanswered: string }> => {
      try {
        const res = await askNode(req, node.linkUrl, pathAndQuery);
        const parsed = res.ok ? schema.safeParse(await res.json()) : undefined;
        if (parsed?.success) return { answer: parsed.data as z.infer<T> };
        await res.body?.cancel();
      } catch {
        // Unreachable: named in the answer.
      }
      return { unanswered: node.nodeId };
    }),
  );
  return {
    answers: results.flatMap((r) => ('answer' in r ? [r.answer] : [])),
    unanswered: results.flatMap((r) => ('unanswered' in r ? [r.unanswered] : [])),
  };
}
