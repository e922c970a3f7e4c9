import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { OnstageError } from '../../server/src/errors.ts';
import { Stage } from '../../server/src/rooms/stage.ts';

let now = 0;
let stage: Stage;
let log: string[];

const TTL = 10_000;
const code = (fn: () => void): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof OnstageError) return err.code;
    throw err;
  }
  return 'no error';
};
const seats = () => stage.snapshot().seats.map((s) => `${s.role}:${s.participantId}`);

beforeEach(() => {
  now = 1_000;
  stage = new Stage({ maxSize: 3, ttlMs: TTL, maxPending: 20, now: () => now });
  log = [];
  stage.on('seated', (id) => log.push(`seated ${id}`));
  stage.on('unseated', (id, why) => log.push(`unseated ${id} ${why}`));
  stage.on('expired', (kind, id) => log.push(`expired ${kind} ${id}`));
  stage.setHost('H');
});

describe('request → answer', () => {
  test('a viewer requests and the host accepts: a co-host', () => {
    stage.request('A');
    assert.deepEqual(stage.snapshot().requests, [{ participantId: 'A', expiresAt: 1_000 + TTL }]);
    stage.answerRequest('A', true);
    assert.deepEqual(seats(), ['host:H', 'cohost:A']);
    assert.deepEqual(stage.snapshot().requests, []);
    assert.deepEqual(log, ['seated A']);
    assert.ok(stage.isOnStage('A'));
  });

  test('the host declines: nothing pending, nobody seated', () => {
    stage.request('A');
    stage.answerRequest('A', false);
    assert.deepEqual(seats(), ['host:H']);
    assert.deepEqual(stage.snapshot().requests, []);
    assert.equal(code(() => stage.answerRequest('A', true)), 'REQUEST_NOT_FOUND');
  });

  test('the viewer withdraws the request', () => {
    stage.request('A');
    stage.cancelRequest('A');
    assert.equal(code(() => stage.answerRequest('A', true)), 'REQUEST_NOT_FOUND');
    assert.equal(code(() => stage.cancelRequest('A')), 'REQUEST_NOT_FOUND');
  });

  test('asking twice refreshes the request', () => {
    stage.request('A');
    now += 5_000;
    stage.request('A');
    assert.deepEqual(stage.snapshot().requests, [{ participantId: 'A', expiresAt: 6_000 + TTL }]);
  });

  test('requests expire; accepting after expiry is REQUEST_NOT_FOUND', () => {
    stage.request('A');
    now += TTL;
    assert.equal(code(() => stage.answerRequest('A', true)), 'REQUEST_NOT_FOUND');
    assert.deepEqual(log, ['expired request A']);
    assert.deepEqual(seats(), ['host:H']);
  });

  test('sweep expires on its own and reports it', () => {
    stage.request('A');
    stage.invite('B');
    now += TTL - 1;
    assert.equal(stage.sweep(), false);
    now += 1;
    assert.equal(stage.sweep(), true);
    assert.deepEqual(log.sort(), ['expired invite B', 'expired request A']);
  });
});

describe('invite → answer', () => {
  test('the host invites and the viewer accepts', () => {
    stage.invite('B');
    assert.deepEqual(stage.snapshot().invites, [{ participantId: 'B', expiresAt: 1_000 + TTL }]);
    stage.answerInvite('B', true);
    assert.deepEqual(seats(), ['host:H', 'cohost:B']);
  });

  test('the viewer declines', () => {
    stage.invite('B');
    stage.answerInvite('B', false);
    assert.deepEqual(seats(), ['host:H']);
    assert.equal(code(() => stage.answerInvite('B', true)), 'INVITE_NOT_FOUND');
  });

  test('accepting an expired invitation is INVITE_NOT_FOUND', () => {
    stage.invite('B');
    now += TTL + 1;
    assert.equal(code(() => stage.answerInvite('B', true)), 'INVITE_NOT_FOUND');
    assert.deepEqual(seats(), ['host:H']);
  });

  test('answering an invitation nobody sent is INVITE_NOT_FOUND', () => {
    assert.equal(code(() => stage.answerInvite('Z', true)), 'INVITE_NOT_FOUND');
  });
});

