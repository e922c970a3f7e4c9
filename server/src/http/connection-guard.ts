import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logger.ts';

export type ConnectionLimits = {
  /** Open TCP connections in total (HTTP and signalling); more are closed as they arrive. */
  maxConnections: number;
  /** Open TCP connections from one client address. */
  maxPerAddress: number;
  /** A request's headers must arrive within this, and a new connection's first request too. */
  headersTimeoutMs: number;
  /** A whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
};

/** File descriptors the server keeps for itself beyond client connections (workers, files, FFmpeg, UDP). */
const FD_RESERVE = 512;

/**
 * Keeps one client (or a flood of idle or slow ones) from using up the server's connections or
 * file descriptors: per-address and total limits, header and body timeouts, and a deadline for a
 * new connection's first request (Node's own timeouts start only at a request's first byte, so a
 * connection that never sends one would stay open for ever). Connections over a limit are closed
 * at once, before a byte is read. Returns the counts of refused connections.
 */
export function guardConnections(http: HttpServer, limits: ConnectionLimits, logger: Logger): { refused: () => Map<string, number> } {
  const fdLimit = openFileLimit();
  let maxConnections = limits.maxConnections;
  if (fdLimit !== undefined && maxConnections + FD_RESERVE > fdLimit) {
    maxConnections = Math.max(1, fdLimit - FD_RESERVE);
    logger.warn(
      { maxConnections: limits.maxConnections, openFileLimit: fdLimit, using: maxConnections },
      'not enough file descriptors for MAX_CONNECTIONS: raise the open-file limit (ulimit -n, LimitNOFILE=) or lower MAX_CONNECTIONS',
    );
  }
  http.headersTimeout = limits.headersTimeoutMs;
  http.requestTimeout = limits.requestTimeoutMs;

  const perAddress = new Map<string, number>();
  let open = 0;
  const refused = new Map<string, number>();
  let lastWarning = 0;
  const refuse = (socket: Socket, reason: 'total' | 'per_address', address: string) => {
    refused.set(reason, (refused.get(reason) ?? 0) + 1);
    socket.destroy();
    if (Date.now() - lastWarning > 10_000) {
      lastWarning = Date.now();
      logger.warn({ reason, address, open, maxConnections, maxPerAddress: limits.maxPerAddress }, 'refusing connections over the limit');
    }
  };
  const awaitingFirstRequest = new WeakMap<Socket, NodeJS.Timeout>();
  let idleClosed = 0;
  const firstRequest = (req: IncomingMessage) => {
    const socket = req.socket;
    const silent = awaitingFirstRequest.get(socket);
    if (silent === undefined) return;
    clearTimeout(silent);
    awaitingFirstRequest.delete(socket);
  };
  http.prependListener('request', firstRequest);
  http.prependListener('upgrade', firstRequest);
  http.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const mine = perAddress.get(address) ?? 0;
    if (open >= maxConnections) return refuse(socket, 'total', address);
    if (mine >= limits.maxPerAddress) return refuse(socket, 'per_address', address);
    open++;
    perAddress.set(address, mine + 1);
    const silent = setTimeout(() => {
      idleClosed++;
      socket.destroy();
    }, limits.headersTimeoutMs);
    silent.unref();
    awaitingFirstRequest.set(socket, silent);
    socket.once('close', () => {
      clearTimeout(silent);
      open--;
      const left = perAddress.get(address)! - 1;
      if (left === 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
  });
  return { refused: () => new Map([...refused, ['idle', idleClosed]]) };
}

/** The process's soft limit on open files (Node raises it to the hard limit at start), if known. */
function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}
