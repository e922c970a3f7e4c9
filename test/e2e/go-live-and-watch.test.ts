import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, goLive, mediaKeepsFlowing, openPage, RESULTS_DIR, useServerAndBrowser, viewerMedia } from '../helpers/browser.ts';

const env = useServerAndBrowser();

/** Successful signalling requests of one kind so far, all clients together (from /metrics). */
async function requestsOk(name: string): Promise<number> {
  const text = await (await fetch(`${env.server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('onstage_signalling_requests_total{') && l.includes(`request="${name}"`) && l.includes('result="ok"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}
const MEDIA_REQUESTS = ['createTransport', 'consume', 'resumeConsumer', 'connectTransport'] as const;

type WatchState = { firstFrameMs: number | undefined; ended: string | undefined };
const watchState = (page: Page) =>
  page.evaluate(() => {
    const o = (globalThis as unknown as { onstage: WatchState }).onstage;
    return { firstFrameMs: o.firstFrameMs, ended: o.ended };
  });

async function assertReceiving(page: Page, name: string): Promise<void> {
  await eventually(() => viewerMedia(page), (m) => m.videoFrames > 10 && m.audioBytes > 1000, 20_000);
  const { before, after } = await mediaKeepsFlowing(page);
  assert.ok(after.videoFrames > before.videoFrames + 10, `${name}: decoded frames rise (${before.videoFrames} → ${after.videoFrames})`);
  assert.ok(after.audioBytes > before.audioBytes, `${name}: audio bytes rise (${before.audioBytes} → ${after.audioBytes})`);
  assert.ok(after.width > 0, `${name}: video has a frame width`);
}

test('a host goes live in Chromium; two viewers see and hear it; both learn when it ends', { timeout: 180_000 }, async () => {
  const room = 'e2e-show';
  // Viewer A arrives before the host: it must get the show without reloading.
  const early = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  await early.waitForSelector('#badge:text("WAITING")', { timeout: 15_000 });

  const host = await openPage(env.browser, `${env.server.url}/host/${room}`);
  await goLive(host);

  await assertReceiving(early, 'viewer who joined before the host');
  const before = await Promise.all(MEDIA_REQUESTS.map(requestsOk));

  const lateLoadStart = Date.now();
  const late = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  await assertReceiving(late, 'viewer who joined after the host');

  // The late viewer's join brought its receive transport and running consumers: it only connected the transport.
  const made = (await Promise.all(MEDIA_REQUESTS.map(requestsOk))).map((n, i) => n - before[i]!);
  assert.deepEqual(Object.fromEntries(MEDIA_REQUESTS.map((r, i) => [r, made[i]])), { createTransport: 0, consume: 0, resumeConsumer: 0, connectTransport: 1 });

  const { firstFrameMs } = await watchState(late);
  assert.ok(firstFrameMs !== undefined && firstFrameMs > 0, 'late viewer recorded its first decoded frame');
  await late.screenshot({ path: `${RESULTS_DIR}viewer.png` });

  await host.locator('#stop').click();
  for (const [name, page] of [['early', early], ['late', late]] as const) {
    const state = await eventually(() => watchState(page), (s) => s.ended !== undefined, 5_000);
    assert.equal(state.ended, 'host_left', `${name} viewer was told the show ended`);
    const media = await viewerMedia(page);
    assert.equal(media.videoBytes + media.audioBytes, 0, `${name} viewer has no consumers left`);
  }

  const timings = { viewerPageLoadToFirstFrameMs: firstFrameMs, lateViewerWallClockMs: Date.now() - lateLoadStart };
  writeFileSync(`${RESULTS_DIR}e2e-timings.json`, `${JSON.stringify(timings, null, 2)}\n`);
  process.stdout.write(`# viewer page load → first decoded frame: ${firstFrameMs?.toFixed(0)} ms\n`);
});
