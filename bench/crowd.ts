/**
 * Crowd benchmark (`npm run bench:crowd`): the crowd outages of issue 9 at several room sizes,
 * through the real server with real sockets (the audience in a process of its own). For each
 * size and round: a fresh server, a host and N viewers in one room, and another room whose host
 * and viewer send a request every 60 ms. Three phases: quiet (the baseline of the same run), one
 * viewer's 2,000 stage request/cancel requests at once, and all N viewers dropping at once.
 * Reports, per phase, the other room's request time p99 and max and the server's event-loop
 * delay max, as medians over the rounds, and whether anyone outside the crowd was disconnected.
 * Writes bench/results/crowd.json. Options: --sizes 500,1000,2000, --rounds 3, --out DIR.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Crowd, p99, probeWhile } from '../test/helpers/crowd.ts';
import { startServer } from '../test/helpers/server.ts';
import { RawClient } from '../test/helpers/socket-client.ts';
import { sleep } from './lib/proc.ts';
import { median } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '500,1000,2000' },
    rounds: { type: 'string', default: '3' },
    out: { type: 'string', default: new URL('./results/', import.meta.url).pathname },
  },
});
const sizes = values.sizes.split(',').map(Number);
const rounds = Number(values.rounds);
const started = Date.now();
const say = (line: string) => process.stdout.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);

const PHASES = ['quiet', 'flood', 'drop'] as const;
type Phase = (typeof PHASES)[number];
type PhaseResult = { otherRoomP99Ms: number; otherRoomMaxMs: number; requests: number; loopDelayMaxMs: number };
type RoundResult = { size: number; round: number; phases: Record<Phase, PhaseResult>; disconnected: number };

async function runRound(size: number, round: number): Promise<RoundResult> {
  const server = await startServer({ MAX_CONNECTIONS_PER_ADDRESS: String(size + 100), LOG_LEVEL: 'error' });
  const lag = monitorEventLoopDelay({ resolution: 10 });
  const clients: RawClient[] = [];
  let crowd: Crowd | undefined;
  try {
    const host = await RawClient.connect(server.url, { room: 'big-show', role: 'host' });
    await host.ok('join', { roomId: 'big-show', role: 'host' });
    let away = 0;
    host.socket.on('participantsUpdated', (u: { updated: { away: boolean }[] }) => (away += u.updated.filter((p) => p.away).length));
    const probeHost = await RawClient.connect(server.url, { room: 'small-show', role: 'host' });
    await probeHost.ok('join', { roomId: 'small-show', role: 'host' });
    const probeViewer = await RawClient.connect(server.url, { room: 'small-show', role: 'viewer' });
    await probeViewer.ok('join', { roomId: 'small-show', role: 'viewer' });
    clients.push(host, probeHost, probeViewer);
    crowd = await Crowd.start(server.url, 'big-show', size);
    await sleep(1500); // the joins' own updates go out first

    const work: Record<Phase, () => Promise<void>> = {
      quiet: () => sleep(2000),
      flood: async () => {
        await crowd!.command({ do: 'flood', requests: 2000 });
      },
      drop: async () => {
        await crowd!.command({ do: 'drop' });
        // The flooder was dropped in the flood phase already.
        const deadline = Date.now() + 30_000;
        while (away < size - 1 && Date.now() < deadline) await sleep(50);
        await sleep(1200);
      },
    };
    const phases = {} as Record<Phase, PhaseResult>;
    for (const phase of PHASES) {
      lag.reset();
      lag.enable();
      const times = await probeWhile(probeHost, probeViewer, work[phase]);
      lag.disable();
      phases[phase] = { otherRoomP99Ms: p99(times), otherRoomMaxMs: Math.max(...times), requests: times.length, loopDelayMaxMs: lag.max / 1e6 };
      say(
        `size ${size} round ${round} ${phase}: other room p99 ${phases[phase].otherRoomP99Ms.toFixed(1)} ms ` +
          `(max ${phases[phase].otherRoomMaxMs.toFixed(1)}, ${times.length} requests), event-loop delay max ${phases[phase].loopDelayMaxMs.toFixed(1)} ms`,
      );
    }
    return { size, round, phases, disconnected: clients.filter((c) => !c.socket.connected).length };
  } finally {
    crowd?.stop();
    for (const c of clients) c.close();
    await server.close();
  }
}

const results: RoundResult[] = [];
for (const size of sizes) for (let round = 1; round <= rounds; round++) results.push(await runRound(size, round));

const summary = sizes.map((size) => {
  const mine = results.filter((r) => r.size === size);
  const of = (phase: Phase, key: keyof PhaseResult) => median(mine.map((r) => r.phases[phase][key]));
  return {
    size,
    disconnected: mine.reduce((n, r) => n + r.disconnected, 0),
    ...Object.fromEntries(
      PHASES.map((phase) => [phase, { otherRoomP99Ms: of(phase, 'otherRoomP99Ms'), otherRoomMaxMs: of(phase, 'otherRoomMaxMs'), loopDelayMaxMs: of(phase, 'loopDelayMaxMs') }]),
    ),
  };
});
say('medians over rounds (other room p99 / event-loop delay max, ms):');
process.stdout.write('| viewers | quiet | 2,000 stage requests | all drop at once | disconnected |\n|---|---|---|---|---|\n');
for (const s of summary) {
  const cell = (p: Phase) => {
    const r = (s as unknown as Record<Phase, { otherRoomP99Ms: number; loopDelayMaxMs: number }>)[p];
    return `${r.otherRoomP99Ms.toFixed(1)} / ${r.loopDelayMaxMs.toFixed(1)}`;
  };
  process.stdout.write(`| ${s.size} | ${cell('quiet')} | ${cell('flood')} | ${cell('drop')} | ${s.disconnected} |\n`);
}
mkdirSync(values.out, { recursive: true });
const out = values.out.endsWith('/') ? values.out : `${values.out}/`;
writeFileSync(`${out}crowd.json`, JSON.stringify({ command: `npm run bench:crowd -- --sizes ${values.sizes} --rounds ${rounds}`, summary, results }, null, 2));
say(`wrote ${out}crowd.json`);
