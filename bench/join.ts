/**
 * The viewer's first second (`npm run bench:join`): with a show live (studio page, HLS on), opens
 * --viewers fresh viewer pages one after another (each its own browser context: nothing cached)
 * and measures navigation → first decoded frame, with the steps in between from Navigation and
 * Resource Timing and the SDK's User Timing marks (client-sdk/src/join-timing.ts). Then the app
 * case: in one open page, the SDK leaves and watches again --viewers times (no page load), from
 * `watch()` to the first frame. Prints p50/p95 per step and writes bench/results/join.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { goLive, launchBrowser } from '../test/helpers/browser.ts';
import { startServer } from '../test/helpers/server.ts';
import { delaySummary } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '20' },
    out: { type: 'string', default: new URL('./results/', import.meta.url).pathname },
  },
});
const VIEWERS = Number(values.viewers);
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

const server = await startServer({ HLS: 'true' });
const browser = await launchBrowser();
const pageLoads: Steps[] = [];
const sdkJoins: number[] = [];
try {
  const host = await (await browser.newContext()).newPage();
  await host.goto(`${server.url}/host/${ROOM}`);
  await goLive(host);
  log(`show live in ${ROOM}; ${VIEWERS} fresh viewer pages, one after another`);
  for (let i = 0; i < VIEWERS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/watch/${ROOM}`);
    const steps = await stepsOf(page);
    pageLoads.push(steps);
    const parts = Object.entries(steps).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ');
    log(`  viewer ${String(i + 1).padStart(2)}: ${parts}`);
    await context.close();
  }
  log(`the app case: one open page, the SDK leaves and watches again ${VIEWERS} times`);
  const app = await (await browser.newContext()).newPage();
  await app.goto(`${server.url}/watch/${ROOM}`);
  await stepsOf(app);
  for (let i = 0; i < VIEWERS; i++) {
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
    sdkJoins.push(ms.total);
    log(`  join ${String(i + 1).padStart(2)}: watch() → first frame ${Math.round(ms.total)} ms (connected ${ms.connected}, joined ${ms.joined}, transport ${ms.transport})`);
  }
  await host.locator('#stop').click();
} finally {
  await browser.close();
  await server.close();
}

const step = (k: keyof Steps) => delaySummary(pageLoads.map((s) => Math.round(s[k])));
const report = {
  command: `npm run bench:join -- --viewers ${VIEWERS}`,
  date: new Date().toISOString(),
  machine: { cpus: cpus().length },
  settings: { viewers: VIEWERS, hls: true, freshContextPerViewer: true },
  pageLoad: {
    html: step('html'),
    scripts: step('scripts'),
    pageScript: step('pageScript'),
    domReady: step('domReady'),
    token: step('token'),
    connected: step('connected'),
    deviceLoaded: step('deviceLoaded'),
    joined: step('joined'),
    transportConnected: step('transportConnected'),
    firstFrame: step('firstFrame'),
  },
  sdkJoin: delaySummary(sdkJoins.map(Math.round)),
  viewers: pageLoads,
};
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'join.json'), `${JSON.stringify(report, null, 2)}\n`);
log('');
log('navigation → step, ms (p50 / p95):');
for (const [name, s] of Object.entries(report.pageLoad)) log(`  ${name.padEnd(19)} ${s.p50} / ${s.p95}`);
log(`SDK join from an open page, watch() → first frame: p50 ${report.sdkJoin.p50} ms, p95 ${report.sdkJoin.p95} ms`);
log(`wrote ${join(values.out, 'join.json')}`);
