/**
 * What a stage change costs the HLS output and the recording (`npm run bench:stage-changes`).
 * Two shows of the same length on one server, in the same run: a baseline where a red host is
 * alone the whole time, and one with four changes --phase-s apart (a blue co-host comes on stage,
 * the host hides the co-host's camera, shows it again, removes the co-host). The top rendition's
 * playlist is polled throughout: the media time it gained while the show ran, against the wall
 * time, gives the time lost (the baseline's own shortfall, the playlist's edges, is taken off);
 * the same for the recording (its seconds of video against the show's length); and the largest gap
 * between consecutive segments (by their dates) and between the recording's video frames. For each change: the time from
 * the action to the first served LL-HLS part that shows the new layout (this includes HLS's own delay,
 * printed for the baseline as "first segment after go live"). Writes bench/results/stage-changes.json.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { eventually, goLive, launchBrowser } from '../test/helpers/browser.ts';
import { frameGaps, halvesColour, liveStatus, openSolidColourPage, PlaylistWatch, probe, segmentMedia } from '../test/helpers/hls.ts';
import { startServer } from '../test/helpers/server.ts';
import { sleep } from './lib/proc.ts';

const { values } = parseArgs({
  options: {
    'phase-s': { type: 'string', default: '12' },
    out: { type: 'string', default: new URL('./results/', import.meta.url).pathname },
  },
});
const PHASE_MS = Number(values['phase-s']) * 1000;
const log = (line: string) => process.stdout.write(`${line}\n`);

type Rgb = number[];
type Layout = 'host alone' | 'host and co-host';
const isRed = ([r, g, b]: Rgb) => r! > 150 && g! < 90 && b! < 90;
const isBlue = ([r, g, b]: Rgb) => b! > 150 && r! < 90 && g! < 90;
const layoutOf = ({ left, right }: { left: Rgb; right: Rgb }): Layout | undefined =>
  isRed(left) && isRed(right) ? 'host alone' : isRed(left) && isBlue(right) ? 'host and co-host' : undefined;

/** The layout in the newest independent LL-HLS part listed (what a low-latency player can show first). */
async function newestLayout(watch: PlaylistWatch): Promise<Layout | undefined> {
  const part = [...watch.latest.matchAll(/#EXT-X-PART:[^\n]*URI="([^"]+)",INDEPENDENT=YES/g)].at(-1)?.[1];
  if (!part) return undefined;
  return layoutOf(await segmentMedia(watch.url, watch.latest, part).then(halvesColour).catch(() => ({ left: [], right: [] })));
}

/**
 * Seconds of video a recording holds: its frames at its frame rate (the composite is encoded at a
 * constant rate). Its container duration would count a gap between two parts as time.
 */
async function videoSeconds(url: string): Promise<number> {
  // Not execFileSync: the server answering ffprobe runs in this process.
  const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets,r_frame_rate', '-of', 'json', url]);
  const stream = (JSON.parse(stdout) as { streams: { nb_read_packets: string; r_frame_rate: string }[] }).streams[0]!;
  const [num, den] = stream.r_frame_rate.split('/').map(Number);
  return Number(stream.nb_read_packets) / (num! / (den || 1));
}

type ShowResult = {
  showS: number;
  measuredS: number;
  mediaS: number;
  hlsShortS: number;
  discontinuities: number;
  /** The largest media-time gap between consecutive segments listed in the window (by their dates), ms. */
  largestGapMs: number;
  recordingS: number;
  /** Seconds of video in the recording (frames / frame rate). */
  recordingVideoS: number;
  recordingShortS: number;
  /** The largest time between consecutive video frames of the recording, ms. */
  recordingLargestGapMs: number;
  firstSegmentMs: number;
  changes: { change: string; layoutMs: number }[];
};

const server = await startServer({ HLS: 'true' });
const browser = await launchBrowser();

/** One show: a phase with the host alone, then one phase per change (or `quietPhases` more without any). */
async function show(room: string, changes: { name: string; act: (host: Page) => Promise<void>; expect: Layout }[], quietPhases = 0): Promise<ShowResult> {
  const base = `${server.url}/hls/${room}/v0`;
  const host = await openSolidColourPage(browser, `${server.url}/host/${room}`, [230, 20, 20]);
  const liveAt = Date.now();
  await goLive(host);
  await eventually(() => liveStatus(server.url, room), (s) => s.hlsUrl !== null, 30_000);
  const watch = new PlaylistWatch(`${base}/index.m3u8`);
  const firstSegment = await eventually(async () => watch.segments.length, (n) => n > 0, 30_000);
  if (firstSegment === 0) throw new Error(`${room}: no HLS segment`);
  const firstSegmentMs = watch.segments[0]!.seenAt - liveAt;
  // Steady state first: the measured window starts once the output has run a few seconds.
  await sleep(4000);
  const from = Date.now();
  const measured: ShowResult['changes'] = [];
  await sleep(PHASE_MS);
  for (const change of changes) {
    const at = Date.now();
    await change.act(host);
    const layout = await eventually(() => newestLayout(watch), (l) => l === change.expect, 60_000);
    const layoutMs = Date.now() - at;
    if (layout !== change.expect) throw new Error(`${room}: ${change.name}: the layout never became "${change.expect}"`);
    measured.push({ change: change.name, layoutMs });
    log(`  ${change.name}: the new layout in a served LL-HLS part after ${layoutMs} ms`);
    await sleep(Math.max(0, at + PHASE_MS - Date.now()));
  }
  await sleep(quietPhases * PHASE_MS);
  const to = Date.now();
  await host.locator('#stop').click();
  const showS = (Date.now() - liveAt) / 1000;
  await watch.stop();
  const recording = await eventually(
    async () => ((await (await fetch(`${server.url}/api/recordings?room=${room}`)).json()) as { recordings: { status: string; url?: string }[] }).recordings[0],
    (r) => r?.status === 'ready',
    60_000,
  );
  const recordingS = (await probe(`${server.url}${recording!.url}`)).duration;
  const recordingVideoS = await videoSeconds(`${server.url}${recording!.url}`);
  const measuredS = (to - from) / 1000;
  const mediaS = watch.mediaBetween(from, to);
  const result: ShowResult = {
    showS,
    measuredS,
    mediaS,
    hlsShortS: measuredS - mediaS,
    discontinuities: watch.segments.filter((s) => s.afterDiscontinuity && s.seenAt > from).length,
    largestGapMs: Math.max(0, ...watch.gaps().filter((_, i) => watch.segments[i + 1]!.seenAt > from)),
    recordingS,
    recordingVideoS,
    recordingShortS: showS - recordingVideoS,
    recordingLargestGapMs: Math.max(...(await frameGaps(`${server.url}${recording!.url}`))),
    firstSegmentMs,
    changes: measured,
  };
  await host.context().close();
  return result;
}

let baseline: ShowResult;
let changed: ShowResult;
try {
  log(`baseline: the host alone for ${(5 * PHASE_MS) / 1000} s`);
  baseline = await show('stage-baseline', [], 4);
  log('four stage changes');
  let cohost: Page | undefined;
  changed = await show('stage-changes', [
    {
      name: 'co-host joins',
      expect: 'host and co-host',
      act: async (host) => {
        cohost = await openSolidColourPage(browser, `${server.url}/watch/stage-changes`, [20, 20, 230]);
        await cohost.locator('#request-stage').click({ timeout: 15_000 });
        await host.locator('#requests button', { hasText: 'accept' }).click({ timeout: 10_000 });
      },
    },
    { name: 'camera hidden', expect: 'host alone', act: (host) => host.locator('#stage-list button', { hasText: 'hide cam' }).click() },
    { name: 'camera shown', expect: 'host and co-host', act: (host) => host.locator('#stage-list button', { hasText: 'show cam' }).click() },
    { name: 'co-host leaves', expect: 'host alone', act: (host) => host.locator('#stage-list button', { hasText: 'remove' }).click() },
  ]);
  await cohost?.context().close();
} finally {
  await browser.close();
  await server.close();
}

const perChange = (pick: (r: ShowResult) => number) => Math.round(((pick(changed) - pick(baseline)) / changed.changes.length) * 100) / 100;
const report = {
  command: `npm run bench:stage-changes -- --phase-s ${PHASE_MS / 1000}`,
  date: new Date().toISOString(),
  settings: { phaseS: PHASE_MS / 1000, changes: changed.changes.map((c) => c.change) },
  perChange: {
    hlsLostS: perChange((r) => r.hlsShortS),
    recordingLostS: perChange((r) => r.recordingShortS),
    layoutMs: Object.fromEntries(changed.changes.map((c) => [c.change, c.layoutMs])),
    discontinuities: changed.discontinuities,
    largestHlsGapMs: changed.largestGapMs,
    largestRecordingGapMs: changed.recordingLargestGapMs,
  },
  baseline,
  changed,
};
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'stage-changes.json'), `${JSON.stringify(report, null, 2)}\n`);
log('');
log(`HLS: ${changed.mediaS.toFixed(2)} s of media in ${changed.measuredS.toFixed(2)} s with 4 changes (${changed.discontinuities} discontinuities); baseline ${baseline.mediaS.toFixed(2)} s in ${baseline.measuredS.toFixed(2)} s`);
log(`recording: ${changed.recordingVideoS.toFixed(2)} s of video (container ${changed.recordingS.toFixed(2)} s) of a ${changed.showS.toFixed(2)} s show with 4 changes; baseline ${baseline.recordingVideoS.toFixed(2)} s (${baseline.recordingS.toFixed(2)} s) of ${baseline.showS.toFixed(2)} s`);
log(`lost per change: HLS ${report.perChange.hlsLostS} s, recording ${report.perChange.recordingLostS} s`);
log(`largest gap with 4 changes: HLS ${changed.largestGapMs} ms between segments (by their dates), recording ${changed.recordingLargestGapMs} ms between video frames`);
log(`first segment after go live (HLS's own delay, baseline): ${baseline.firstSegmentMs} ms`);
log(`wrote ${join(values.out, 'stage-changes.json')}`);
