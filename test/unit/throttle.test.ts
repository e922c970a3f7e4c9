import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { Throttle } from '../../server/src/rooms/throttle.ts';

test('throttle: the first change goes out on the next turn, a burst after it becomes one flush per interval', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1000 });
  try {
    const flushes: number[] = [];
    const t = new Throttle(100, () => flushes.push(Date.now()));
    t.schedule();
    assert.deepEqual(flushes, [], 'not inside the call that changed something');
    mock.timers.tick(0);
    assert.deepEqual(flushes, [1000]);
    for (let i = 0; i < 1000; i++) t.schedule();
    mock.timers.tick(50);
    assert.deepEqual(flushes, [1000], 'nothing before the interval is over');
    mock.timers.tick(50);
    assert.deepEqual(flushes, [1000, 1100], '1000 changes, one flush');
    mock.timers.tick(500);
    t.schedule();
    mock.timers.tick(0);
    assert.deepEqual(flushes, [1000, 1100, 1600], 'after a quiet period it is immediate again');
    t.schedule();
    t.cancel();
    mock.timers.tick(1000);
    assert.equal(flushes.length, 3, 'cancel drops a pending flush');
  } finally {
    mock.timers.reset();
  }
});
