/**
 * The viewer's first second (`npm run bench:join`): with a show live (studio page, HLS on), opens
 * --viewers fresh viewer pages one after another (each its own browser context: nothing cached)
 * and measures navigation → first decoded frame, with the steps in between from Navigation and
 * Resource Timing and the SDK's User Timing marks (client-sdk/src/join-timing.ts). After each, the
 * same-run baseline: a fresh "floor" page with no SDK that plays the show over WHEP in one round
 * trip (bench/lib/whep-floor.ts), what any page can reach on this machine at this load. Then the app
 * case: in one open page, the SDK leaves and watches again --viewers times (no page load), from
 * `watch()` to the first frame, twice: back to back (each join right after the previous one's
 * first frame: the host's encoder makes at most one keyframe per 300 ms, so this is a crowd
 * arriving together) and --gap-ms apart. All of it --runs times, each on a fresh server; the
 * summary is the median over runs of each run's p50 and p95. Also reports the bytes a viewer page
 * transfers (compressed) and checks that hls.js is not among them. Writes bench/results/join.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { goLive, launchBrowser } from '../test/helpers/browser.ts';
import { startServer } from '../test/helpers/server.ts';
import { delaySummary, median } from './lib/stats.ts';
import { floorFirstFrame } from './lib/whep-floor.ts';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '20' },
    runs: { type: 'string', default: '3' },
    'gap-ms': { type: 'string', default: '1000' },
    // Without HLS (no FFmpeg encoding the show): how much of the join is this machine's CPU.
    'no-hls': { type: 'boolean', default: false },
    out: { type: 'string', default: new URL('./results/', import.meta.url).pathname },
  },
});
const VIEWERS = Number(values.viewers);
const RUNS = Number(values.runs);
const GAP_MS = Number(values['gap-ms']);
const HLS = !values['no-hls'];
const ROOM = 'first-second';
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Milliseconds from navigation start to each step of one viewer's join. */
type Steps = {
  html: number;
  scripts: number;
  pageScript: number;
  domReady: number;
  token: number;
  connected: number;
  deviceLoaded: number;
  joined: number;
  transportConnected: number;
  firstFrame: number;
};
type Summary = { samples: number; p50: number; p95: number };
type Run = { pageLoad: Record<keyof Steps, Summary>; floorFirstFrame: Summary; sdkBackToBack: Summary; sdkSpaced: Summary; viewers: Steps[] };

async function stepsOf(page: Page): Promise<Steps> {
  await page.waitForFunction(() => (globalThis as unknown as { onstage?: { firstFrameMs?: number } }).onstage?.firstFrameMs !== undefined, null, { timeout: 20_000 });
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const scripts = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((r) => r.name.endsWith('.js'));
    const mark = (name: string) => performance.getEntriesByName(`onstage:${name}`)[0]?.startTime ?? NaN;
    return {
      html: nav.responseEnd,
      scripts: Math.max(...scripts.map((s) => s.responseEnd)),
      pageScript: mark('page-script'),
      domReady: nav.domContentLoadedEventEnd,
      token: mark('token'),
      connected: mark('connected'),
      deviceLoaded: mark('device-loaded'),
      joined: mark('joined'),
      transportConnected: mark('transport-connected'),
      firstFrame: mark('first-frame'),
    };
  });
}

/** What a fresh viewer page transferred (compressed, as sent), and whether hls.js was in it. */
async function pageWeight(page: Page, serverUrl: string): Promise<{ bytes: number; files: { url: string; bytes: number }[]; hlsJsLoaded: boolean }> {
  const files = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const resources = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((r) => /\.(js|css)$/.test(new URL(r.name).pathname));
    return [{ url: nav.name, bytes: nav.transferSize }, ...resources.map((r) => ({ url: r.name, bytes: r.transferSize }))];
  });
  let hlsJsLoaded = false;
  for (const f of files.filter((f) => f.url.endsWith('.js') && f.url.startsWith(serverUrl))) {
    if ((await (await fetch(f.url)).text()).includes('hlsManifestParsed')) hlsJsLoaded = true;
  }
  return { bytes: files.reduce((n, f) => n + f.bytes, 0), files: files.map((f) => ({ ...f, url: new URL(f.url).pathname })), hlsJsLoaded };
}

/** In an open page, the SDK leaves and watches again, `gapMs` after the previous first frame; watch() → first frame each time. */
async function sdkJoins(app: Page, gapMs: number, label: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < VIEWERS; i++) {
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    const ms = await app.evaluate(async (room) => {
      const client = (globalThis as unknown as { onstage: { client: { leave(): Promise<void>; watch(room: string): Promise<MediaStream> } } }).onstage.client;
      await client.leave();
      const video = document.createElement('video');
      video.muted = true;
      document.body.append(video);
      const t0 = performance.now();
      video.srcObject = await client.watch(room);
      void video.play();
      const t1 = await new Promise<number>((resolve) => video.requestVideoFrameCallback(() => resolve(performance.now())));
      video.remove();
      const since = (name: string) => Math.round((performance.getEntriesByName(`onstage:${name}`).at(-1)?.startTime ?? NaN) - t0);
      return { total: t1 - t0, connected: since('connected'), joined: since('joined'), transport: since('transport-connected') };
    }, ROOM);
    out.push(Math.round(ms.total));
    log(`  ${label} join ${String(i + 1).padStart(2)}: watch() → first frame ${Math.round(ms.total)} ms (connected ${ms.connected}, joined ${ms.joined}, transport ${ms.transport})`);
  }
  return out;
}

