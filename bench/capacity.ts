/**
 * Capacity benchmark: viewers per core, Onstage against bare mediasoup in the same run.
 *
 * One host stream (FFmpeg: VP8 720p30 ~1.5 Mbps + opus 64 kbps, plain RTP) and N viewers, each a
 * video + audio consumer on an SRTP plain transport to a counting UDP sink on loopback. N steps up
 * until the worker passes 85% of a core or the kernel reports dropped datagrams (over 1%). One
 * extra viewer is a real WebRTC peer (mediasoup-client on libwebrtc from @roamhq/wrtc: ICE, DTLS,
 * SRTP, VP8 decoding) whose decoded frame rate is reported per step. Only one: on 2 cores every
 * decoder shares the load generator's core, and two already starve the sink. The worker is pinned
 * to CPU 1; this process, FFmpeg and the sink run on CPU 0 (`npm run bench:capacity` pins them).
 *
 * Each step measures three windows and takes the median worker CPU, so one noisy window (these
 * machines are shared) does not decide where 85% is crossed.
 *
 * Writes bench/results/capacity.json and bench/results/capacity.svg. Options: --rounds N (3),
 * --window-ms N (2000, per window), --max N (1200), --no-spread (skip the two-worker room), --out DIR.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startSource } from './lib/ffmpeg-source.ts';
import { plotCpuAgainstViewers } from './lib/plot.ts';
import { cpuSeconds, pin, rssBytes, sleep, udpDrops } from './lib/proc.ts';
import { startBare, startOnstage, type System } from './lib/systems.ts';
import { median, within } from './lib/stats.ts';
import { UdpSink } from './lib/udp-sink.ts';
import { stallReport, type StallReport } from '../server/src/media/worker-stall-report.ts';
import type { WebRtcViewer } from './lib/webrtc-viewer.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'window-ms': { type: 'string', default: '2000' },
    max: { type: 'string', default: '1200' },
    'no-spread': { type: 'boolean', default: false },
    out: { type: 'string', default: new URL('./results/', import.meta.url).pathname },
  },
});
const ROUNDS = Number(values.rounds);
const WINDOW_MS = Number(values['window-ms']);
// New video consumers forward nothing until the next keyframe; FFmpeg sends one every 2 s (GOP 60)
// and ignores keyframe requests, so settle longer than that before measuring.
const SETTLE_MS = 2500;
const WINDOWS_PER_STEP = 3;
const CPU_LIMIT = 85;
const LOSS_LIMIT = 0.01;
const STEPS = [50, 100, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 900, 1000, 1200].filter((n) => n <= Number(values.max));
const RESULTS = values.out.endsWith('/') ? values.out : `${values.out}/`;

/** `loss`: kernel-counted drops over packets sent; `deliveryRatio`: sink count over producer count × viewers (read at slightly different moments, so about ±1% of noise). */
type Step = {
  viewers: number;
  cpuPercent: number[];
  packetsOutPerSec: number;
  loss: number;
  deliveryRatio: number;
  workerRssMB: number;
  usPerPacket: number;
  /** Frames per second the real WebRTC viewer (libwebrtc) decoded; the source sends 30. */
  decodedFps: number;
};
type Run = {
  system: string;
  round: number;
  workers: number;
  steps: Step[];
  stoppedBy: string;
  viewersAt85: number | undefined;
  /** What each worker was doing when a step stalled. */
  stallReports?: ({ pid: number } & StallReport)[];
};

const started = Date.now();
const say = (line: string) => process.stdout.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);

async function measure(sys: System, round: number, cpuOf: (index: number) => string): Promise<Run> {
  sys.workerPids.forEach((pid, i) => pin(pid, cpuOf(i)));
  const source = startSource(sys.source.video, sys.source.audio);
  const sink = new UdpSink();
  let decoded: WebRtcViewer | undefined;
  const run: Run = { system: sys.name, round, workers: sys.workerPids.length, steps: [], stoppedBy: 'max viewers', viewersAt85: undefined };
  try {
    const deadline = Date.now() + 10_000;
    while ((await sys.producerPackets()) < 100) {
      if (Date.now() > deadline) throw new Error('the FFmpeg source sends nothing');
      await sleep(200);
    }
    decoded = await within(20_000, 'the WebRTC viewer', sys.addWebRtcViewer());
    let viewers = 0;
    for (const target of STEPS) {
      let step: Step;
      try {
        while (viewers < target) {
          const port = await within(20_000, `the sink opening socket ${viewers + 1}`, sink.open());
          await within(20_000, `adding viewer ${viewers + 1}`, sys.addViewer(port));
          viewers++;
        }
        step = await measureStep(sys, sink, decoded, viewers);
      } catch (err) {
        // Seen on this machine near saturation, with bare mediasoup too: a worker request never answered.
        run.stoppedBy = (err as Error).message;
        say(`${sys.name}: ${run.stoppedBy}`);
        if (run.stoppedBy.startsWith('stalled')) {
          // Where the workers stand, while they still stand there (gdb attaches, prints, detaches).
          run.stallReports = await Promise.all(sys.workerPids.map(async (pid) => ({ pid, ...(await stallReport(pid, 20_000)) })));
          for (const r of run.stallReports) say(`worker ${r.pid}: ${JSON.stringify(r, null, 2)}`);
        }
        break;
      }
      run.steps.push(step);
      say(
        `${sys.name.padEnd(15)} round ${round} ${String(viewers).padStart(4)} viewers: worker CPU ${step.cpuPercent.map((c) => `${c.toFixed(1)}%`).join(' + ')}, ` +
          `${step.packetsOutPerSec} pkt/s out, loss ${(step.loss * 100).toFixed(2)}% (delivered ${step.deliveryRatio}), ` +
          `WebRTC viewer decoded ${step.decodedFps} fps, RSS ${step.workerRssMB} MB, ${step.usPerPacket} µs/pkt`,
      );
      if (Math.max(...step.cpuPercent) > CPU_LIMIT) {
        run.stoppedBy = `worker CPU over ${CPU_LIMIT}%`;
        break;
      }
      if (step.loss > LOSS_LIMIT) {
        run.stoppedBy = `loss over ${LOSS_LIMIT * 100}%`;
        break;
      }
    }
    run.viewersAt85 = viewersAt(run, CPU_LIMIT);
    return run;
  } finally {
    decoded?.close();
    source.kill('SIGINT');
    sink.close();
    await sys.close();
  }
}

