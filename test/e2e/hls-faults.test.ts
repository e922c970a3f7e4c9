import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, test } from 'node:test';
import type { Page } from 'playwright-core';
import { chromium, type Browser } from 'playwright-core';
import { Room } from '../../server/src/rooms/room.ts';
import { UnavailableError } from '../../server/src/errors.ts';
import { eventually, goLive, openPage, RESULTS_DIR, useServerAndBrowser } from '../helpers/browser.ts';
import { liveStatus, probe, segmentsOf, videoPlayback } from '../helpers/hls.ts';

const env = useServerAndBrowser({ HLS: 'true' });
const results: Record<string, unknown> = {};
after(() => writeFileSync(`${RESULTS_DIR}hls-faults.json`, `${JSON.stringify(results, null, 2)}\n`));

type Debug = { mode?: string; modeReason?: string };
const debugOf = (page: Page) => page.evaluate(() => (globalThis as unknown as { onstage: Debug }).onstage);

const metric = async (name: string) => {
  const text = await (await fetch(`${env.server.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
};

test('FFmpeg, then the stage mixer, killed mid-show: HLS goes on after a discontinuity each time; the recording keeps every side of the gaps', { timeout: 180_000 }, async () => {
  const room = 'crash';
  const origin = env.server.url;
  const playlistUrl = `${origin}/hls/${room}/v0/index.m3u8`;
  const host = await openPage(env.browser, `${origin}/host/${room}`);
  const liveAt = Date.now();
  await goLive(host);
  await eventually(async () => segmentsOf(await (await fetch(playlistUrl).then((r) => (r.ok ? r : undefined)))?.text() ?? ''), (s) => s.length >= 3, 20_000)
    .catch(() => undefined);
  const viewer = await openPage(env.browser, `${origin}/watch/${room}?mode=hls`);
  await eventually(() => videoPlayback(viewer, '#hls-video'), (p) => p.frames > 10, 30_000);
  await new Promise((r) => setTimeout(r, 3000));

  /** Kills a recorder process; a new run writes new segments into the same playlist, after a discontinuity. */
  const killAndResume = async (which: 'ffmpeg' | 'mixer', pid: number | undefined): Promise<number> => {
    assert.ok(pid, `a running ${which}`);
    const lastBefore = segmentsOf(await (await fetch(playlistUrl)).text()).at(-1)!;
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    const resumed = await eventually(
      async () => (await (await fetch(playlistUrl)).text()),
      (t) => { const s = segmentsOf(t); return s.length > 0 && s.at(-1)! > lastBefore && t.split(lastBefore)[1]?.includes('#EXT-X-DISCONTINUITY') === true; },
      20_000,
    );
    const gapMs = Date.now() - killedAt;
    process.stdout.write(`# ${which} SIGKILL → next segment listed: ${gapMs} ms\n`);
    results[`${which}KillToNextSegmentMs`] = gapMs;
    assert.ok(resumed.split(lastBefore)[1]?.includes('#EXT-X-DISCONTINUITY'), 'a discontinuity marks the restart');
    assert.ok(gapMs < 10_000, `HLS continues within 10 s (${gapMs} ms)`);
    return gapMs;
  };

  const before = await liveStatus(origin, room);
  const gapMs = await killAndResume('ffmpeg', before.recorder?.ffmpegPid);
  const after = await liveStatus(origin, room);
  assert.notEqual(after.recorder?.ffmpegPid, before.recorder?.ffmpegPid, 'a new FFmpeg');
  assert.equal(after.recorder?.restarts, 1);
  assert.equal(after.recorder?.lastError?.reason, 'ffmpeg_exited');
  assert.equal(await metric('onstage_recorder_failures_total{reason="ffmpeg_exited"}'), 1);

  // The HLS viewer plays on past the gap.
  const p1 = await videoPlayback(viewer, '#hls-video');
  await new Promise((r) => setTimeout(r, 4000));
  const p2 = await videoPlayback(viewer, '#hls-video');
  assert.ok(p2.currentTime > p1.currentTime + 2, `HLS viewer plays on (${p1.currentTime} → ${p2.currentTime})`);
  assert.ok(p2.frames > p1.frames + 30, `frames after the crash (${p1.frames} → ${p2.frames})`);

  // The stage mixer killed: the same again (its FFmpeg is stopped with it, both start anew).
  const mixerPid = after.recorder?.mixerPid;
  const mixerGapMs = await killAndResume('mixer', mixerPid);
  const afterMixer = await liveStatus(origin, room);
  assert.ok(afterMixer.recorder?.mixerPid !== undefined && afterMixer.recorder.mixerPid !== mixerPid, 'a new mixer');
  assert.equal(afterMixer.recorder?.restarts, 2);
  assert.equal(afterMixer.recorder?.lastError?.reason, 'mixer_exited');
  assert.equal(await metric('onstage_recorder_failures_total{reason="mixer_exited"}'), 1);
  const p3 = await eventually(() => videoPlayback(viewer, '#hls-video'), (p) => p.currentTime > p2.currentTime + 2, 15_000);
  assert.ok(p3.currentTime > p2.currentTime + 2, `HLS viewer plays on (${p2.currentTime} → ${p3.currentTime})`);

  const showMs = Date.now() - liveAt;
  await host.locator('#stop').click();
  type Listed = { recordings: { status: string; url?: string; runs: number }[] };
  const [recording] = (await eventually(
    async () => (await (await fetch(`${origin}/api/recordings?room=${room}`)).json()) as Listed,
    (l) => l.recordings[0]?.status === 'ready',
    20_000,
  )).recordings;
  assert.equal(recording?.status, 'ready');
  assert.equal(recording?.runs, 3, 'made from the runs before, between and after the crashes');
  const { duration } = await probe(`${origin}${recording!.url}`);
  const expected = (showMs - gapMs - mixerGapMs) / 1000;
  process.stdout.write(`# show ${(showMs / 1000).toFixed(2)} s, gaps ${(gapMs / 1000).toFixed(2)} + ${(mixerGapMs / 1000).toFixed(2)} s, recording ${duration.toFixed(2)} s\n`);
  results['crash'] = { showS: showMs / 1000, gapsS: [gapMs / 1000, mixerGapMs / 1000], recordingS: duration };
  assert.ok(Math.abs(duration - expected) <= 3, `recording ${duration} s ≈ show minus gaps ${expected} s (±3 s)`);
});

