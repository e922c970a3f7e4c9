import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, goLive, openPage, RESULTS_DIR, useServerAndBrowser } from '../helpers/browser.ts';
import { liveStatus, probe, segmentMedia, segmentsOf, videoPlayback } from '../helpers/hls.ts';
import { testToken } from '../helpers/socket-client.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'onstage-hls-'));
const LIST_SIZE = 4;
const env = useServerAndBrowser({ HLS: 'true', DATA_DIR: dataDir, HLS_LIST_SIZE: String(LIST_SIZE), HLS_RETAIN_MS: '3000' });

type Debug = { mode?: string; modeReason?: string };
const debugOf = (page: Page) => page.evaluate(() => (globalThis as unknown as { onstage: Debug }).onstage);

/** Waits until a page's <video> has decoded frames and its time moves on. */
async function assertPlays(page: Page, selector: string, name: string): Promise<void> {
  const first = await eventually(() => videoPlayback(page, selector), (p) => p.frames > 10 && p.currentTime > 0, 30_000);
  assert.ok(first.frames > 10, `${name}: frames decoded (${first.frames})`);
  await new Promise((r) => setTimeout(r, 2000));
  const later = await videoPlayback(page, selector);
  assert.ok(later.currentTime > first.currentTime + 1, `${name}: currentTime advances (${first.currentTime} → ${later.currentTime})`);
  assert.ok(later.frames > first.frames + 20, `${name}: frames keep coming (${first.frames} → ${later.frames})`);
  assert.ok(later.width > 0, `${name}: has a picture`);
}