/** One measurement window at the current number of viewers. */
async function measureStep(sys: System, sink: UdpSink, decoded: WebRtcViewer, viewers: number): Promise<Step> {
  await sleep(SETTLE_MS);
  const read = async () => ({
    sink: await within(20_000, 'sink count', sink.count()),
    produced: await within(20_000, 'producer stats', sys.producerPackets()),
    cpu: sys.workerPids.map(cpuSeconds),
    drops: udpDrops(),
    frames: await decoded.framesDecoded(),
    at: performance.now(),
  });
  const reads = [await read()];
  for (let w = 0; w < WINDOWS_PER_STEP; w++) {
    await sleep(WINDOW_MS);
    reads.push(await read());
  }
  const [a, b] = [reads[0]!, reads.at(-1)!];
  const seconds = (b.at - a.at) / 1000;
  const received = b.sink - a.sink;
  const cpuUsed = b.cpu.map((c, i) => c - a.cpu[i]!);
  // Per worker, the median of the windows' CPU.
  const cpuPercent = a.cpu.map((_, i) =>
    median(reads.slice(1).map((r, w) => (100 * (r.cpu[i]! - reads[w]!.cpu[i]!)) / ((r.at - reads[w]!.at) / 1000))),
  );
  return {
    viewers,
    cpuPercent: cpuPercent.map((c) => Math.round(c * 10) / 10),
    packetsOutPerSec: Math.round(received / seconds),
    loss: (b.drops - a.drops) / (received + b.drops - a.drops),
    deliveryRatio: Math.round((1000 * received) / ((b.produced - a.produced) * viewers)) / 1000,
    workerRssMB: Math.round(sys.workerPids.reduce((n, pid) => n + rssBytes(pid), 0) / 1e5) / 10,
    usPerPacket: Math.round((cpuUsed.reduce((x, y) => x + y, 0) * 1e7) / received) / 10,
    decodedFps: Math.round((10 * (b.frames - a.frames)) / seconds) / 10,
  };
}

/**
 * Viewers at which the busiest worker reaches `limit`% of a core, interpolated between steps. A run
 * stopped first by loss or by a stalled worker counts its last good step; one that never got there
 * and was not stopped, undefined.
 */
function viewersAt(run: Run, limit: number): number | undefined {
  const pts = run.steps.map((s) => ({ n: s.viewers, c: Math.max(...s.cpuPercent), lossy: s.loss > LOSS_LIMIT }));
  const firstLossy = pts.findIndex((p) => p.lossy);
  const usable = firstLossy >= 0 ? pts.slice(0, firstLossy) : pts;
  for (let i = 1; i < usable.length; i++) {
    const [a, b] = [usable[i - 1]!, usable[i]!];
    if (b.c >= limit) return Math.round(a.n + ((limit - a.c) * (b.n - a.n)) / (b.c - a.c));
  }
  if (usable[0] && usable[0].c >= limit) return Math.round((usable[0].n * limit) / usable[0].c);
  return firstLossy >= 0 || run.stoppedBy.startsWith('stalled') ? usable.at(-1)?.n : undefined;
}

say(`capacity benchmark: ${ROUNDS} rounds, steps ${STEPS.join(', ')}, ${WINDOWS_PER_STEP} windows of ${WINDOW_MS} ms per step; worker on CPU 1, load on CPU 0`);
const runs: Run[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  // Alternate the order so neither system always runs on a warmer machine.
  const order = round % 2 ? [startBare, () => startOnstage(1, 100_000)] : [() => startOnstage(1, 100_000), startBare];
  for (const start of order) runs.push(await measure(await start(), round, () => '1'));
}
let spread: Run | undefined;
if (!values['no-spread']) {
  say('one room on two workers (CPU 1, and CPU 0 which it shares with the load generator), spreading after 100 viewers');
  spread = await measure(await startOnstage(2, 100), 1, (i) => (i === 0 ? '1' : '0'));
  spread.system = 'Onstage, 2 workers';
}

