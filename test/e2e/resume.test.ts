import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, goLive, openPage, useServerAndBrowser, viewerMedia } from '../helpers/browser.ts';

const env = useServerAndBrowser({ GRACE_MS: '10000' });

/** Cuts the connection of every socket of this role on the server side (not a page reload). */
function cut(role: 'host' | 'viewer', participantId: string): number {
  let n = 0;
  for (const socket of env.server.io.sockets.sockets.values()) {
    const claims = socket.data.claims as { role: string } | undefined;
    if (claims?.role !== role) continue;
    // Only the socket of this participant: its session answered join with this id.
    if (socket.data.participantId !== undefined && socket.data.participantId !== participantId) continue;
    socket.conn.close();
    n++;
  }
  return n;
}

const reconnects = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { onstage: { reconnects: number } }).onstage.reconnects);

const hostFrames = async (page: Page, hostId: string) => (await viewerMedia(page)).byParticipant[hostId]?.framesDecoded ?? 0;
const pageState = (page: Page) =>
  page.evaluate(() => {
    const o = (globalThis as unknown as { onstage: { client: { participantId: string }; ended?: string } }).onstage;
    return { participantId: o.client.participantId, ended: o.ended };
  });

async function framesKeepRising(page: Page, hostId: string, label: string): Promise<void> {
  await eventually(() => hostFrames(page, hostId), (n) => n > 10, 20_000);
  const before = await hostFrames(page, hostId);
  await new Promise((r) => setTimeout(r, 1500));
  const after = await hostFrames(page, hostId);
  assert.ok(after > before + 10, `${label}: frames rise (${before} → ${after})`);
}

test('a viewer whose connection is cut resumes and keeps decoding; so does the show when the host drops', { timeout: 120_000 }, async () => {
  const room = 'flaky';
  const host = await openPage(env.browser, `${env.server.url}/host/${room}`);
  await goLive(host);
  const hostId = (await pageState(host)).participantId;
  const viewer = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  await framesKeepRising(viewer, hostId, 'before any cut');
  const viewerId = (await pageState(viewer)).participantId;

  // The viewer's connection is cut by the server: the SDK reconnects and resumes the same participant.
  const cutAt = Date.now();
  assert.equal(cut('viewer', viewerId), 1);
  assert.equal(await eventually(() => reconnects(viewer), (n) => n === 1, 10_000), 1, 'the viewer reconnected');
  await eventually(() => hostFrames(viewer, hostId), (n) => n > 10, 20_000);
  process.stdout.write(`# viewer cut → decoding again: ${Date.now() - cutAt} ms\n`);
  await framesKeepRising(viewer, hostId, 'viewer after its own cut');
  assert.equal((await pageState(viewer)).participantId, viewerId, 'same participant after resuming');

  // The host's connection is cut: viewers are told, the host comes back, and the show goes on.
  const hostCutAt = Date.now();
  assert.equal(cut('host', hostId), 1);
  assert.equal(await eventually(() => reconnects(host), (n) => n === 1, 10_000), 1, 'the host reconnected');
  // Its tracks are re-sent after the resume; the viewer consumes them anew.
  await eventually(() => hostFrames(viewer, hostId).then((n) => n < 10), (fresh) => fresh, 10_000);
  await framesKeepRising(viewer, hostId, 'viewer after the host came back');
  process.stdout.write(`# host cut → viewer decoding the host again: ${Date.now() - hostCutAt} ms\n`);
  assert.equal((await pageState(host)).participantId, hostId, 'the host resumed as the same participant');
  assert.equal((await pageState(viewer)).ended, undefined, 'the show never ended');
});
