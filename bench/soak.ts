/**
 * Soak (`npm run soak`): one live room with constant churn through the real server (real sockets,
 * real mediasoup transports): every second viewers join (with a receive transport) and others
 * leave (half with `leave`, half by vanishing, to be dropped at the end of their grace period);
 * every few seconds a viewer comes on stage and is removed again; chat all the time. Samples the
 * server's heap and RSS, the worker's RSS, open file descriptors and event-loop lag p99, prints
 * them, and writes bench/results/soak.json and soak.svg with the slope of each over the run.
 * Options: --minutes 30, --audience 100, --sample-s 10.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startServer } from '../test/helpers/server.ts';
import { RawClient } from '../test/helpers/socket-client.ts';
import { plotOverTime, type Series } from './lib/plot.ts';
import { rssBytes, sleep } from './lib/proc.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    audience: { type: 'string', default: '100' },
    'sample-s': { type: 'string', default: '10' },
    out: { type: 'string', default: new URL('./results/', import.meta.url).pathname },
  },
});
const minutes = Number(values.minutes);
const audience = Number(values.audience);
const sampleMs = Number(values['sample-s']) * 1000;
const log = (line: string) => process.stdout.write(`${line}\n`);
const ROOM = 'soak';

const server = await startServer({ WORKERS: '1', GRACE_MS: '2000', LOG_LEVEL: 'error', MAX_CONNECTIONS_PER_ADDRESS: '10000', CHAT_ROOM_BURST: '100' });
const workerPid = async () => Number(/^onstage_mediasoup_worker_info\{worker="0",pid="(\d+)"\} 1$/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1]);
const host = await RawClient.connect(server.url, { room: ROOM, role: 'host', sub: 'soak-host', expiresInS: 24 * 3600 });
await host.ok('join', { roomId: ROOM, role: 'host' });

let serial = 0;
const counts = { joined: 0, left: 0, vanished: 0, staged: 0, chats: 0, errors: 0 };
const viewers: { c: RawClient; id: string }[] = [];
async function joinViewer(): Promise<void> {
  const c = await RawClient.connect(server.url, { room: ROOM, role: 'viewer', sub: `v${serial++}`, expiresInS: 24 * 3600 });
  const { participantId } = await c.ok<{ participantId: string }>('join', { roomId: ROOM, role: 'viewer' });
  await c.ok('createTransport', { direction: 'recv' });
  viewers.push({ c, id: participantId });
  counts.joined++;
}
/** A viewer asks for the stage, the host seats them, and removes them two seconds later. */
async function stageTurn(v: { c: RawClient; id: string }): Promise<void> {
  await v.c.ok('requestStage', {});
  await host.ok('answerStageRequest', { participantId: v.id, accept: true });
  counts.staged++;
  await sleep(2000);
  await host.ok('removeFromStage', { participantId: v.id });
}
function leaveOne(): void {
  const c = viewers.shift()?.c;
  if (!c) return;
  if ((counts.left + counts.vanished) % 2 === 0) {
    void c.send('leave', {}).finally(() => c.close());
    counts.left++;
  } else {
    c.socket.io.engine.close(); // vanishes: the server drops it after the grace period
    counts.vanished++;
  }
}
const guard = (p: Promise<unknown>) => p.catch(() => counts.errors++);

for (let i = 0; i < audience; i++) await joinViewer();
log(`# soak: ${minutes} min, audience ${audience}, churn 5 joins + 5 leaves per second, stage every 4 s, chat 5/s`);

const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
const samples: { t: number; heapMB: number; rssMB: number; workerRssMB: number; fds: number; lagP99Ms: number; participants: number }[] = [];
const started = Date.now();
const deadline = started + minutes * 60_000;
let nextSample = started + sampleMs;
let tick = 0;
while (Date.now() < deadline) {
  tick++;
  for (let i = 0; i < 5; i++) leaveOne();
  await Promise.all(Array.from({ length: 5 }, () => guard(joinViewer())));
  // The newest viewer, who stays for the whole turn (the oldest leave first).
  if (tick % 4 === 0 && viewers.length > 0) guard(stageTurn(viewers[viewers.length - 1]!));
  for (let i = 0; i < 5; i++) {
    const v = viewers[Math.floor(Math.random() * viewers.length)];
    if (v) guard(v.c.ok('sendChat', { text: `hello ${tick}-${i}` }).then(() => counts.chats++));
  }
  await sleep(1000);
  if (Date.now() >= nextSample) {
    nextSample += sampleMs;
    const m = process.memoryUsage();
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const s = {
      t: (Date.now() - started) / 1000,
      heapMB: m.heapUsed / 2 ** 20,
      rssMB: m.rss / 2 ** 20,
      workerRssMB: rssBytes(await workerPid()) / 2 ** 20,
      fds: readdirSync('/proc/self/fd').length,
      lagP99Ms: lag.percentile(99) / 1e6,
      participants: Number(/^onstage_participants (\d+)$/m.exec(metrics)?.[1]),
    };
    lag.reset();
    samples.push(s);
    log(
      `t=${s.t.toFixed(0)}s heap ${s.heapMB.toFixed(1)} MB rss ${s.rssMB.toFixed(1)} MB worker ${s.workerRssMB.toFixed(1)} MB fds ${s.fds} ` +
        `lag p99 ${s.lagP99Ms.toFixed(1)} ms participants ${s.participants} ${JSON.stringify(counts)}`,
    );
  }
}

/** Least-squares slope per hour, over the second half of the run (the first half warms up). */
function slopePerHour(key: keyof (typeof samples)[number]): number {
  const pts = samples.slice(Math.floor(samples.length / 2));
  if (pts.length < 2) return NaN;
  const mt = pts.reduce((a, p) => a + p.t, 0) / pts.length;
  const mv = pts.reduce((a, p) => a + p[key], 0) / pts.length;
  const num = pts.reduce((a, p) => a + (p.t - mt) * (p[key] - mv), 0);
  const den = pts.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  return (num / den) * 3600;
}
const sorted = samples.map((s) => s.lagP99Ms).sort((a, b) => a - b);
const summary = {
  minutes,
  audience,
  counts,
  heapMBPerHour: slopePerHour('heapMB'),
  rssMBPerHour: slopePerHour('rssMB'),
  workerRssMBPerHour: slopePerHour('workerRssMB'),
  fdsPerHour: slopePerHour('fds'),
  lagP99MsMedian: sorted[Math.floor(sorted.length / 2)],
  lagP99MsMax: sorted.at(-1),
};
log(`# slopes over the second half: ${JSON.stringify(summary)}`);
mkdirSync(values.out!, { recursive: true });
writeFileSync(`${values.out}soak.json`, JSON.stringify({ command: `npm run soak -- --minutes ${minutes} --audience ${audience}`, summary, samples }, null, 2));
const series = (name: string, unit: string, key: keyof (typeof samples)[number]): Series => ({ name, unit, points: samples.map((s) => ({ t: s.t, v: s[key] })) });
writeFileSync(
  `${values.out}soak.svg`,
  plotOverTime(`Soak: ${minutes} min, ${audience} viewers, constant churn`, [
    series('server heap', 'MB', 'heapMB'),
    series('server RSS', 'MB', 'rssMB'),
    series('worker RSS', 'MB', 'workerRssMB'),
    series('open fds', 'count', 'fds'),
    series('event-loop lag p99', 'ms', 'lagP99Ms'),
  ]),
);
log(`wrote ${values.out}soak.json and soak.svg`);
for (const v of viewers) v.c.close();
host.close();
await server.close();
process.exit(0);
