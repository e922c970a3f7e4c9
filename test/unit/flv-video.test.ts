import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFlvVideoTag } from '../../server/src/rtmp/flv-video.ts';

test('FLV video tags: the AVC sequence header gives profile-level-id; frames give keyframe and composition time (B-frames)', () => {
  // 0x17 = keyframe + AVC; packet type 0; cts 0; AVCDecoderConfigurationRecord 01 64 00 28 … (high, level 4.0).
  const config = Buffer.from([0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x28, 0xff, 0xe1]);
  assert.deepEqual(readFlvVideoTag(config), { kind: 'avc-config', profileLevelId: '640028' });
  assert.deepEqual(readFlvVideoTag(Buffer.from([0x17, 0x01, 0x00, 0x00, 0x00, 0x00])), { kind: 'avc-frame', keyframe: true, compositionTimeMs: 0 });
  assert.deepEqual(readFlvVideoTag(Buffer.from([0x27, 0x01, 0x00, 0x00, 0x43, 0x00])), { kind: 'avc-frame', keyframe: false, compositionTimeMs: 67 }, 'a B-frame reference: shown 67 ms later');
  assert.equal((readFlvVideoTag(Buffer.from([0x27, 0x01, 0xff, 0xff, 0xdf, 0x00])) as { compositionTimeMs: number }).compositionTimeMs, -33, 'signed');
  assert.deepEqual(readFlvVideoTag(Buffer.from([0x12, 0x00])), { kind: 'other', codecId: 2 }, 'Sorenson H.263 is not H.264');
  assert.deepEqual(readFlvVideoTag(Buffer.from([0x90, 0x68, 0x76, 0x63, 0x31])), { kind: 'other', codecId: -1 }, 'enhanced RTMP (HEVC) is not H.264');
  assert.deepEqual(readFlvVideoTag(Buffer.alloc(0)), { kind: 'other', codecId: -1 });
});
