import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { OnstageServer } from '../../server/src/app.ts';
import { eventually, launchBrowser, mediaKeepsFlowing, openPage } from '../helpers/browser.ts';
import { probe } from '../helpers/hls.ts';
import { startServer } from '../helpers/server.ts';
import { testToken } from '../helpers/socket-client.ts';

/**
 * Going live from an RTMP encoder: FFmpeg pushes H.264 + AAC the way OBS or a hardware encoder
 * does, to rtmp://…/live/<host token>. Viewers watch on the ordinary watch page; HLS and the
 * recording are made from it.
 */
let server: OnstageServer;
let browser: Browser;
const logs: Record<string, unknown>[] = [];
before(async () => {
  [server, browser] = await Promise.all([startServer({ HLS: 'true', LOG_LEVEL: 'info' }, (entry) => logs.push(entry)), launchBrowser()]);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** FFmpeg as the encoder: a test pattern (640x360, 30 fps, keyframe every second) and a tone, H.264 (`bFrames` or not) + AAC over RTMP. */
function encoder(url: string, bFrames: boolean): ChildProcess {
  const args = [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'main', '-pix_fmt', 'yuv420p', '-g', '30', '-b:v', '1500k',
    ...(bFrames ? ['-bf', '2'] : ['-bf', '0', '-tune', 'zerolatency']),
    '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', url,
  ];
  return spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
const exited = (proc: ChildProcess) => new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
const ingestRunning = (room: string) => logs.find((l) => l['msg'] === 'RTMP ingest running' && l['room'] === room);

test('an RTMP encoder (H.264 main, no B-frames, AAC) goes live: forwarded without re-encoding; viewers decode it; HLS and the recording have it; stopping ends the show', { timeout: 120_000 }, async (t) => {
  const room = 'rtmp-show';
  assert.match(server.rtmpUrl ?? '', /^rtmp:\/\/127\.0\.0\.1:\d+\/live$/);
  // The studio page shows where an encoder publishes this room, and its key.
  const studio = await openPage(browser, `${server.url}/host/${room}`);
  await studio.waitForFunction(() => document.getElementById('stream-key')?.textContent?.startsWith('ey'));
  assert.equal(await studio.locator('#rtmp-url').textContent(), server.rtmpUrl, 'the RTMP server URL');
  assert.equal(await studio.locator('#whip-url').textContent(), `${server.url}/whip/${room}`, 'the WHIP URL');
  const shownKey = (await studio.locator('#stream-key').textContent()) ?? '';
  assert.deepEqual(
    (({ room: r, role }) => ({ r, role }))(JSON.parse(Buffer.from(shownKey.split('.')[1]!, 'base64url').toString()) as { room: string; role: string }),
    { r: room, role: 'host' },
    'the stream key is a host token of the room',
  );
  await studio.context().close();
  const viewer = await openPage(browser, `${server.url}/watch/${room}`);
  const push = encoder(`${server.rtmpUrl}/${testToken({ room, role: 'host', sub: 'rtmp-encoder' })}`, false);
  const running = await eventually(async () => ingestRunning(room), (l) => l !== undefined, 20_000);
  assert.equal(running?.['video'], 'forward', 'the video is forwarded as it is');
  assert.match(String(running?.['profileLevelId']), /^4d/, 'as H.264 main');
  const cmdline = readFileSync(`/proc/${String(running?.['ffmpegPid'])}/cmdline`, 'utf8').split('\0');
  assert.deepEqual(cmdline.slice(cmdline.indexOf('-c:v'), cmdline.indexOf('-c:v') + 2), ['-c:v', 'copy'], 'the ingest FFmpeg copies the video (no encoder runs)');

  const { before: b, after: a } = await eventually(() => mediaKeepsFlowing(viewer, 1000), ({ before: x, after: y }) => y.videoFrames > x.videoFrames + 10 && y.audioBytes > x.audioBytes, 30_000);
  assert.ok(a.videoFrames > b.videoFrames + 10, `the viewer decodes the encoder's video (${b.videoFrames} → ${a.videoFrames} frames)`);
  assert.ok(a.audioBytes > b.audioBytes, `…and receives its audio, AAC made Opus (${b.audioBytes} → ${a.audioBytes} bytes)`);
  const live = await eventually(async () => (await (await fetch(`${server.url}/api/live/${room}`)).json()) as { hlsUrl: string | null; ingest?: { protocol: string; video: string } }, (l) => l.hlsUrl !== null, 30_000);
  assert.ok(live.hlsUrl, 'the HLS output is up');
  assert.deepEqual(live.ingest, { protocol: 'rtmp', video: 'forward' }, '/api/live says the show comes over RTMP, its video forwarded');
  await new Promise((r) => setTimeout(r, 3000));

  // The encoder stops cleanly (FFmpeg ends its stream with deleteStream): the show ends at once.
  push.kill('SIGINT');
  await exited(push);
  const ended = await eventually(() => viewer.evaluate(() => (globalThis as unknown as { onstage: { ended?: string } }).onstage.ended), (r) => r !== undefined, 10_000);
  assert.equal(ended, 'host_left', 'the viewers are told the show ended');
  type Listed = { status: string; url?: string };
  const [recording] = await eventually(
    async () => ((await (await fetch(`${server.url}/api/recordings?room=${room}`)).json()) as { recordings: Listed[] }).recordings,
    (r) => r[0]?.status === 'ready',
    30_000,
  );
  assert.equal(recording?.status, 'ready');
  const probed = await probe(`${server.url}${recording!.url}`);
  t.diagnostic(`recording of the RTMP show: ${probed.duration.toFixed(2)} s`);
  assert.ok(probed.duration >= 3, `the recording holds the show (${probed.duration} s)`);
  assert.deepEqual(probed.streams.map((s) => s.codec_type).sort(), ['audio', 'video']);
  await viewer.context().close();
});

test('an RTMP encoder that sends B-frames is transcoded (WebRTC players cannot show them) and still watched', { timeout: 90_000 }, async () => {
  const room = 'rtmp-bframes';
  const viewer = await openPage(browser, `${server.url}/watch/${room}`);
  const push = encoder(`${server.rtmpUrl}/${testToken({ room, role: 'host', sub: 'rtmp-b' })}`, true);
  const running = await eventually(async () => ingestRunning(room), (l) => l !== undefined, 20_000);
  assert.equal(running?.['video'], 'transcode');
  assert.match(String(running?.['reason']), /B-frames/);
  const { ingest } = (await (await fetch(`${server.url}/api/live/${room}`)).json()) as { ingest?: { video: string; reason?: string } };
  assert.equal(ingest?.video, 'transcode', '/api/live says the video is transcoded');
  assert.match(ingest?.reason ?? '', /B-frames/, '…and why');
  const { before: b, after: a } = await eventually(() => mediaKeepsFlowing(viewer, 1000), ({ before: x, after: y }) => y.videoFrames > x.videoFrames + 10, 30_000);
  assert.ok(a.videoFrames > b.videoFrames + 10, `the viewer decodes the transcoded video (${b.videoFrames} → ${a.videoFrames} frames)`);
  push.kill('SIGINT');
  await exited(push);
  await viewer.context().close();
});

test('RTMP refusals: a stream key that is no token, a viewer token, another application; nothing goes live', { timeout: 60_000 }, async () => {
  const room = 'rtmp-refused';
  const attempts = [
    `${server.rtmpUrl}/not-a-token`,
    `${server.rtmpUrl}/${testToken({ room, role: 'viewer' })}`,
    `${server.rtmpUrl!.replace(/\/live$/, '/other')}/${testToken({ room, role: 'host' })}`,
  ];
  for (const url of attempts) {
    const push = encoder(url, false);
    const code = await exited(push);
    assert.notEqual(code, 0, `the encoder is refused (${url.replace(/\/[^/]+$/, '/…')})`);
  }
  const refusals = logs.filter((l) => l['msg'] === 'RTMP publish refused').map((l) => String(l['why']));
  assert.ok(refusals.some((w) => /not a valid host token/.test(w)));
  assert.ok(refusals.some((w) => /not a host token/.test(w)));
  assert.ok(refusals.some((w) => /publish to rtmp/.test(w)));
  const status = (await (await fetch(`${server.url}/api/live/${room}`)).json()) as { live: boolean };
  assert.equal(status.live, false, 'the room did not go live');
});
