import { createServer } from 'node:net';

/** A TCP port free on loopback now (for a service a test starts itself). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
