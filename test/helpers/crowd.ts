import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { RawClient } from './socket-client.ts';

/**
 * A room's audience of real socket.io clients in a process of its own, so their work does not
 * share the event loop of the server under test. The test drives it with `command()`.
 */
export type CrowdCommand =
  | { do: 'flood'; requests: number }
  | { do: 'drop' }
  | { do: 'stats' };
export type CrowdStats = { connected: number; stageChangedMax: number; codes: Record<string, number>; flooderRemoved?: string };

export class Crowd {
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  static async start(url: string, room: string, size: number): Promise<Crowd> {
    const child = fork(new URL(import.meta.url).pathname, [url, room, String(size)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const crowd = new Crowd(child);
    await crowd.#reply();
    return crowd;
  }

  async command(command: CrowdCommand): Promise<CrowdStats> {
    this.#child.send(command);
    return this.#reply();
  }

  stop(): void {
    this.#child.kill();
  }

  #reply(): Promise<CrowdStats> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the crowd process exited (${code})`));
      this.#child.once('exit', onExit);
      this.#child.once('message', (m) => {
        this.#child.off('exit', onExit);
        resolve(m as CrowdStats);
      });
    });
  }
}

/**
 * Requests from another room's host and viewer, every 60 ms while `during` runs (and 300 ms
 * after); their ack times in ms. They are cheap requests the rate limits allow at this pace.
 */
export async function probeWhile(host: RawClient, viewer: RawClient, during: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  let done = false;
  const probing = (async () => {
    for (let i = 0; !done; i++) {
      const started = performance.now();
      const code = i % 2 === 0 ? (await host.send('listParticipants', { limit: 10 })).ok : await viewer.code('resumeConsumer', { consumerId: 'nope' });
      assert.ok(code === true || code === 'CONSUMER_NOT_FOUND', `probe answered ${String(code)}`);
      times.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 60));
    }
  })();
  await during();
  await new Promise((r) => setTimeout(r, 300));
  done = true;
  await probing;
  return times;
}

export function p99(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
}

async function runCrowd(url: string, room: string, size: number): Promise<void> {
  const clients: RawClient[] = [];
  const stageChanged = new Map<RawClient, number>();
  const codes: Record<string, number> = {};
  let flooderRemoved: string | undefined;
  for (let i = 0; i < size; i += 50) {
    clients.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(50, size - i) }, async (_, j) => {
          const c = await RawClient.connect(url, { room, role: 'viewer', sub: `fan-${i + j}` });
          await c.ok('join', { roomId: room, role: 'viewer' });
          stageChanged.set(c, 0);
          c.socket.on('stageChanged', () => stageChanged.set(c, stageChanged.get(c)! + 1));
          return c;
        }),
      )),
    );
  }
  const stats = (): CrowdStats => ({
    connected: clients.filter((c) => c.socket.connected).length,
    stageChangedMax: Math.max(0, ...stageChanged.values()),
    codes,
    ...(flooderRemoved ? { flooderRemoved } : {}),
  });
  process.send!(stats());
  process.on('message', async (command: CrowdCommand) => {
    if (command.do === 'flood') {
      // One viewer sends stage request/cancel pairs as fast as it can, without waiting for answers.
      const flooder = clients[0]!;
      flooder.socket.once('removed', ({ reason }: { reason: string }) => (flooderRemoved = reason));
      const acks = await Promise.allSettled(
        Array.from({ length: command.requests / 2 }, () => [flooder.send('requestStage', {}), flooder.send('cancelStageRequest', {})]).flat(),
      );
      for (const a of acks) {
        const code = a.status === 'rejected' ? 'no answer' : a.value.ok ? 'ok' : a.value.error.code;
        codes[code] = (codes[code] ?? 0) + 1;
      }
    }
    // Like a network drop: no leave, no clean disconnect.
    if (command.do === 'drop') for (const c of clients) c.socket.io.engine.close();
    process.send!(stats());
  });
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const [url, room, size] = process.argv.slice(2) as [string, string, string];
  await runCrowd(url, room, Number(size));
}
