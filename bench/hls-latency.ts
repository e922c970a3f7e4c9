/**
 * HLS glass-to-glass delay and recorder CPU per live show (`npm run bench:hls`). A host page in
 * Chromium sends a canvas that shows a time code (bench/lib/timecode.ts); a WebRTC viewer, a
 * Low-Latency HLS viewer (hls.js in low-latency mode, ?mode=hls) and a standard HLS viewer (whole
 * segments, ?mode=hls&hls=standard) read it from every displayed frame, so all three delays are
 * measured in the same run (WebRTC is the baseline); each HLS player's stalls (from its first picture on,
 * warm-up included; see countStalls) are counted and timed. Meanwhile the recorder's CPU (stage mixer + FFmpeg) is sampled from
 * /proc. Repeats for --rounds shows; prints p50/p95 per round and over all, and writes
 * bench/results/hls-latency.json. Runs inside a private network namespace (see package.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import type { LiveStatus } from '@onstage/protocol';
import { eventually, goLive, launchBrowser } from '../test/helpers/browser.ts';
import { liveStatus } from '../test/helpers/hls.ts';
import { startServer } from '../test/helpers/server.ts';
import { cpuSeconds, sleep } from './lib/proc.ts';
import { delaySummary, percentile } from './lib/stats.ts';
import { installTimecodeCamera, readDelays } from './lib/timecode.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'measure-ms': { type: 'string', default: '20000' },
    out: { type: 'string', default: new URL('./results/', import.meta.url).pathname },
  },
});
const rounds = Number(values.rounds);
const measureMs = Number(values['measure-ms']);

const summary = delaySummary;
const log = (line: string) => process.stdout.write(`${line}\n`);

const server = await startServer({ HLS: 'true' });
const browser = await launchBrowser();
let movingCpuPercent = NaN;
type Round = {
  round: number;
  webrtc: ReturnType<typeof summary>;
  llHls: ReturnType<typeof summary>;
  hls: ReturnType<typeof summary>;
  stalls: { llHls: Stalls; hls: Stalls };
  recorderCpuPercent: number;
  llHlsRaw: number[];
  hlsRaw: number[];
  webrtcRaw: number[];
};
const results: Round[] = [];

/** A show's recorder processes: the stage mixer (composite + encodings) and FFmpeg (packaging). */
function recorderPids(status: LiveStatus): number[] {
  const pids = [status.recorder?.mixerPid, status.recorder?.ffmpegPid].filter((p) => p !== undefined);
  if (pids.length !== 2) throw new Error(`no recorder processes: ${JSON.stringify(status.recorder)}`);
  return pids;
}
const cpuOf = (pids: number[]) => pids.reduce((n, pid) => n + cpuSeconds(pid), 0);

type Stalls = { count: number; ms: number };
/**
 * Counts the <video>'s stalls from now on, warm-up included, and how long they lasted: a `waiting`
 * once it has played, until it plays again. Not counted: the wait for the first picture, and a
 * seek's own `waiting` (the player jumping to live). The returned function reads them.
 */
async function countStalls(page: Page, selector: string): Promise<() => Promise<Stalls>> {
  await page.evaluate((sel) => {
    const video = document.querySelector(sel) as HTMLVideoElement;
    let played = video.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA && !video.paused;
    let since: number | undefined;
    const stalls = { count: 0, ms: 0 };
    video.addEventListener('playing', () => {
      played = true;
      if (since !== undefined) stalls.ms += performance.now() - since;
      since = undefined;
    });
    video.addEventListener('waiting', () => {
      if (!played || video.seeking || since !== undefined) return;
      stalls.count++;
      since = performance.now();
    });
    Object.assign(globalThis, { benchStalls: stalls });
  }, selector);
  return () => page.evaluate(() => (globalThis as unknown as { benchStalls: Stalls }).benchStalls);
}
try {
  for (let round = 1; round <= rounds; round++) {
    const room = `latency-${round}`;
    log(`round ${round}/${rounds}: host goes live in ${room}`);
    const hostContext = await browser.newContext();
    await installTimecodeCamera(hostContext);
    const host = await hostContext.newPage();
    await host.goto(`${server.url}/host/${room}`);
    await goLive(host);
    const ready = await eventually(() => liveStatus(server.url, room), (s) => s.hlsUrl !== null, 30_000);
    if (!ready.hlsUrl) throw new Error('no HLS output');
    const open = async (path: string): Promise<Page> => (await browser.newContext()).newPage().then(async (p) => (await p.goto(`${server.url}${path}`), p));
    const webrtc = await open(`/watch/${room}?mode=webrtc`);
    const llHls = await open(`/watch/${room}?mode=hls`);
    const hls = await open(`/watch/${room}?mode=hls&hls=standard`);
    await webrtc.waitForSelector('.tile video', { timeout: 20_000 });
    await llHls.waitForSelector('#hls-video', { timeout: 20_000 });
    await hls.waitForSelector('#hls-video', { timeout: 20_000 });
    const [llStalls, stdStalls] = await Promise.all([countStalls(llHls, '#hls-video'), countStalls(hls, '#hls-video')]);
    log('  viewers connected; letting HLS reach its steady delay (8 s)');
    await sleep(8000);
    const pids = recorderPids(await liveStatus(server.url, room));
    const cpuStart = cpuOf(pids);
    const t0 = performance.now();
    log(`  measuring for ${measureMs / 1000} s`);
    const [webrtcDelays, llHlsDelays, hlsDelays] = await Promise.all([
      readDelays(webrtc, '.tile video', measureMs),
      readDelays(llHls, '#hls-video', measureMs),
      readDelays(hls, '#hls-video', measureMs),
    ]);
    const recorderCpuPercent = ((cpuOf(pids) - cpuStart) / ((performance.now() - t0) / 1000)) * 100;
    const r: Round = {
      round,
      webrtc: summary(webrtcDelays),
      llHls: summary(llHlsDelays),
      hls: summary(hlsDelays),
      stalls: { llHls: await llStalls(), hls: await stdStalls() },
      recorderCpuPercent,
      llHlsRaw: llHlsDelays,
      hlsRaw: hlsDelays,
      webrtcRaw: webrtcDelays,
    };
    results.push(r);
    log(`  WebRTC:   p50 ${r.webrtc.p50} ms, p95 ${r.webrtc.p95} ms (${r.webrtc.samples} frames)`);
    log(`  LL-HLS:   p50 ${r.llHls.p50} ms, p95 ${r.llHls.p95} ms (${r.llHls.samples} frames), ${r.stalls.llHls.count} stalls (${Math.round(r.stalls.llHls.ms)} ms)`);
    log(`  std HLS:  p50 ${r.hls.p50} ms, p95 ${r.hls.p95} ms (${r.hls.samples} frames), ${r.stalls.hls.count} stalls (${Math.round(r.stalls.hls.ms)} ms)`);
    log(`  recorder CPU (mixer + FFmpeg): ${recorderCpuPercent.toFixed(1)}% of one core`);
    await host.locator('#stop').click();
    await Promise.all([hostContext.close(), webrtc.context().close(), llHls.context().close(), hls.context().close()]);
    await sleep(3000);
  }
  // The time code is an easy picture to encode; Chromium's fake camera (moving shapes, a running
  // clock) is a harder one. Recorder CPU for it, one show, no viewers.
  log('recorder CPU with a moving picture (Chromium fake camera): one show');
  const host = await (await browser.newContext()).newPage();
  await host.goto(`${server.url}/host/moving`);
  await goLive(host);
  await eventually(() => liveStatus(server.url, 'moving'), (s) => s.hlsUrl !== null, 30_000);
  await sleep(3000);
  const pids = recorderPids(await liveStatus(server.url, 'moving'));
  const cpuStart = cpuOf(pids);
  const t0 = performance.now();
  await sleep(measureMs);
  movingCpuPercent = ((cpuOf(pids) - cpuStart) / ((performance.now() - t0) / 1000)) * 100;
  log(`  recorder CPU (mixer + FFmpeg): ${movingCpuPercent.toFixed(1)}% of one core`);
  await host.locator('#stop').click();
} finally {
  await browser.close();
  await server.close();
}

