import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, goLive, openPage, RESULTS_DIR, useServerAndBrowser, viewerMedia } from '../helpers/browser.ts';

// Chrome's fake microphone is quiet (about -70 to -90 dBov).
const env = useServerAndBrowser({ SPEAKER_THRESHOLD_DB: '-100' });

const participantId = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { onstage: { client: { participantId: string } } }).onstage.client.participantId);

test('a viewer comes on stage; another viewer sees and hears host and co-host; removal stops it at once', { timeout: 120_000 }, async () => {
  const room = 'lianmai';
  const host = await openPage(env.browser, `${env.server.url}/host/${room}`);
  await goLive(host);
  const a = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  const b = await openPage(env.browser, `${env.server.url}/watch/${room}`);
  await eventually(() => viewerMedia(b), (m) => m.videoFrames > 5, 20_000);
  const [hostId, aId] = [await participantId(host), await participantId(a)];

  // A asks; the host sees the request and accepts it with the page's own button.
  await a.locator('#request-stage').click();
  await host.locator('#requests button', { hasText: 'accept' }).click({ timeout: 10_000 });
  await a.waitForSelector('#leave-stage:not([hidden])', { timeout: 10_000 });

  // B decodes video and hears audio from both the host and A.
  const both = await eventually(
    () => viewerMedia(b),
    (m) => (m.byParticipant[hostId]?.framesDecoded ?? 0) > 30 && (m.byParticipant[aId]?.framesDecoded ?? 0) > 30 &&
      (m.byParticipant[aId]?.audioBytes ?? 0) > 1000,
    30_000,
  );
  const later = await new Promise((r) => setTimeout(r, 1500)).then(() => viewerMedia(b));
  for (const [who, id] of [['host', hostId], ['co-host', aId]] as const) {
    assert.ok((later.byParticipant[id]?.framesDecoded ?? 0) > (both.byParticipant[id]?.framesDecoded ?? 0), `${who} frames rise at B`);
    assert.ok((later.byParticipant[id]?.audioBytes ?? 0) > (both.byParticipant[id]?.audioBytes ?? 0), `${who} audio rises at B`);
  }
  // The host receives the co-host too.
  const atHost = await eventually(() => viewerMedia(host), (m) => (m.byParticipant[aId]?.framesDecoded ?? 0) > 10, 10_000);
  assert.ok((atHost.byParticipant[aId]?.framesDecoded ?? 0) > 10, 'host decodes the co-host');
  // Active-speaker detection runs over the stage members' audio (the fake microphone beeps).
  const speaker = await eventually(
    () => b.evaluate(() => (globalThis as unknown as { onstage: { activeSpeaker: string | null } }).onstage.activeSpeaker),
    (id) => id !== null,
    10_000,
  );
  process.stdout.write(`# active speaker seen by a viewer: ${speaker === hostId ? 'host' : speaker === aId ? 'co-host' : speaker}\n`);
  assert.ok(speaker === hostId || speaker === aId, `active speaker is a stage member (${speaker})`);
  await b.screenshot({ path: `${RESULTS_DIR}stage-viewer.png` });
  await host.screenshot({ path: `${RESULTS_DIR}stage-host.png` });

  // The host mutes A's microphone: B stops getting A's audio (and A's video keeps coming).
  await host.locator('#stage-list button', { hasText: 'mute mic' }).click();
  await b.waitForSelector('.tile .label:text("mic off")', { timeout: 5_000 });
  await new Promise((r) => setTimeout(r, 500));
  const m1 = await viewerMedia(b);
  await new Promise((r) => setTimeout(r, 1500));
  const m2 = await viewerMedia(b);
  assert.equal(m2.byParticipant[aId]?.audioBytes, m1.byParticipant[aId]?.audioBytes, 'no audio from a muted co-host');
  assert.ok((m2.byParticipant[aId]?.framesDecoded ?? 0) > (m1.byParticipant[aId]?.framesDecoded ?? 0), 'their video goes on');
  await host.locator('#stage-list button', { hasText: 'unmute mic' }).click();
  await eventually(() => viewerMedia(b), (m) => (m.byParticipant[aId]?.audioBytes ?? 0) > (m2.byParticipant[aId]?.audioBytes ?? 0), 5_000)
    .then((m) => assert.ok((m.byParticipant[aId]?.audioBytes ?? 0) > (m2.byParticipant[aId]?.audioBytes ?? 0), 'audio back after unmute'));

  // The host removes A: B's consumer of A closes within 2 s.
  const removedAt = Date.now();
  await host.locator('#stage-list button', { hasText: 'remove' }).click();
  const gone = await eventually(() => viewerMedia(b), (m) => m.byParticipant[aId] === undefined, 5_000);
  const closeMs = Date.now() - removedAt;
  assert.equal(gone.byParticipant[aId], undefined, 'B no longer receives A');
  assert.ok(closeMs < 2000, `B's consumer of A closed in ${closeMs} ms`);
  assert.ok((gone.byParticipant[hostId]?.framesDecoded ?? 0) > 0, 'B still receives the host');
  await a.waitForSelector('#request-stage:not([hidden])', { timeout: 5_000 });
  writeFileSync(`${RESULTS_DIR}stage-timings.json`, `${JSON.stringify({ removeToConsumerClosedMs: closeMs }, null, 2)}\n`);
  process.stdout.write(`# removal → co-host consumer closed at another viewer: ${closeMs} ms\n`);
});