async function oneRun(browser: Browser, run: number): Promise<{ run: Run; weight: Awaited<ReturnType<typeof pageWeight>> }> {
  const server = await startServer({ HLS: String(HLS) });
  const pageLoads: Steps[] = [];
  const floor: number[] = [];
  let weight: Awaited<ReturnType<typeof pageWeight>> | undefined;
  try {
    const hostContext = await browser.newContext();
    const host = await hostContext.newPage();
    await host.goto(`${server.url}/host/${ROOM}`);
    await goLive(host);
    log(`run ${run}: show live in ${ROOM}${HLS ? ' (HLS on)' : ' (HLS off)'}; ${VIEWERS} fresh viewer pages, one after another`);
    for (let i = 0; i < VIEWERS; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${server.url}/watch/${ROOM}`);
      const steps = await stepsOf(page);
      weight ??= await pageWeight(page, server.url);
      pageLoads.push(steps);
      await context.close();
      floor.push(await floorFirstFrame(browser, server.url, ROOM));
      log(`  viewer ${String(i + 1).padStart(2)}: ${Object.entries(steps).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')}; floor page: firstFrame ${floor.at(-1)}`);
    }
    const appContext = await browser.newContext();
    const app = await appContext.newPage();
    await app.goto(`${server.url}/watch/${ROOM}`);
    await stepsOf(app);
    log(`run ${run}: the app case, one open page: the SDK leaves and watches again ${VIEWERS} times back to back, then ${GAP_MS} ms apart`);
    const backToBack = await sdkJoins(app, 0, 'back-to-back');
    const spaced = await sdkJoins(app, GAP_MS, 'spaced');
    await host.locator('#stop').click();
    await appContext.close();
    await hostContext.close();
    const step = (k: keyof Steps) => delaySummary(pageLoads.map((s) => Math.round(s[k])));
    const keys = Object.keys(pageLoads[0]!) as (keyof Steps)[];
    return {
      run: { pageLoad: Object.fromEntries(keys.map((k) => [k, step(k)])) as Run['pageLoad'], floorFirstFrame: delaySummary(floor), sdkBackToBack: delaySummary(backToBack), sdkSpaced: delaySummary(spaced), viewers: pageLoads },
      weight: weight!,
    };
  } finally {
    await server.close();
  }
}

const browser = await launchBrowser();
const runs: Run[] = [];
let weight: Awaited<ReturnType<typeof pageWeight>> | undefined;
try {
  for (let r = 1; r <= RUNS; r++) {
    const result = await oneRun(browser, r);
    runs.push(result.run);
    weight ??= result.weight;
  }
} finally {
  await browser.close();
}

/** The median over runs of each run's p50 and p95. */
const medianOf = (pick: (r: Run) => Summary) => ({ p50: median(runs.map((r) => pick(r).p50)), p95: median(runs.map((r) => pick(r).p95)) });
const stepNames = Object.keys(runs[0]!.pageLoad) as (keyof Steps)[];
const report = {
  command: `npm run bench:join -- --viewers ${VIEWERS} --runs ${RUNS} --gap-ms ${GAP_MS}${HLS ? '' : ' --no-hls'}`,
  date: new Date().toISOString(),
  machine: { cpus: cpus().length },
  settings: { viewers: VIEWERS, runs: RUNS, gapMs: GAP_MS, hls: HLS, freshContextPerViewer: true },
  summary: {
    pageLoad: Object.fromEntries(stepNames.map((k) => [k, medianOf((r) => r.pageLoad[k])])),
    floorFirstFrame: medianOf((r) => r.floorFirstFrame),
    sdkBackToBack: medianOf((r) => r.sdkBackToBack),
    sdkSpaced: medianOf((r) => r.sdkSpaced),
  },
  viewerPage: weight,
  runs,
};
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'join.json'), `${JSON.stringify(report, null, 2)}\n`);
log('');
log(`navigation → step, ms (median over ${RUNS} runs of p50 / p95, ${VIEWERS} fresh viewers each):`);
for (const [name, s] of Object.entries(report.summary.pageLoad)) log(`  ${name.padEnd(19)} ${s.p50} / ${s.p95}`);
log(`same-run floor (a page with no SDK, one inline script, one WHEP round trip): first frame p50 ${report.summary.floorFirstFrame.p50} ms, p95 ${report.summary.floorFirstFrame.p95} ms`);
log(`SDK join from an open page, watch() → first frame, back to back: p50 ${report.summary.sdkBackToBack.p50} ms, p95 ${report.summary.sdkBackToBack.p95} ms`);
log(`SDK join from an open page, watch() → first frame, ${GAP_MS} ms apart: p50 ${report.summary.sdkSpaced.p50} ms, p95 ${report.summary.sdkSpaced.p95} ms`);
log(`viewer page (WebRTC) transferred ${weight?.bytes} bytes compressed in ${weight?.files.length} files; hls.js among them: ${weight?.hlsJsLoaded}`);
log(`wrote ${join(values.out, 'join.json')}`);
