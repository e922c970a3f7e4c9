import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';

/** A free even UDP port on `ip` whose odd neighbour (the RTCP port FFmpeg opens) is free too. */
export async function freePortPair(ip = '127.0.0.1'): Promise<number> {
  for (;;) {
    const a = createSocket('udp4');
    await new Promise<void>((r) => a.bind(0, ip, r));
    const port = a.address().port;
    a.close();
    if (port % 2 !== 0 || port > 65000) continue;
    const b = createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      b.once('error', () => r(false));
      b.bind(port + 1, ip, () => r(true));
    });
    b.close();
    if (ok) return port;
  }
}

/** True once some process has a UDP socket bound to `port` (IPv4), from /proc/net/udp. */
export async function udpPortBound(port: number): Promise<boolean> {
  const table = await readFile('/proc/net/udp', 'utf8');
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return table.split('\n').some((line) => line.trim().split(/\s+/)[1]?.endsWith(suffix) ?? false);
}
