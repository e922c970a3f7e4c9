/**
 * Glass-to-glass delay by way of going live (`npm run bench:ingest`): the same time code
 * (bench/lib/timecode.ts) sent three ways, read back by a WebRTC viewer on the watch page:
 *   - studio: the host page in Chromium (VP8, simulcast), the baseline;
 *   - whip: a Chromium page publishing with a third-party WHIP client (whip-whep), H.264;
 *   - rtmp: FFmpeg publishing over RTMP (x264 veryfast + zerolatency, no B-frames, forwarded by
 *     the server without re-encoding), its frames painted by this process.
 * Each round measures each way for --measure-ms; prints p50/p95 per way and round, and over all,
 * and writes bench/results/ingest-latency.json. Runs inside a private network namespace.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser, BrowserContext } from 'playwright-core';
import { goLive, launchBrowser } from '../test/helpers/browser.ts';
import { startServer } from '../test/helpers/server.ts';
import { testToken } from '../test/helpers/socket-client.ts';
import { publishWithWhipClient } from '../test/helpers/whip-client.ts';
import { sleep } from './lib/proc.ts';
import { startTimecodeRtmpEncoder } from './lib/rtmp-timecode-encoder.ts';
import { delaySummary, median } from './lib/stats.ts';
import { installTimecodeCamera, readDelays } from './lib/timecode.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'measure-ms': { type: 'string', default: '10000' },
    out: { type: 'string', default: new URL('./results/', import.meta.url).pathname },
  },
});
const ROUNDS = Number(values.rounds);
const MEASURE_MS = Number(values['measure-ms']);
const WAYS = ['studio', 'whip', 'rtmp'] as const;
type Way = (typeof WAYS)[number];

const summary = delaySummary;
const log = (line: string) => process.stdout.write(`${line}\n`);

const server = await startServer({ HLS: 'false' });
const browser = await launchBrowser();

/** Starts sending the time code into `room` one way; returns how to stop. */
async function goLiveBy(way: Way, room: string, b: Browser): Promise<{ stop(): Promise<void> }> {
  const token = testToken({ room, role: 'host', sub: `${way}-host` });
  if (way === 'rtmp') return startTimecodeRtmpEncoder(`${server.rtmpUrl}/${token}`);
  const context: BrowserContext = await b.newContext();
  await installTimecodeCamera(context);
  const page = await context.newPage();
  if (way === 'studio') {
    await page.goto(`${server.url}/host/${room}`);
    await goLive(page);
  } else {
    await page.goto(`${server.url}/`);
    await publishWithWhipClient(page, `${server.url}/whip/${room}`, token, { videoCodec: 'h264-main', audio: true });
  }
  return { stop: () => context.close() };
}

const rounds: { round: number; way: Way; delay: ReturnType<typeof summary>; raw: number[] }[] = [];
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const way of WAYS) {
      const room = `ingest-${way}-${round}`;
      const source = await goLiveBy(way, room, browser);
      const viewer = await (await browser.newContext()).newPage();
      await viewer.goto(`${server.url}/watch/${room}?mode=webrtc`);
      await viewer.waitForSelector('.tile video', { timeout: 30_000 });
      // Past the first keyframe and the jitter buffer's first adjustments.
      await sleep(3000);
      const delays = await readDelays(viewer, '.tile video', MEASURE_MS);
      const delay = summary(delays);
      rounds.push({ round, way, delay, raw: delays });
      log(`round ${round} ${way.padEnd(6)} glass-to-glass p50 ${delay.p50} ms, p95 ${delay.p95} ms (${delay.samples} frames)`);
      await source.stop();
      await viewer.context().close();
      await sleep(1000);
    }
  }
} finally {
  await browser.close();
  await server.close();
}

const byWay = Object.fromEntries(
  WAYS.map((way) => {
    const mine = rounds.filter((r) => r.way === way);
    return [way, { ...summary(mine.flatMap((r) => r.raw)), medianOfRoundP50: median(mine.map((r) => r.delay.p50)), medianOfRoundP95: median(mine.map((r) => r.delay.p95)) }];
  }),
) as Record<Way, ReturnType<typeof summary> & { medianOfRoundP50: number; medianOfRoundP95: number }>;
const report = {
  command: `npm run bench:ingest -- --rounds ${ROUNDS} --measure-ms ${MEASURE_MS}`,
  date: new Date().toISOString(),
  machine: { cpus: cpus().length },
  ways: {
    studio: 'host page in Chromium, VP8 simulcast (baseline)',
    whip: 'Chromium page with the whip-whep client, H.264 main',
    rtmp: 'FFmpeg over RTMP, x264 veryfast zerolatency, no B-frames, forwarded without re-encoding',
  },
  overall: byWay,
  rounds: rounds.map(({ raw: _raw, ...r }) => r),
};
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'ingest-latency.json'), `${JSON.stringify(report, null, 2)}\n`);
log('');
for (const way of WAYS) log(`${way.padEnd(6)} p50 ${byWay[way].p50} ms, p95 ${byWay[way].p95} ms over ${byWay[way].samples} frames (median of round p50s ${byWay[way].medianOfRoundP50} ms)`);
log(`wrote ${join(values.out, 'ingest-latency.json')}`);