test('a live show comes out as an HLS ladder that hls.js plays (?mode=hls); it ends with ENDLIST and a recording', { timeout: 180_000 }, async () => {
  const room = 'hls-show';
  const origin = env.server.url;
  const host = await openPage(env.browser, `${origin}/host/${room}`);
  const liveAt = Date.now();
  await goLive(host);

  // The master playlist appears within a bound (measured from the click on "Go live").
  const ready = await eventually(() => liveStatus(origin, room), (s) => s.hlsUrl !== null, 20_000);
  const masterMs = Date.now() - liveAt;
  process.stdout.write(`# go live → HLS master playlist served: ${masterMs} ms\n`);
  assert.equal(ready.hlsUrl, `/hls/${room}/master.m3u8`);
  assert.ok(masterMs < 10_000, `master playlist within 10 s (${masterMs} ms)`);

  const master = await fetch(`${origin}${ready.hlsUrl}`);
  assert.equal(master.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  assert.equal(master.headers.get('cache-control'), 'no-cache');
  const text = await master.text();
  assert.match(text, /RESOLUTION=1280x720/);
  assert.match(text, /RESOLUTION=640x360/);

  // Each rendition is Low-Latency HLS: fMP4 segments (H.264 + AAC at its size, short) made of
  // parts, a preload hint, blocking reload.
  let firstSeen = '';
  for (const [variant, height] of [['v0', 720], ['v1', 360]] as const) {
    const playlistUrl = `${origin}/hls/${room}/${variant}/index.m3u8`;
    const playlist = await eventually(async () => (await fetch(playlistUrl)).text(), (t) => segmentsOf(t).length >= 3, 20_000);
    firstSeen ||= `${origin}/hls/${room}/${variant}/${segmentsOf(playlist)[0]}`;
    assert.match(playlist, /#EXT-X-TARGETDURATION:[12]\n/, `${variant}: segments of at most 2 s`);
    assert.doesNotMatch(playlist, /ENDLIST/, `${variant}: live playlist is open`);
    assert.match(playlist, /#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES/);
    assert.match(playlist, /#EXT-X-PART-INF:PART-TARGET=0\.2\d*/);
    assert.match(playlist, /#EXT-X-PART:DURATION=0\.\d+,URI="seg\d+\.\d+\.m4s",INDEPENDENT=YES/);
    const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg(\d+)\.(\d+)\.m4s"/.exec(playlist);
    assert.ok(hint, `${variant}: a preload hint`);
    // Asking for the hinted part's playlist blocks until it exists, then lists it.
    const asked = Date.now();
    const blocked = await fetch(`${playlistUrl}?_HLS_msn=${Number(hint[1])}&_HLS_part=${hint[2]}`);
    const blockedText = await blocked.text();
    assert.equal(blocked.status, 200);
    assert.ok(blockedText.includes(`URI="seg${hint[1]}.${hint[2]}.m4s"`) || segmentsOf(blockedText).includes(`seg${hint[1]}.m4s`), `${variant}: the awaited part is listed`);
    process.stdout.write(`# ${variant}: blocking reload answered in ${Date.now() - asked} ms\n`);
    const segment = segmentsOf(playlist).at(-1)!;
    const res = await fetch(`${origin}/hls/${room}/${variant}/${segment}`);
    assert.equal(res.headers.get('content-type'), 'video/mp4');
    assert.match(res.headers.get('cache-control') ?? '', /max-age=\d+/);
    const probed = await probe(await segmentMedia(playlistUrl, playlist, segment));
    const video = probed.streams.find((s) => s.codec_type === 'video');
    assert.equal(video?.codec_name, 'h264', `${variant}: H.264`);
    assert.equal(video?.height, height, `${variant}: ${height}p`);
    assert.equal(probed.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac', `${variant}: AAC`);
    const seconds = probed.duration - probed.start;
    assert.ok(seconds > 0.5 && seconds < 2.5, `${variant}: a segment of about a second (${seconds} s)`);
  }
  // Old live segments are dropped as new ones come.
  await new Promise((r) => setTimeout(r, (LIST_SIZE + 3) * 1000));
  assert.equal((await fetch(firstSeen)).status, 404, `an old segment is gone (${firstSeen})`);
  // A path outside the HLS files is refused.
  assert.equal((await fetch(`${origin}/hls/${room}/..%2f..%2fetc%2fpasswd`)).status, 404);

  // A viewer forced to HLS plays it with hls.js.
  const viewer = await openPage(env.browser, `${origin}/watch/${room}?mode=hls`);
  await assertPlays(viewer, '#hls-video', 'HLS viewer');
  assert.equal((await debugOf(viewer)).mode, 'hls');
  await viewer.screenshot({ path: `${RESULTS_DIR}hls-viewer.png` });

  const showMs = Date.now() - liveAt;
  await host.locator('#stop').click();
  // The live playlists end; the recording is finished and listed.
  const ended = await eventually(async () => (await fetch(`${origin}/hls/${room}/v0/index.m3u8`)).text(), (t) => t.includes('#EXT-X-ENDLIST'), 15_000);
  assert.match(ended, /#EXT-X-ENDLIST/);
  // Some seconds (HLS_RETAIN_MS) after the end the live files go away.
  await eventually(async () => (await fetch(`${origin}/hls/${room}/master.m3u8`)).status, (s) => s === 404, 15_000);
  assert.equal((await fetch(`${origin}/hls/${room}/master.m3u8`)).status, 404);
  const listed = await eventually(
    async () => ((await (await fetch(`${origin}/api/recordings?room=${room}`)).json()) as { recordings: { status: string; durationS?: number; url?: string; id: string }[] }).recordings,
    (r) => r[0]?.status === 'ready',
    20_000,
  );
  const recording = listed[0]!;
  assert.equal(recording.status, 'ready');
  const probed = await probe(`${origin}${recording.url}`);
  process.stdout.write(`# show ${(showMs / 1000).toFixed(2)} s (go live → stop), recording ${probed.duration.toFixed(2)} s\n`);
  assert.ok(Math.abs(probed.duration - showMs / 1000) <= 2, `recording ${probed.duration} s within 2 s of the show's ${showMs / 1000} s`);
  assert.deepEqual(probed.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);

  // The watch page plays the past show.
  const replay = await openPage(env.browser, `${origin}/watch/${room}`);
  await replay.locator('#past-list button', { hasText: 'Play' }).first().click({ timeout: 10_000 });
  await replay.waitForURL(/recording=/);
  await assertPlays(replay, '#replay-video', 'replay');
  // Seeking needs byte ranges.
  const range = await fetch(`${origin}${recording.url}`, { headers: { range: 'bytes=100-199' } });
  assert.equal(range.status, 206);
  assert.equal((await range.arrayBuffer()).byteLength, 100);

  // Only the room's host may delete it.
  const del = (token?: string) =>
    fetch(`${origin}/api/recordings/${recording.id}`, { method: 'DELETE', headers: token ? { authorization: `Bearer ${token}` } : {} });
  const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
  const noToken = await del();
  assert.deepEqual([noToken.status, await codeOf(noToken)], [401, 'TOKEN_MISSING']);
  const viewerToken = await del(testToken({ room, role: 'viewer' }));
  assert.deepEqual([viewerToken.status, await codeOf(viewerToken)], [403, 'FORBIDDEN']);
  const otherHost = await del(testToken({ room: 'another-room', role: 'host' }));
  assert.equal(otherHost.status, 403);
  assert.equal((await del(testToken({ room, role: 'host' }))).status, 200);
  const gone = await fetch(`${origin}/api/recordings/${recording.id}`);
  assert.deepEqual([gone.status, await codeOf(gone)], [404, 'NOT_FOUND']);
  assert.equal((await fetch(`${origin}/api/recordings/not-an-id`)).status, 404);
});