test('a viewer whose WebRTC transport is refused falls back to HLS by itself', { timeout: 120_000 }, async () => {
  const room = 'refused';
  const origin = env.server.url;
  const host = await openPage(env.browser, `${origin}/host/${room}`);
  await goLive(host);
  // The server refuses every viewer's receive transport (as a node out of media capacity would).
  const original = Room.prototype.createTransport;
  Room.prototype.createTransport = function (this: Room, participant, direction) {
    if (participant.role === 'viewer') return Promise.reject(new UnavailableError('no media capacity for WebRTC viewers'));
    return original.call(this, participant, direction);
  };
  try {
    const viewer = await openPage(env.browser, `${origin}/watch/${room}`);
    await eventually(() => debugOf(viewer), (d) => d.mode === 'hls', 15_000);
    const d = await debugOf(viewer);
    assert.equal(d.mode, 'hls');
    assert.match(d.modeReason ?? '', /no media capacity/);
    const playing = await eventually(() => videoPlayback(viewer, '#hls-video'), (p) => p.frames > 30 && p.currentTime > 1, 30_000);
    assert.ok(playing.frames > 30, `the fallback viewer decodes HLS frames (${playing.frames})`);
  } finally {
    Room.prototype.createTransport = original;
  }
});

test('a viewer whose WebRTC cannot connect (no usable network path) falls back to HLS after the timeout', { timeout: 120_000 }, async () => {
  const room = 'blocked';
  const origin = env.server.url;
  const host = await openPage(env.browser, `${origin}/host/${room}`);
  await goLive(host);
  // A second Chromium that may not use UDP or loopback for WebRTC: ICE never connects.
  const blocked: Browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required', '--force-webrtc-ip-handling-policy=disable_non_proxied_udp'],
  });
  try {
    const startedAt = Date.now();
    const viewer = await openPage(blocked, `${origin}/watch/${room}`);
    await eventually(() => debugOf(viewer), (d) => d.mode === 'hls', 20_000);
    const fallbackMs = Date.now() - startedAt;
    const d = await debugOf(viewer);
    assert.equal(d.mode, 'hls', `fell back (${d.modeReason})`);
    process.stdout.write(`# blocked WebRTC → HLS mode after ${fallbackMs} ms (${d.modeReason})\n`);
    results['blockedFallbackMs'] = fallbackMs;
    const playing = await eventually(() => videoPlayback(viewer, '#hls-video'), (p) => p.frames > 30 && p.currentTime > 1, 30_000);
    assert.ok(playing.frames > 30, `the fallback viewer decodes HLS frames (${playing.frames})`);
  } finally {
    await blocked.close();
  }
});
