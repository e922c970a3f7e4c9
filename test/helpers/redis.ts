import { spawn, type ChildProcess } from 'node:child_process';
import { freeLoopbackPort } from './free-port.ts';

/** A real redis-server on a free loopback port (or `port`, to start it again), with nothing persisted; stopped by stop(). */
export async function startRedis(fixedPort?: number): Promise<{ url: string; port: number; process: ChildProcess; stop(): void }> {
  const port = fixedPort ?? (await freeLoopbackPort());
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code})`)));
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('Ready to accept connections') && resolve());
  });
  child.stdout!.resume();
  return { url: `redis://127.0.0.1:${port}`, port, process: child, stop: () => child.kill('SIGKILL') };
}