const summary = (system: string) => {
  const rs = runs.filter((r) => r.system === system);
  const at85 = rs.map((r) => r.viewersAt85).filter((n): n is number => n !== undefined);
  const us = rs.map((r) => median(r.steps.filter((s) => s.viewers >= 100).map((s) => s.usPerPacket)));
  return { viewersAt85PerRound: at85, viewersPerCoreMedian: at85.length ? median(at85) : undefined, usPerPacketMedian: Math.round(median(us) * 10) / 10 };
};
const bare = summary('bare mediasoup');
const onstage = summary('Onstage');
const ratio = bare.viewersPerCoreMedian && onstage.viewersPerCoreMedian ? onstage.viewersPerCoreMedian / bare.viewersPerCoreMedian : undefined;
// The machine's speed drifts between rounds, so the fairest comparison pairs the two systems of one round.
const pairedRatios = Array.from({ length: ROUNDS }, (_, i) => {
  const [b, o] = ['bare mediasoup', 'Onstage'].map((name) => runs.find((r) => r.system === name && r.round === i + 1)?.viewersAt85);
  return b && o ? Math.round((1000 * o) / b) / 1000 : undefined;
}).filter((r): r is number => r !== undefined);
const result = {
  command: 'npm run bench:capacity',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim() },
  shape: 'one host (VP8 1280x720@30 ~1.5 Mbps + opus 64 kbps); 1 viewer = video + audio consumer, SRTP plain transport, no transport-cc',
  limits: { cpuPercent: CPU_LIMIT, loss: LOSS_LIMIT, windowMs: WINDOW_MS, windowsPerStep: WINDOWS_PER_STEP },
  bare,
  onstage,
  onstageToBareRatio: ratio,
  pairedRatiosPerRound: pairedRatios,
  pairedRatioMedian: pairedRatios.length ? median(pairedRatios) : undefined,
  twoWorkerRoom: spread && {
    viewersAt85: spread.viewersAt85,
    lastStep: spread.steps.at(-1),
    toOneWorkerMedian: spread.viewersAt85 && onstage.viewersPerCoreMedian ? spread.viewersAt85 / onstage.viewersPerCoreMedian : undefined,
    /** Viewers the two-worker room carried at its last good step over the one-worker median: a lower bound when it never reached 85%. */
    lastStepToOneWorkerMedian: spread.steps.length && onstage.viewersPerCoreMedian ? spread.steps.at(-1)!.viewers / onstage.viewersPerCoreMedian : undefined,
    stoppedBy: spread.stoppedBy,
    steps: spread.steps,
  },
  runs,
};
mkdirSync(RESULTS, { recursive: true });
writeFileSync(`${RESULTS}capacity.json`, `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(`${RESULTS}capacity.svg`, plotCpuAgainstViewers(spread ? [...runs, spread] : runs, CPU_LIMIT));

say('');
say(`viewers per core at ${CPU_LIMIT}% (median of ${ROUNDS}): bare mediasoup ${bare.viewersPerCoreMedian ?? 'n/a'} ${JSON.stringify(bare.viewersAt85PerRound)}, ` +
  `Onstage ${onstage.viewersPerCoreMedian ?? 'n/a'} ${JSON.stringify(onstage.viewersAt85PerRound)}, ratio of medians ${ratio?.toFixed(3) ?? 'n/a'}`);
say(`Onstage / bare paired within each round: ${JSON.stringify(pairedRatios)}, median ${pairedRatios.length ? median(pairedRatios).toFixed(3) : 'n/a'}`);
say(`worker CPU per forwarded packet (median, steps ≥ 100 viewers): bare ${bare.usPerPacketMedian} µs, Onstage ${onstage.usPerPacketMedian} µs`);
if (spread) {
  const last = spread.steps.at(-1);
  say(`two-worker room: last step ${last?.viewers} viewers at ${last?.cpuPercent.join('% + ')}% worker CPU, loss ${((last?.loss ?? 0) * 100).toFixed(2)}%; ` +
    `stopped by ${spread.stoppedBy}; viewers at ${CPU_LIMIT}%: ${spread.viewersAt85 ?? 'n/a'} ` +
    `(${result.twoWorkerRoom?.toOneWorkerMedian?.toFixed(2) ?? 'n/a'}× the one-worker median); its last step is ` +
    `${result.twoWorkerRoom?.lastStepToOneWorkerMedian?.toFixed(2) ?? 'n/a'}× the one-worker median`);
}
say(`wrote ${RESULTS}capacity.json and capacity.svg`);
// Exit at once: libwebrtc's threads (@roamhq/wrtc) can crash a process that winds down by itself.
process.exit(0);
