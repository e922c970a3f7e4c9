import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, goLive, openPage, useServerAndBrowser, viewerMedia } from '../helpers/browser.ts';

const env = useServerAndBrowser({ WORKERS: '1', LOG_LEVEL: 'fatal' }); // the worker death is expected

type HostState = { live: boolean; ended?: string };
const hostState = (page: Page) =>
  page.evaluate(() => {
    const o = (globalThis as unknown as { onstage: HostState }).onstage;
    return { live: o.live, ended: o.ended };
  });

async function workerPid(): Promise<number> {
  const text = await (await fetch(`${env.server.url}/metrics`)).text();
  return Number(/^onstage_mediasoup_worker_info\{worker="0",pid="(\d+)"\} 1$/m.exec(text)?.[1]);
}

test('a show ended by a media failure: the host page says so and can go live again; the viewer sees the new show', { timeout: 120_000 }, async () => {
  const room = 'fragile-show';
  const host = await openPage(env.browser, `${env.server.url}/host/${room}`);
  await goLive(host);
  const viewer = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  await eventually(() => viewerMedia(viewer), (m) => m.videoFrames > 10, 20_000);

  process.kill(await workerPid(), 'SIGKILL');
  const after = await eventually(() => hostState(host), (s) => s.ended !== undefined, 15_000);
  assert.deepEqual(after, { live: false, ended: 'media_failure' }, 'the host page knows the show ended');
  assert.match(await host.locator('#status').innerText(), /server problem.*Go live/s);

  // Once the worker is replaced, the same page goes live again and the same viewer page sees it.
  await eventually(() => fetch(`${env.server.url}/readyz`).then((r) => r.status), (s) => s === 200, 15_000);
  await goLive(host);
  const newHost = await host.evaluate(() => (globalThis as unknown as { onstage: { client: { participantId: string } } }).onstage.client.participantId);
  const frames = async () => (await viewerMedia(viewer)).byParticipant[newHost]?.framesDecoded ?? 0;
  const decoded = await eventually(frames, (n) => n > 10, 30_000);
  assert.ok(decoded > 10, `the viewer decodes the new show's host (${decoded} frames)`);
});
