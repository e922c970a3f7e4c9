import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveFfmpeg } from '../../recorder/src/ffmpeg-binary.ts';
import { outputFd, packagerArgs } from '../../recorder/src/ffmpeg-args.ts';
import { gridCells, LADDER, renditionsFor } from '../../recorder/src/layout.ts';
import { masterPlaylist } from '../../recorder/src/hls/master-playlist.ts';
import { newRecordingId } from '../../recorder/src/recording-store.ts';
import { freePortPair } from '../../recorder/src/ports.ts';
import { createSocket } from 'node:dgram';
import { RecordingId } from '@onstage/protocol';

test('ladder: 720p and 360p; a shorter source is never scaled up', () => {
  assert.deepEqual(renditionsFor(undefined).map((r) => r.name), ['720p', '360p']);
  assert.deepEqual(renditionsFor(1080).map((r) => r.name), ['720p', '360p']);
  const sd = renditionsFor(480);
  assert.deepEqual(sd.map((r) => [r.name, r.width, r.height]), [['480p', 854, 480], ['360p', 640, 360]]);
  assert.ok(sd[0]!.videoKbps < 2500 && sd[0]!.videoKbps > 800, `bitrate by area (${sd[0]!.videoKbps})`);
  assert.deepEqual(renditionsFor(360).map((r) => r.name), ['360p']);
  assert.deepEqual(renditionsFor(241).map((r) => [r.name, r.width, r.height]), [['240p', 426, 240]]);
});

test('grid: as square as possible, cells even-sized and inside the canvas', () => {
  assert.deepEqual(gridCells(1, 1280, 720), [{ x: 0, y: 0, w: 1280, h: 720 }]);
  assert.deepEqual(gridCells(2, 1280, 720), [{ x: 0, y: 0, w: 640, h: 720 }, { x: 640, y: 0, w: 640, h: 720 }]);
  const four = gridCells(4, 1280, 720);
  assert.deepEqual(four.map((c) => [c.x, c.y]), [[0, 0], [640, 0], [0, 360], [640, 360]]);
  for (const n of [3, 5, 7, 9, 16]) {
    for (const c of gridCells(n, 1280, 720)) {
      assert.ok(c.w % 2 === 0 && c.h % 2 === 0, 'even sizes (yuv420p)');
      assert.ok(c.x + c.w <= 1280 && c.y + c.h <= 720, `cell inside the canvas (n=${n})`);
    }
  }
});

test('packager arguments: each rendition copied (not re-encoded) into fragmented MP4 on its own pipe, fragments of at most a part', () => {
  const args = packagerArgs(LADDER.slice(), 0.2);
  assert.equal(args[args.indexOf('-i') + 1], 'pipe:0');
  assert.equal(args[args.indexOf('-f') + 1], 'matroska', 'the mixer writes Matroska');
  assert.ok(!args.includes('libx264'), 'no second encode');
  assert.deepEqual(args.filter((a) => a.startsWith('0:')), ['0:v:0', '0:a:0', '0:v:1', '0:a:1']);
  assert.deepEqual(args.filter((a) => a.startsWith('pipe:') && a !== 'pipe:0'), [`pipe:${outputFd(0)}`, `pipe:${outputFd(1)}`]);
  assert.equal(args.filter((a) => a === 'empty_moov+default_base_moof+frag_keyframe').length, 2);
  assert.equal(args[args.indexOf('-frag_duration') + 1], '200000');
});

test('master playlist lists every rendition with bandwidth, resolution and codecs', () => {
  const text = masterPlaylist(LADDER.slice());
  assert.match(text, /^#EXTM3U\n/);
  assert.match(text, /BANDWIDTH=\d+,RESOLUTION=1280x720,CODECS="avc1\.4d401f,mp4a\.40\.2".*\nv0\/index\.m3u8/);
  assert.match(text, /RESOLUTION=640x360.*\nv1\/index\.m3u8/);
});

test('recording ids are path- and URL-safe and carry room and start time', () => {
  const id = newRecordingId('my_room-1', new Date('2026-11-25T12:34:56.789Z'));
  assert.match(id, /^my_room-1-20261125T123456Z-[0-9a-f]{4}$/);
  assert.ok(RecordingId.safeParse(id).success);
  assert.ok(!RecordingId.safeParse('../etc').success);
});

test('FFmpeg is found: the setting, else ffmpeg on PATH; a missing binary is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onstage-bin-'));
  mkdirSync(join(dir, 'bin'));
  for (const name of ['ffmpeg', 'ffprobe']) {
    writeFileSync(join(dir, 'bin', name), '#!/bin/sh\n');
    chmodSync(join(dir, 'bin', name), 0o755);
  }
  assert.deepEqual(resolveFfmpeg(undefined, join(dir, 'bin')), { ffmpeg: join(dir, 'bin', 'ffmpeg'), ffprobe: join(dir, 'bin', 'ffprobe'), source: 'PATH' });
  assert.equal(resolveFfmpeg(join(dir, 'bin', 'ffmpeg'), '').source, 'setting');
  assert.throws(() => resolveFfmpeg(join(dir, 'nope'), ''), /does not exist/);
  assert.throws(() => resolveFfmpeg(undefined, join(dir, 'empty')), /no FFmpeg/);
});

test('FFmpeg port pairs: even, above the ephemeral range, never handed out twice, never one in use', async () => {
  // Hold a block of ports as another process would.
  const held = await Promise.all(
    Array.from({ length: 200 }, (_, i) => 61000 + i).map(
      (port) => new Promise<ReturnType<typeof createSocket> | undefined>((resolve) => {
        const s = createSocket('udp4');
        s.once('error', () => resolve(undefined));
        s.bind(port, '127.0.0.1', () => resolve(s));
      }),
    ),
  );
  try {
    const pairs = await Promise.all(Array.from({ length: 40 }, () => freePortPair()));
    assert.equal(new Set(pairs).size, pairs.length, 'all different');
    for (const p of pairs) {
      assert.equal(p % 2, 0);
      assert.ok(p >= 61000 && p + 1 <= 64999, `${p} in range`);
      assert.ok(p >= 61200, `${p} is not one of the held ports`);
    }
  } finally {
    for (const s of held) s?.close();
  }
});
