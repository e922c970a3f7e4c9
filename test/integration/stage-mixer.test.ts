import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { outputFd, packagerArgs } from '../../recorder/src/ffmpeg-args.ts';
import type { Rendition } from '../../recorder/src/layout.ts';
import { MediaProcess } from '../../recorder/src/media-process.ts';
import { freePortPair } from '../../recorder/src/ports.ts';
import { resolveStageMixer, StageMixer } from '../../recorder/src/stage-mixer.ts';
import { frameGaps, halvesOverTime, probe } from '../helpers/hls.ts';

const RENDITION: Rendition = { name: '180p', width: 320, height: 180, videoKbps: 300, audioKbps: 64 };
const VP8 = { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 };
const OPUS = { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000 };

/** FFmpeg sending a test picture (or tone) as RTP to a loopback port, a keyframe every half second. */
function rtpSender(input: string, codec: string[], port: number) {
  return spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', input, ...codec, '-f', 'rtp', '-payload_type', codec.includes('libopus') ? '100' : '96', `rtp://127.0.0.1:${port}`], { stdio: 'ignore' });
}
const vp8 = ['-c:v', 'libvpx', '-deadline', 'realtime', '-g', '15', '-b:v', '300k'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the stage mixer takes sources in and out and moves them while it runs; its output never pauses', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'onstage-mixer-'));
  const mixer = new StageMixer(resolveStageMixer(), { renditions: [RENDITION], fps: 30, keyframeFrames: 30 }, { cwd: dir, onLog: () => {} });
  const packager = new MediaProcess('ffmpeg', packagerArgs([RENDITION], 0.2), { cwd: dir, stdin: { from: mixer.media }, outputs: 1 });
  mixer.media.destroy();
  const chunks: Buffer[] = [];
  packager.output(outputFd(0)).on('data', (c: Buffer) => chunks.push(c));
  const flowing: string[] = [];
  const problems: string[] = [];
  mixer.on('flowing', (id) => flowing.push(id));
  mixer.on('problem', (message) => problems.push(message));
  const until = async (check: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end && !check(); ) await sleep(50);
    return check();
  };

  const [redPort, bluePort, tonePort] = await Promise.all([freePortPair(), freePortPair(), freePortPair()]);
  mixer.add({ id: 'red', kind: 'video', port: redPort, codec: VP8 });
  mixer.add({ id: 'tone', kind: 'audio', port: tonePort, codec: OPUS });
  const senders = [
    rtpSender('color=c=red:s=320x240:r=30', vp8, redPort),
    rtpSender('color=c=blue:s=320x240:r=30', vp8, bluePort),
    rtpSender('sine=f=440:r=48000', ['-c:a', 'libopus', '-b:a', '32k'], tonePort),
  ];
  try {
    assert.ok(await until(() => flowing.includes('red') && flowing.includes('tone'), 20_000), `red and tone flowing (${flowing.join(',')})`);
    mixer.layout([{ id: 'red', x: 0, y: 0, w: 320, h: 180 }]);
    await sleep(2000);
    mixer.add({ id: 'blue', kind: 'video', port: bluePort, codec: VP8 });
    assert.ok(await until(() => flowing.includes('blue'), 20_000), 'blue flowing');
    mixer.layout([{ id: 'red', x: 0, y: 0, w: 160, h: 180 }, { id: 'blue', x: 160, y: 0, w: 160, h: 180 }]);
    await sleep(2000);
    // Bad commands are reported and change nothing.
    mixer.add({ id: 'red', kind: 'video', port: redPort, codec: VP8 });
    mixer.add({ id: 'av1', kind: 'video', port: bluePort + 10, codec: { mimeType: 'video/AV2', payloadType: 97, clockRate: 90000 } });
    mixer.remove('nobody');
    assert.ok(await until(() => problems.length === 3, 5000), `three problems reported: ${problems.join(' | ')}`);
    mixer.remove('blue');
    mixer.layout([{ id: 'red', x: 0, y: 0, w: 320, h: 180 }]);
    await sleep(2000);
  } finally {
    for (const s of senders) s.kill();
  }
  const exit = await mixer.stop();
  assert.equal(exit.code, 0, `the mixer finishes cleanly: ${exit.stderrTail.join(' / ')}`);
  assert.equal((await packager.exited).code, 0, 'FFmpeg ends with the mixer');
  assert.match(problems.join(' | '), /exists/);
  assert.match(problems.join(' | '), /unsupported codec video\/AV2/);

  const file = join(dir, 'out.mp4');
  writeFileSync(file, Buffer.concat(chunks));
  const { streams } = await probe(file);
  assert.deepEqual(streams.map((s) => [s.codec_type, s.codec_name]), [['video', 'h264'], ['audio', 'aac']]);
  const gaps = await frameGaps(file);
  assert.ok(Math.max(...gaps) <= 100, `the output never pauses (largest gap between frames ${Math.max(...gaps)} ms)`);
  // The layouts in order, sampled four times a second: red alone, red beside blue, red alone.
  const red = (c: number[]) => c[0]! > 150 && c[2]! < 90;
  const blue = (c: number[]) => c[2]! > 150 && c[0]! < 90;
  const seen: string[] = [];
  for (const { left, right } of await halvesOverTime(file, 4)) {
    const layout = red(left) && red(right) ? 'red' : red(left) && blue(right) ? 'red|blue' : 'other';
    if (layout !== 'other' && seen.at(-1) !== layout) seen.push(layout);
  }
  assert.deepEqual(seen, ['red', 'red|blue', 'red'], 'layouts in order');
});
