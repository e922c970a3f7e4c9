import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jumpToLiveIfFarBehind } from '../../client-sdk/src/hls-player.ts';

const ranges = (...spans: [number, number][]): TimeRanges => ({
  length: spans.length,
  start: (i) => spans[i]![0],
  end: (i) => spans[i]![1],
});

test('LL-HLS player: jumps to the live position only when it is out of hls.js catch-up range and the position is buffered', () => {
  const video = (currentTime: number, buffered: TimeRanges, paused = false) => ({ currentTime, buffered, paused });
  const hls = (latency: number) => ({ liveSyncPosition: 20.3, targetLatency: 0.7, latency });

  const behind = video(17, ranges([10, 16.5], [16.9, 21]));
  jumpToLiveIfFarBehind(hls(4), behind, 1);
  assert.equal(behind.currentTime, 20.3, '4 s behind with a 0.7 s target and 1 s segments: jumps');

  const near = video(19.5, ranges([16.9, 21]));
  jumpToLiveIfFarBehind(hls(1.6), near, 1);
  assert.equal(near.currentTime, 19.5, 'within a target duration of the target: left to hls.js, which speeds up');

  const notBuffered = video(17, ranges([16.9, 20]));
  jumpToLiveIfFarBehind(hls(4), notBuffered, 1);
  assert.equal(notBuffered.currentTime, 17, 'live position not buffered yet: no jump into a blank picture');

  const paused = video(17, ranges([16.9, 21]), true);
  jumpToLiveIfFarBehind(hls(4), paused, 1);
  assert.equal(paused.currentTime, 17, 'a paused player stays where the viewer left it');

  const unknown = video(17, ranges([16.9, 21]));
  jumpToLiveIfFarBehind({ liveSyncPosition: null, targetLatency: null, latency: 4 }, unknown, 1);
  assert.equal(unknown.currentTime, 17, 'no live position known yet');
});