describe('leaving the stage', () => {
  beforeEach(() => {
    stage.invite('A');
    stage.answerInvite('A', true);
    log = [];
  });

  test('a co-host leaves', () => {
    stage.leave('A');
    assert.deepEqual(seats(), ['host:H']);
    assert.deepEqual(log, ['unseated A left']);
    assert.equal(code(() => stage.leave('A')), 'NOT_ON_STAGE');
  });

  test('the host removes a co-host', () => {
    stage.remove('A');
    assert.deepEqual(log, ['unseated A removed']);
    assert.equal(code(() => stage.remove('A')), 'NOT_ON_STAGE');
  });

  test('a co-host who leaves the room loses the seat', () => {
    stage.forget('A');
    assert.deepEqual(log, ['unseated A gone']);
  });

  test('the show ends: every co-host steps down', () => {
    stage.request('B');
    stage.clear();
    assert.deepEqual(log, ['unseated A show_ended']);
    assert.deepEqual(stage.snapshot().requests, []);
  });

  test('the host mutes and unmutes a co-host', () => {
    stage.setMuted('A', 'audio', true);
    assert.deepEqual(stage.snapshot().seats[1]?.muted, { audio: true, video: false });
    stage.setMuted('A', 'audio', false);
    assert.deepEqual(stage.snapshot().seats[1]?.muted, { audio: false, video: false });
    assert.equal(code(() => stage.setMuted('viewer', 'video', true)), 'NOT_ON_STAGE');
  });

  test('someone on stage cannot request or be invited', () => {
    assert.equal(code(() => stage.request('A')), 'ALREADY_ON_STAGE');
    assert.equal(code(() => stage.invite('A')), 'ALREADY_ON_STAGE');
    assert.equal(code(() => stage.invite('H')), 'ALREADY_ON_STAGE');
  });
});

describe('races', () => {
  test('the host invites a viewer whose request is pending: seated at once', () => {
    stage.request('A');
    stage.invite('A');
    assert.deepEqual(seats(), ['host:H', 'cohost:A']);
    assert.deepEqual(stage.snapshot().invites, []);
  });

  test('a viewer requests while invited: seated at once', () => {
    stage.invite('A');
    stage.request('A');
    assert.deepEqual(seats(), ['host:H', 'cohost:A']);
    assert.deepEqual(stage.snapshot().requests, []);
  });

  test('an expired invitation does not turn a request into a seat', () => {
    stage.invite('A');
    now += TTL;
    stage.request('A');
    assert.deepEqual(seats(), ['host:H']);
    assert.deepEqual(stage.snapshot().requests.map((r) => r.participantId), ['A']);
  });

  test('two accepts at once for the last seat: one seat, one STAGE_FULL', () => {
    stage.invite('A'); // seat 2 of 3
    stage.answerInvite('A', true);
    stage.request('B');
    stage.invite('C');
    stage.answerRequest('B', true); // the last seat
    assert.equal(code(() => stage.answerInvite('C', true)), 'STAGE_FULL');
    assert.deepEqual(seats(), ['host:H', 'cohost:A', 'cohost:B']);
  });

  test('a full stage takes no new requests or invitations', () => {
    stage.invite('A');
    stage.answerInvite('A', true);
    stage.invite('B');
    stage.answerInvite('B', true);
    assert.equal(code(() => stage.request('C')), 'STAGE_FULL');
    assert.equal(code(() => stage.invite('C')), 'STAGE_FULL');
  });

  test('the requester disconnects mid-handshake: accepting finds nothing', () => {
    stage.request('A');
    stage.forget('A');
    assert.equal(code(() => stage.answerRequest('A', true)), 'REQUEST_NOT_FOUND');
    stage.invite('B');
    stage.forget('B');
    assert.equal(code(() => stage.answerInvite('B', true)), 'INVITE_NOT_FOUND');
  });

  test('a seat freed by a leaving co-host can be taken again', () => {
    const small = new Stage({ maxSize: 2, ttlMs: TTL, maxPending: 20, now: () => now });
    small.setHost('H');
    small.invite('A');
    small.answerInvite('A', true);
    assert.throws(() => small.invite('B'), /full/);
    small.leave('A');
    small.invite('B');
    small.answerInvite('B', true);
    assert.deepEqual(small.snapshot().seats.map((x) => x.participantId), ['H', 'B']);
  });

  test('a stage of one seat is the host alone', () => {
    const solo = new Stage({ maxSize: 1, ttlMs: TTL, maxPending: 20, now: () => now });
    assert.equal(code(() => solo.request('A')), 'STAGE_FULL');
  });
});

test('open requests are capped: the next viewer gets STAGE_QUEUE_FULL until one is answered or expires', () => {
  const capped = new Stage({ maxSize: 3, ttlMs: TTL, maxPending: 2, now: () => now });
  capped.setHost('host');
  capped.request('a');
  capped.request('b');
  assert.throws(() => capped.request('c'), { code: 'STAGE_QUEUE_FULL' });
  capped.request('a'); // asking again is not a new entry
  capped.cancelRequest('b');
  capped.request('c');
  now += TTL;
  capped.request('d');
  assert.deepEqual(capped.snapshot().requests.map((r) => r.participantId), ['d']);
  capped.invite('e');
  capped.invite('f');
  assert.throws(() => capped.invite('g'), { code: 'STAGE_QUEUE_FULL' });
});
