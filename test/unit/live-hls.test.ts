import assert from 'node:assert/strict';
import { test } from 'node:test';
import hlsParser from 'hls-parser';
import { LiveLadder } from '../../recorder/src/hls/live-ladder.ts';
import { LiveRendition } from '../../recorder/src/hls/live-rendition.ts';
import { LADDER } from '../../recorder/src/layout.ts';
import type { Fmp4Fragment } from '../../recorder/src/hls/fmp4.ts';

// Every playlist written or read here is checked against the library's reading of the spec.
hlsParser.setOptions({ strictMode: true });

const TIMING = { segmentSeconds: 1, partTargetS: 0.233, listSize: 3 };
/** Five 0.2 s fragments per second, the first of each second a keyframe: FFmpeg's output shape. */
const fragment = (n: number): Fmp4Fragment => ({ bytes: Buffer.from(`f${n};`), startS: n * 0.2, durationS: 0.2, independent: n % 5 === 0 });
const feed = (r: LiveRendition, from: number, to: number) => {
  for (let n = from; n < to; n++) r.append(fragment(n));
};
const parse = (text: string) => hlsParser.parse(text) as InstanceType<typeof hlsParser.types.MediaPlaylist>;

test('LL-HLS rendition: keyframe-aligned segments of parts, a preload hint, server control, readable by a playlist parser', () => {
  const r = new LiveRendition(TIMING);
  r.begin(Buffer.from('init-1'));
  feed(r, 0, 12);
  const text = r.playlist([{ uri: '../v1/index.m3u8', edge: { msn: 2, part: 1 } }]);
  assert.match(text, /#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,HOLD-BACK=3,PART-HOLD-BACK=1\.5$/m);
  assert.match(text, /#EXT-X-PART-INF:PART-TARGET=0\.233/);
  assert.match(text, /#EXT-X-MAP:URI="init1\.mp4"/);
  assert.match(text, /#EXT-X-PART:DURATION=0\.2,URI="seg000000\.0\.m4s",INDEPENDENT=YES/);
  assert.match(text, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg000002\.2\.m4s"/);
  assert.match(text, /#EXT-X-RENDITION-REPORT:URI="\.\.\/v1\/index\.m3u8",LAST-MSN=2,LAST-PART=1/);
  const playlist = parse(text);
  assert.deepEqual(playlist.segments.slice(0, 2).map((s) => [s.uri, s.duration]), [['seg000000.m4s', 1], ['seg000001.m4s', 1]]);
  assert.equal(playlist.partTargetDuration, 0.233);
  // Segment bytes are its parts' bytes; parts are served one by one.
  assert.equal(r.segment(1)?.toString(), 'f5;f6;f7;f8;f9;');
  assert.equal(r.part(2, 1)?.toString(), 'f11;');
  assert.equal(r.part(2, 2), undefined);
  assert.deepEqual(r.edge(), { msn: 2, part: 1 });
});

test('LL-HLS rendition: a new run starts with a discontinuity and its own init; old segments leave the window', () => {
  const r = new LiveRendition(TIMING);
  r.begin(Buffer.from('init-1'));
  feed(r, 0, 7);
  r.begin(Buffer.from('init-2'));
  // The new run's output starts over at its own timeline, with a keyframe.
  feed(r, 0, 31);
  const text = r.playlist([]);
  const playlist = parse(text);
  assert.equal(playlist.mediaSequenceBase, 5, 'the last three complete segments listed (listSize), then the open one');
  assert.equal(playlist.discontinuitySequenceBase, 1);
  assert.doesNotMatch(text, /init1\.mp4/);
  assert.equal(r.init(1), undefined, 'an init no listed segment uses is dropped');
  assert.equal(r.init(2)?.toString(), 'init-2');
  // A short segment where the first run stopped, then the new run's segments.
  const early = new LiveRendition(TIMING);
  early.begin(Buffer.from('init-1'));
  feed(early, 0, 7);
  early.begin(Buffer.from('init-2'));
  feed(early, 0, 6);
  const t2 = early.playlist([]);
  assert.match(t2, /#EXTINF:1,\nseg000000\.m4s/);
  assert.match(t2, /#EXTINF:0\.4,\nseg000001\.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init2\.mp4"/);
  early.end();
  assert.match(early.playlist([]), /#EXT-X-ENDLIST/);
  assert.doesNotMatch(early.playlist([]), /PRELOAD-HINT/);
});

test('LL-HLS rendition: fragments before a keyframe are not served; nothing before begin()', () => {
  const r = new LiveRendition(TIMING);
  r.append(fragment(0));
  assert.equal(r.edge(), undefined);
  r.begin(Buffer.from('init'));
  r.append(fragment(3));
  assert.equal(r.edge(), undefined, 'a segment starts at a keyframe');
  r.append(fragment(5));
  assert.deepEqual(r.edge(), { msn: 0, part: 0 });
});

test('LL-HLS blocking reload: waits for the part, answers at once when it exists, 400 too far ahead, 503 when late', async () => {
  const ladder = new LiveLadder(LADDER.slice(), { ...TIMING, segmentSeconds: 0.1 });
  for (const r of ladder.renditions) r.begin(Buffer.from('init'));
  for (const r of ladder.renditions) feed(r, 0, 3);
  assert.equal(ladder.ready, true);
  const pending = ladder.answer('v0/index.m3u8', new URLSearchParams('_HLS_msn=0&_HLS_part=3'));
  let settled = false;
  void pending.then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false, 'held until part 3 exists');
  ladder.renditions[0]!.append(fragment(3));
  const answer = await pending;
  assert.equal(answer?.status, 200);
  assert.match(String(answer?.body), /seg000000\.3\.m4s/);
  assert.match(String(answer?.body), /#EXT-X-RENDITION-REPORT:URI="\.\.\/v1\/index\.m3u8",LAST-MSN=0,LAST-PART=2/);
  assert.equal((await ladder.answer('v0/index.m3u8', new URLSearchParams('_HLS_msn=0&_HLS_part=1')))?.status, 200);
  assert.equal((await ladder.answer('v0/index.m3u8', new URLSearchParams('_HLS_msn=9')))?.status, 400);
  assert.equal((await ladder.answer('v0/index.m3u8', new URLSearchParams('_HLS_msn=x')))?.status, 400);
  assert.equal((await ladder.answer('v0/index.m3u8', new URLSearchParams('_HLS_msn=1')))?.status, 503, 'not there within three target durations');
  // A preload-hinted part is answered once it exists.
  const hinted = ladder.answer('v1/seg000000.3.m4s', new URLSearchParams());
  ladder.renditions[1]!.append(fragment(3));
  assert.equal((await hinted)?.body.toString(), 'f3;');
  assert.equal((await ladder.answer('master.m3u8', new URLSearchParams()))?.contentType, 'application/vnd.apple.mpegurl');
  assert.equal((await ladder.answer('v0/init1.mp4', new URLSearchParams()))?.contentType, 'video/mp4');
  for (const bad of ['v9/index.m3u8', '../x', 'v0/seg1.ts', 'v0/init9.mp4']) assert.equal(await ladder.answer(bad, new URLSearchParams()), undefined, bad);
});
