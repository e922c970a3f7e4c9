import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, goLive, RESULTS_DIR, useServerAndBrowser } from '../helpers/browser.ts';
import { frameGaps, halvesColour, liveStatus, openSolidColourPage, PlaylistWatch, probe, segmentMedia, segmentsOf, videoPlayback } from '../helpers/hls.ts';

const env = useServerAndBrowser({ HLS: 'true' });

type Rgb = number[];
type Halves = { left: Rgb; right: Rgb };
const isRed = ([r, g, b]: Rgb) => r! > 150 && g! < 90 && b! < 90;
const isBlue = ([r, g, b]: Rgb) => b! > 150 && r! < 90 && g! < 90;
const hostAlone = (c: Halves | undefined) => c !== undefined && isRed(c.left) && isRed(c.right);
const hostAndCoHost = (c: Halves | undefined) => c !== undefined && isRed(c.left) && isBlue(c.right);

/**
 * Watches a room's top HLS rendition: every playlist fetched, and the colours of its newest
 * independent LL-HLS part (a few frames to decode: the test's own load stays small).
 */
function watchTopRendition(room: string) {
  const origin = env.server.url;
  const playlistUrl = `${origin}/hls/${room}/v0/index.m3u8`;
  const playlistsSeen: string[] = [];
  return {
    playlistUrl,
    playlistsSeen,
    async newest(): Promise<Halves | undefined> {
      const playlist = await (await fetch(playlistUrl)).text();
      playlistsSeen.push(playlist);
      const part = [...playlist.matchAll(/#EXT-X-PART:[^\n]*URI="([^"]+)",INDEPENDENT=YES/g)].at(-1)?.[1];
      return part ? segmentMedia(playlistUrl, playlist, part).then(halvesColour).catch(() => undefined) : undefined;
    },
  };
}

// A new camera needs a keyframe and its first decoded frame before the layout shows it; on a loaded
// 2-core machine everything can take many times longer than on an idle one.
const SLOW_MS = 60_000;

/** A red host goes live; the HLS output shows the host alone. */
async function redHostLive(room: string, top: ReturnType<typeof watchTopRendition>): Promise<{ host: Page; alone: Halves | undefined }> {
  const host = await openSolidColourPage(env.browser, `${env.server.url}/host/${room}`, [230, 20, 20]);
  await goLive(host);
  await eventually(() => liveStatus(env.server.url, room), (s) => s.hlsUrl !== null, 20_000);
  const alone = await eventually(() => top.newest(), hostAlone, 20_000);
  assert.ok(hostAlone(alone), `host alone fills the frame: ${JSON.stringify(alone)}`);
  return { host, alone };
}

/** A viewer whose camera is blue asks to come on stage and the host accepts. */
async function blueCoHostOnStage(host: Page, room: string): Promise<Page> {
  const cohost = await openSolidColourPage(env.browser, `${env.server.url}/watch/${room}`, [20, 20, 230]);
  await cohost.locator('#request-stage').click({ timeout: 15_000 });
  await host.locator('#requests button', { hasText: 'accept' }).click({ timeout: 10_000 });
  return cohost;
}

test('with a co-host on stage the HLS output shows host and co-host side by side; the layout follows the stage', { timeout: 300_000 }, async () => {
  const room = 'composite';
  const origin = env.server.url;
  const top = watchTopRendition(room);
  const { host, alone } = await redHostLive(room, top);

  // An HLS viewer watches throughout: the layout changes must not break its playback.
  const hlsViewer = await openSolidColourPage(env.browser, `${origin}/watch/${room}?mode=hls`, [0, 0, 0]);
  await eventually(() => videoPlayback(hlsViewer, '#hls-video'), (p) => p.frames > 10, 30_000);

  top.playlistsSeen.length = 0;
  const acceptedAt = Date.now();
  await blueCoHostOnStage(host, room);
  const both = await eventually(() => top.newest(), hostAndCoHost, SLOW_MS);
  const compositeMs = Date.now() - acceptedAt;
  process.stdout.write(`# co-host accepted → composite (host left, co-host right) in a served LL-HLS part: ${compositeMs} ms\n`);
  assert.ok(hostAndCoHost(both), `host left, co-host right: ${JSON.stringify(both)}`);

  // The mixer took the co-host in while it ran: hls.js plays on, with no discontinuity to cross.
  const afterJoin = await videoPlayback(hlsViewer, '#hls-video');
  const later = await eventually(() => videoPlayback(hlsViewer, '#hls-video'), (p) => p.currentTime > afterJoin.currentTime + 2, SLOW_MS);
  assert.ok(later.currentTime > afterJoin.currentTime + 2, `HLS playback goes on across the layout change (${afterJoin.currentTime} → ${later.currentTime})`);
  await hlsViewer.screenshot({ path: `${RESULTS_DIR}hls-composite.png` });
  assert.ok(!top.playlistsSeen.some((p) => p.includes('#EXT-X-DISCONTINUITY')), 'no playlist polled after the stage change marks a discontinuity');
  const playlist = await (await fetch(top.playlistUrl)).text();
  for (const s of segmentsOf(playlist)) {
    const res = await fetch(`${origin}/hls/${room}/v0/${s}`);
    assert.equal(res.status, 200, `${s} is served`);
    assert.ok((await res.arrayBuffer()).byteLength > 0, `${s} has bytes`);
  }

  // The host ends the co-host's turn: the host fills the frame again.
  await host.locator('#stage-list button', { hasText: 'remove' }).click();
  const backAlone = await eventually(() => top.newest(), hostAlone, SLOW_MS);
  assert.ok(hostAlone(backAlone), `host alone again: ${JSON.stringify(backAlone)}`);
  writeFileSync(`${RESULTS_DIR}hls-composite.json`, `${JSON.stringify({ compositeMs, alone, both, backAlone }, null, 2)}\n`);
});

test('a paused camera and a host whose producers are replaced after a reconnect change the layout, never end the output', { timeout: 360_000 }, async (t) => {
  const room = 'changes';
  const origin = env.server.url;
  const top = watchTopRendition(room);
  const liveAt = Date.now();
  const { host } = await redHostLive(room, top);
  // Every segment as it is listed, with its date: where a stage change's discontinuity falls, the
  // old run's media must end where the new run's begins.
  const timeline = new PlaylistWatch(top.playlistUrl);
  t.after(() => timeline.stop());
  await blueCoHostOnStage(host, room);
  const joined = await eventually(() => top.newest(), hostAndCoHost, SLOW_MS);
  assert.ok(hostAndCoHost(joined), `composite with the co-host: ${JSON.stringify(joined)}`);

  // The host hides the co-host's camera (the producer is paused): the host fills the frame again.
  await host.locator('#stage-list button', { hasText: 'hide cam' }).click();
  const hidden = await eventually(() => top.newest(), hostAlone, SLOW_MS);
  assert.ok(hostAlone(hidden), `a paused camera leaves the layout: ${JSON.stringify(hidden)}`);
  await host.locator('#stage-list button', { hasText: 'show cam' }).click();
  const shown = await eventually(() => top.newest(), hostAndCoHost, SLOW_MS);
  assert.ok(hostAndCoHost(shown), `the resumed camera is back in the layout: ${JSON.stringify(shown)} (recorder ${JSON.stringify((await liveStatus(origin, room)).recorder)})`);

  // The host's connection drops; the SDK reconnects and produces anew (new producer ids).
  const before = await liveStatus(origin, room);
  const cut = [...env.server.io.sockets.sockets.values()].filter((s) => {
    const claims = s.data.claims as { role: string; room: string } | undefined;
    return claims?.role === 'host' && claims.room === room;
  });
  assert.equal(cut.length, 1);
  cut[0]!.conn.close();
  // On resume the host's old producers close and new ones start: the mixer swaps the host's sources.
  const hostReconnects = () => host.evaluate(() => (globalThis as unknown as { onstage: { reconnects: number } }).onstage.reconnects);
  assert.equal(await eventually(hostReconnects, (n) => n === 1, 20_000), 1, 'the host reconnected');
  // No EXT-X-MEDIA-SEQUENCE tag means 0.
  const sequenceAt = (p: string) => Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(p)?.[1] ?? 0);
  const listedAtReplace = segmentsOf(await (await fetch(top.playlistUrl)).text()).at(-1)!;
  const back = await eventually(
    async () => ({ colours: await top.newest(), last: segmentsOf(top.playlistsSeen.at(-1) ?? '').at(-1) ?? '' }),
    (r) => r.last > listedAtReplace && hostAndCoHost(r.colours),
    SLOW_MS,
  );
  assert.ok(back.last > listedAtReplace && hostAndCoHost(back.colours), `host and co-host in a segment made from the new producers: ${JSON.stringify(back)}`);
  const after = await liveStatus(origin, room);
  assert.ok(after.live, 'the show went on');
  assert.equal(after.recorder?.restarts, before.recorder?.restarts, 'nothing restarted');
  assert.equal(after.recorder?.mixerPid, before.recorder?.mixerPid, 'one mixer for the whole show: stage changes never restart it');
  assert.equal(after.recorder?.ffmpegPid, before.recorder?.ffmpegPid, 'one packaging FFmpeg for the whole show');

  // Through all of it the live playlist only ever moved forward.
  const sequences = top.playlistsSeen.map(sequenceAt);
  assert.ok(sequences.every((n, i) => Number.isInteger(n) && (i === 0 || n >= sequences[i - 1]!)), `media sequence never goes back: ${sequences.join(',')}`);

  // One show, one recording, covering the show apart from the restarts' gaps.
  await host.locator('#stop').click();
  const showS = (Date.now() - liveAt) / 1000;
  await eventually(async () => timeline.latest, (t) => t.includes('#EXT-X-ENDLIST'), 15_000);
  await timeline.stop();
  // Stage changes lose nothing: no discontinuity, and consecutive segments follow each other in
  // media time (their dates) to within 0.3 s. In order: the co-host joins, the camera is hidden,
  // shown, the host reconnects.
  const gaps = timeline.gaps();
  process.stdout.write(`# HLS: ${timeline.segments.length} segments, ${timeline.segments.filter((s) => s.afterDiscontinuity).length} discontinuities, largest gap between segments ${Math.max(0, ...gaps)} ms\n`);
  assert.equal(timeline.segments.filter((s) => s.afterDiscontinuity).length, 0, 'no discontinuity');
  assert.ok(gaps.every((g) => g <= 300), `no HLS gap over 0.3 s: ${gaps.filter((g) => g > 300).join(', ')}`);
  const hlsS = timeline.segments.reduce((n, seg) => n + seg.seconds, 0);
  const listed = await eventually(
    async () => ((await (await fetch(`${origin}/api/recordings?room=${room}`)).json()) as { recordings: { status: string; url?: string }[] }).recordings,
    (r) => r[0]?.status === 'ready',
    30_000,
  );
  assert.equal(listed.length, 1, 'one recording for the show');
  const probed = await probe(`${origin}${listed[0]!.url}`);
  const recordingS = probed.duration - probed.start;
  process.stdout.write(`# show with 4 stage changes (co-host joins, camera hidden, shown, host reconnects) ${showS.toFixed(2)} s, HLS ${hlsS.toFixed(2)} s, recording ${recordingS.toFixed(2)} s\n`);
  assert.ok(recordingS > showS / 2, `the recording (${recordingS} s) covers most of the show (${showS} s)`);
  const recordingGaps = await frameGaps(`${origin}${listed[0]!.url}`);
  process.stdout.write(`# recording: largest gap between video frames ${Math.max(...recordingGaps)} ms\n`);
  assert.ok(recordingGaps.every((g) => g <= 300), `no recording gap over 0.3 s: ${recordingGaps.filter((g) => g > 300).join(', ')}`);
});
