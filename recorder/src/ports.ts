import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';

/**
 * FFmpeg's RTP ports come from a range of their own, above Linux's default ephemeral range
 * (32768-60999, where browsers' and other sockets are placed) and mediasoup's default port range
 * (10000-59999): a port checked free there is not taken by someone else before FFmpeg binds it.
 */
const RANGE = { min: 61000, max: 64998 };
/** Pairs handed out recently; a pair is only probed free, so it is held back until FFmpeg has it. */
const recent = new Map<number, number>();
const HOLD_MS = 30_000;

/** A free even UDP port on `ip` whose odd neighbour (the RTCP port FFmpeg opens) is free too. */
export async function freePortPair(ip = '127.0.0.1'): Promise<number> {
  const now = Date.now();
  for (const [port, at] of recent) if (now - at > HOLD_MS) recent.delete(port);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = RANGE.min + 2 * Math.floor(Math.random() * ((RANGE.max - RANGE.min) / 2 + 1));
    if (recent.has(port)) continue;
    recent.set(port, now);
    if ((await canBind(port, ip)) && (await canBind(port + 1, ip))) return port;
  }
  throw new Error(`no free UDP port pair in ${RANGE.min}-${RANGE.max + 1}`);
}

async function canBind(port: number, ip: string): Promise<boolean> {
  const socket = createSocket('udp4');
  const ok = await new Promise<boolean>((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(port, ip, () => resolve(true));
  });
  socket.close();
  return ok;
}

/** True once some process has a UDP socket bound to `port` (IPv4), from /proc/net/udp. */
export async function udpPortBound(port: number): Promise<boolean> {
  const table = await readFile('/proc/net/udp', 'utf8');
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return table.split('\n').some((line) => line.trim().split(/\s+/)[1]?.endsWith(suffix) ?? false);
}