const all = (k: 'llHlsRaw' | 'hlsRaw' | 'webrtcRaw') => results.flatMap((r) => r[k]);
const slicedMedians = (xs: number[], n: number) =>
  Array.from({ length: n }, (_, i) => xs.slice(Math.floor((i * xs.length) / n), Math.floor(((i + 1) * xs.length) / n))).filter((s) => s.length > 0).map((s) => percentile(s, 50));
const medianOf = (xs: number[]) => percentile(xs, 50);
const totalStalls = (xs: Stalls[]): Stalls => ({ count: xs.reduce((n, x) => n + x.count, 0), ms: Math.round(xs.reduce((n, x) => n + x.ms, 0)) });
const report = {
  command: 'npm run bench:hls',
  date: new Date().toISOString(),
  machine: { cpus: (await import('node:os')).cpus().length },
  settings: { rounds, measureMs, segmentSeconds: 1, partSeconds: 0.2, renditions: ['720p', '360p'], hlsJs: { llHls: 'lowLatencyMode', hls: 'lowLatencyMode false, liveSyncDurationCount 2' } },
  // Each round's LL-HLS delay over the measured time, as the medians of ten equal slices of its
  // frames: a delay that stays high all round and one that jumps look different here.
  rounds: results.map(({ llHlsRaw, hlsRaw: _h, webrtcRaw: _w, ...rest }) => ({ ...rest, llHlsOverTime: slicedMedians(llHlsRaw, 10) })),
  overall: {
    webrtc: summary(all('webrtcRaw')),
    llHls: summary(all('llHlsRaw')),
    hls: summary(all('hlsRaw')),
    stalls: { llHls: totalStalls(results.map((r) => r.stalls.llHls)), hls: totalStalls(results.map((r) => r.stalls.hls)) },
    medianOfRoundP50: { webrtc: medianOf(results.map((r) => r.webrtc.p50)), llHls: medianOf(results.map((r) => r.llHls.p50)), hls: medianOf(results.map((r) => r.hls.p50)) },
    medianOfRoundP95: { webrtc: medianOf(results.map((r) => r.webrtc.p95)), llHls: medianOf(results.map((r) => r.llHls.p95)), hls: medianOf(results.map((r) => r.hls.p95)) },
    recorderCpuPercentMedian: medianOf(results.map((r) => r.recorderCpuPercent)),
    recorderCpuPercentMovingPicture: movingCpuPercent,
  },
};
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'hls-latency.json'), `${JSON.stringify(report, null, 2)}\n`);
const o = report.overall;
log(`\nall rounds: WebRTC p50 ${o.webrtc.p50} ms p95 ${o.webrtc.p95} ms; LL-HLS p50 ${o.llHls.p50} ms p95 ${o.llHls.p95} ms (${o.stalls.llHls.count} stalls, ${o.stalls.llHls.ms} ms); standard HLS p50 ${o.hls.p50} ms p95 ${o.hls.p95} ms (${o.stalls.hls.count} stalls, ${o.stalls.hls.ms} ms)`);
log(`recorder CPU per live show (median of rounds): ${report.overall.recorderCpuPercentMedian.toFixed(1)}% of one core (time code); ${movingCpuPercent.toFixed(1)}% (moving picture)`);
log(`wrote ${join(values.out, 'hls-latency.json')}`);
