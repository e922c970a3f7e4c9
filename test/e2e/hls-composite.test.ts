import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, goLive, RESULTS_DIR, useServerAndBrowser } from '../helpers/browser.ts';
import { halvesColour, liveStatus, openSolidColourPage, segmentsOf, videoPlayback } from '../helpers/hls.ts';
import { writeFileSync } from 'node:fs';

const env = useServerAndBrowser({ HLS: 'true' });

type Rgb = number[];
const isRed = ([r, g, b]: Rgb) => r! > 150 && g! < 90 && b! < 90;
const isBlue = ([r, g, b]: Rgb) => b! > 150 && r! < 90 && g! < 90;

test('with a co-host on stage the HLS output shows host and co-host side by side; the layout follows the stage', { timeout: 180_000 }, async () => {
  const room = 'composite';
  const origin = env.server.url;
  const playlistUrl = `${origin}/hls/${room}/v0/index.m3u8`;
  const playlistsSeen: string[] = [];
  /** Colours of the newest segment of the top rendition. */
  const newest = async () => {
    const playlist = await (await fetch(playlistUrl)).text();
    playlistsSeen.push(playlist);
    const segment = segmentsOf(playlist).at(-1);
    return segment ? halvesColour(`${origin}/hls/${room}/v0/${segment}`).catch(() => undefined) : undefined;
  };

  const host = await openSolidColourPage(env.browser, `${origin}/host/${room}`, [230, 20, 20]);
  await goLive(host);
  await eventually(() => liveStatus(origin, room), (s) => s.hlsUrl !== null, 20_000);
  const alone = await eventually(newest, (c) => c !== undefined && isRed(c.left) && isRed(c.right), 20_000);
  assert.ok(alone && isRed(alone.left) && isRed(alone.right), `host alone fills the frame: ${JSON.stringify(alone)}`);

  // An HLS viewer watches throughout: the layout changes must not break its playback.
  const hlsViewer = await openSolidColourPage(env.browser, `${origin}/watch/${room}?mode=hls`, [0, 0, 0]);
  await eventually(() => videoPlayback(hlsViewer, '#hls-video'), (p) => p.frames > 10, 30_000);

  // A viewer whose camera is blue comes on stage.
  const cohost = await openSolidColourPage(env.browser, `${origin}/watch/${room}`, [20, 20, 230]);
  await cohost.locator('#request-stage').click({ timeout: 15_000 });
  const acceptedAt = Date.now();
  playlistsSeen.length = 0;
  await host.locator('#requests button', { hasText: 'accept' }).click({ timeout: 10_000 });
  const both = await eventually(newest, (c) => c !== undefined && isRed(c.left) && isBlue(c.right), 30_000);
  const compositeMs = Date.now() - acceptedAt;
  process.stdout.write(`# co-host accepted → composite (host left, co-host right) in a served segment: ${compositeMs} ms\n`);
  assert.ok(both && isRed(both.left) && isBlue(both.right), `host left, co-host right: ${JSON.stringify(both)}`);

  const afterJoin = await videoPlayback(hlsViewer, '#hls-video');
  await hlsViewer.waitForTimeout(4000);
  const later = await videoPlayback(hlsViewer, '#hls-video');
  assert.ok(later.currentTime > afterJoin.currentTime + 2, `HLS playback goes on across the layout change (${afterJoin.currentTime} → ${later.currentTime})`);
  await hlsViewer.screenshot({ path: `${RESULTS_DIR}hls-composite.png` });

  // The change is a discontinuity. It is looked for in the playlists polled since the co-host was
  // accepted: with a 6-segment window it may have scrolled out of the playlist by now.
  assert.ok(playlistsSeen.some((p) => p.includes('#EXT-X-DISCONTINUITY')), 'a playlist polled after the stage change marks a discontinuity');
  const playlist = await (await fetch(playlistUrl)).text();
  for (const s of segmentsOf(playlist)) {
    const res = await fetch(`${origin}/hls/${room}/v0/${s}`);
    assert.equal(res.status, 200, `${s} is served`);
    assert.ok((await res.arrayBuffer()).byteLength > 0, `${s} has bytes`);
  }

  // The host ends the co-host's turn: the host fills the frame again.
  await host.locator('#stage-list button', { hasText: 'remove' }).click();
  const backAlone = await eventually(newest, (c) => c !== undefined && isRed(c.left) && isRed(c.right), 30_000);
  assert.ok(backAlone && isRed(backAlone.right), `host alone again: ${JSON.stringify(backAlone)}`);
  writeFileSync(`${RESULTS_DIR}hls-composite.json`, `${JSON.stringify({ compositeMs, alone, both, backAlone }, null, 2)}\n`);
});
