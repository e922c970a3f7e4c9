import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, goLive, openPage, useServerAndBrowser, viewerMedia } from '../helpers/browser.ts';

// Two workers, and a router takes one viewer before the room spreads to the other worker.
const env = useServerAndBrowser({ WORKERS: '2', VIEWERS_PER_ROUTER: '1', GRACE_MS: '15000', LOG_LEVEL: 'fatal' });

async function metrics(): Promise<{ peers: Map<string, number>; pids: Map<string, number> }> {
  const text = await (await fetch(`${env.server.url}/metrics`)).text();
  const peers = new Map([...text.matchAll(/^onstage_worker_peers\{worker="(\d+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
  const pids = new Map([...text.matchAll(/^onstage_mediasoup_worker_info\{worker="(\d+)",pid="(\d+)"\} 1$/gm)].map((m) => [m[1]!, Number(m[2])]));
  return { peers, pids };
}

const idOf = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { onstage: { client: { participantId: string } } }).onstage.client.participantId);
const reconnects = (page: Page) => page.evaluate(() => (globalThis as unknown as { onstage: { reconnects: number } }).onstage.reconnects);

async function decodesHost(page: Page, hostId: string, label: string): Promise<void> {
  const frames = async () => (await viewerMedia(page)).byParticipant[hostId]?.framesDecoded ?? 0;
  await eventually(frames, (n) => n > 10, 20_000);
  const before = await frames();
  await new Promise((r) => setTimeout(r, 1500));
  const after = await frames();
  assert.ok(after > before + 10, `${label}: frames rise (${before} → ${after})`);
}

test('a room spreads its viewers over two workers; a dead worker\'s viewers move and keep watching', { timeout: 120_000 }, async () => {
  const room = 'big-show';
  const host = await openPage(env.browser, `${env.server.url}/host/${room}`);
  await goLive(host);
  const hostId = await idOf(host);
  const first = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  await decodesHost(first, hostId, 'viewer on the primary worker');
  const second = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  await decodesHost(second, hostId, 'viewer on the second worker (fed by pipeToRouter)');

  const { peers, pids } = await metrics();
  assert.equal(peers.size, 2, `peers on both workers: ${JSON.stringify([...peers])}`);
  const [primary, secondary] = [...peers.entries()].sort((a, b) => b[1] - a[1]);
  assert.deepEqual([primary?.[1], secondary?.[1]], [2, 1], 'host + first viewer on one worker, second viewer on the other');

  // Kill the second worker: its viewer reconnects, resumes, and gets media from a live router.
  const pid = pids.get(secondary![0]);
  assert.ok(pid, 'the second worker has a pid');
  process.kill(pid, 'SIGKILL');
  assert.equal(await eventually(() => reconnects(second), (n) => n >= 1, 15_000), 1, 'the moved viewer reconnected once');
  await decodesHost(second, hostId, 'moved viewer');
  await decodesHost(first, hostId, 'viewer on the surviving worker');
  assert.equal(await reconnects(first), 0, 'the other viewer was not disturbed');
});
