import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { OnstageError } from '../../server/src/errors.ts';
import { Chat } from '../../server/src/rooms/chat.ts';
import { TokenBucket } from '../../server/src/rooms/token-bucket.ts';

let now = 0;
let chat: Chat;
const alice = { participantId: 'p-alice', identity: 'alice', displayName: 'Alice' };
const bob = { participantId: 'p-bob', identity: 'bob', displayName: 'Bob' };
const code = (fn: () => unknown) => {
  try {
    fn();
    return 'no error';
  } catch (err) {
    return err instanceof OnstageError ? err.code : String(err);
  }
};

beforeEach(() => {
  now = 0;
  chat = new Chat({ maxLength: 20, historySize: 3, burst: 3, perSecond: 1, roomBurst: 1000, roomPerSecond: 1000, duplicateWindowMs: 10_000, now: () => now });
});

test('token bucket: a burst, then one per refill period', () => {
  const b = new TokenBucket(2, 2, 0);
  assert.deepEqual([b.take(0), b.take(0), b.take(0)], [true, true, false]);
  assert.equal(b.take(499), false);
  assert.equal(b.take(500), true);
  assert.equal(b.take(10_000), true, 'refills up to the burst only');
  assert.equal(b.take(10_000), true);
  assert.equal(b.take(10_000), false);
});

test('messages are trimmed, stamped and kept in a bounded history', () => {
  const m = chat.post(alice, '  hello  ');
  assert.equal(m.text, 'hello');
  assert.equal(m.displayName, 'Alice');
  now += 1000;
  chat.post(bob, 'one');
  chat.post(bob, 'two');
  chat.post(bob, 'three');
  assert.deepEqual(chat.history().map((h) => h.text), ['one', 'two', 'three']);
});

test('empty and over-long messages are refused', () => {
  assert.equal(code(() => chat.post(alice, '   ')), 'INVALID_PAYLOAD');
  assert.equal(code(() => chat.post(alice, 'x'.repeat(21))), 'INVALID_PAYLOAD');
});

test('the N+1th message in the window is rate limited; others still get through', () => {
  chat.post(alice, 'a');
  chat.post(alice, 'b');
  chat.post(alice, 'c');
  assert.equal(code(() => chat.post(alice, 'd')), 'RATE_LIMITED');
  assert.equal(chat.post(bob, 'I can still talk').text, 'I can still talk');
  now += 1000;
  assert.equal(chat.post(alice, 'd').text, 'd');
});

test('the same text twice within the window is suppressed, whatever its case and spacing', () => {
  chat.post(alice, 'Nice show!!');
  assert.equal(code(() => chat.post(alice, 'nice   SHOW!')), 'DUPLICATE_MESSAGE');
  assert.equal(chat.post(bob, 'Nice show!!').participantId, 'p-bob', 'another person may say it');
  now += 10_000;
  assert.equal(chat.post(alice, 'Nice show!!').text, 'Nice show!!');
});

test('delete removes a message from the history', () => {
  const m = chat.post(alice, 'oops');
  chat.delete(m.messageId);
  assert.deepEqual(chat.history(), []);
  assert.equal(code(() => chat.delete(m.messageId)), 'MESSAGE_NOT_FOUND');
});

test('a banned identity cannot post, and its messages leave the history', () => {
  chat.post(alice, 'spam');
  chat.post(bob, 'hi');
  chat.ban('alice', ['p-alice']);
  assert.ok(chat.isBanned('alice'));
  assert.equal(code(() => chat.post({ ...alice, participantId: 'p-alice-2' }, 'again')), 'BANNED');
  assert.deepEqual(chat.history().map((m) => m.text), ['hi']);
});

test('the room as a whole has a chat budget: a crowd of senders is refused once it is spent', () => {
  const busy = new Chat({ maxLength: 20, historySize: 3, burst: 3, perSecond: 1, roomBurst: 4, roomPerSecond: 2, duplicateWindowMs: 10_000, now: () => now });
  const people = Array.from({ length: 6 }, (_, i) => ({ participantId: `p${i}`, identity: `u${i}`, displayName: `U${i}` }));
  assert.deepEqual(
    people.map((p) => code(() => busy.post(p, 'hi'))),
    ['no error', 'no error', 'no error', 'no error', 'RATE_LIMITED', 'RATE_LIMITED'],
  );
  now += 500;
  assert.equal(code(() => busy.post(people[5]!, 'hi')), 'no error', 'the budget refills');
});

test('what is kept per person is forgotten once it no longer matters, so churn does not grow it', () => {
  for (let i = 0; i < 100; i++) chat.post({ participantId: `p${i}`, identity: `u${i}`, displayName: 'U' }, 'hi');
  assert.equal(chat.tracked, 100);
  now += 10_000; // the duplicate window, and enough to refill every bucket
  chat.post(alice, 'later');
  assert.equal(chat.tracked, 1, 'only the person who just posted');
});
