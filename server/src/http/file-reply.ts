import { open, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../errors.ts';

/** A reply that is a file on disk, streamed (with byte ranges, so players can seek). */
export type FileReply = { file: string; contentType: string; cacheControl: string; headers?: Record<string, string> };

export async function sendFile(req: IncomingMessage, res: ServerResponse, reply: FileReply): Promise<void> {
  // Opened before anything is sent: live segments and playlists are deleted and replaced while
  // players fetch them, and an open file stays readable whatever happens to its name.
  const handle = await open(reply.file, 'r').catch(() => undefined);
  if (!handle) throw new NotFoundError('NOT_FOUND', 'no such file');
  let streaming = false;
  try {
    streaming = await sendOpenFile(req, res, reply, handle);
  } finally {
    if (!streaming) await handle.close();
  }
}

/** Sends the reply; true when the body is being streamed (the stream then closes the file). */
async function sendOpenFile(req: IncomingMessage, res: ServerResponse, reply: FileReply, handle: FileHandle): Promise<boolean> {
  const info = await handle.stat();
  if (!info.isFile()) throw new NotFoundError('NOT_FOUND', 'no such file');
  const size = info.size;
  const headers: Record<string, string | number> = {
    'content-type': reply.contentType,
    'cache-control': reply.cacheControl,
    'accept-ranges': 'bytes',
    'last-modified': info.mtime.toUTCString(),
    'x-content-type-options': 'nosniff',
    ...reply.headers,
  };
  const range = parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` });
    res.end();
    return false;
  }
  const [start, end] = range ?? [0, size - 1];
  res.writeHead(range ? 206 : 200, {
    ...headers,
    'content-length': Math.max(0, end - start + 1),
    ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
  });
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return false;
  }
  // A player that goes away mid-file ends the pipeline; the stream closes the file either way.
  void pipeline(handle.createReadStream({ start, end }), res).catch(() => res.destroy());
  return true;
}

/** One `bytes=a-b` range (the only kind players send); anything else is served whole. */
function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start > end || start >= size ? 'unsatisfiable' : [start, end];
}
