import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, RoomId, isRequestName, requests, serverEvents } from '@onstage/protocol';

test('room ids: short, URL-safe names only', () => {
  for (const ok of ['demo', 'a', 'Show_2026-11', 'x'.repeat(64)]) assert.ok(RoomId.safeParse(ok).success, ok);
  for (const bad of ['', 'x'.repeat(65), 'a b', '../etc', 'émission', 'a/b']) assert.ok(!RoomId.safeParse(bad).success, bad);
});

test('request bodies are strict: unknown fields are refused', () => {
  assert.ok(requests.join.request.safeParse({ roomId: 'demo', role: 'viewer' }).success);
  assert.ok(!requests.join.request.safeParse({ roomId: 'demo', role: 'viewer', admin: true }).success);
  assert.ok(!requests.createTransport.request.safeParse({ direction: 'both' }).success);
});

test('media parameters are bounded', () => {
  const codec = { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 };
  const ok = { transportId: 't', kind: 'video', rtpParameters: { codecs: [codec] } };
  assert.ok(requests.produce.request.safeParse(ok).success);
  const tooMany = { ...ok, rtpParameters: { codecs: Array(17).fill(codec) } };
  assert.ok(!requests.produce.request.safeParse(tooMany).success);
  const badPt = { ...ok, rtpParameters: { codecs: [{ ...codec, payloadType: 300 }] } };
  assert.ok(!requests.produce.request.safeParse(badPt).success);
});

test('request and event names', () => {
  assert.ok(isRequestName('join'));
  assert.ok(!isRequestName('toString'), 'inherited properties are not requests');
  assert.ok(!isRequestName('__proto__'));
  assert.ok(serverEvents.showEnded.safeParse({ reason: 'host_left' }).success);
  assert.ok(!serverEvents.showEnded.safeParse({ reason: 'bored' }).success);
});

test('error codes are unique and upper snake case', () => {
  const codes = ErrorCode.options;
  assert.equal(new Set(codes).size, codes.length);
  for (const c of codes) assert.match(c, /^[A-Z]+(_[A-Z]+)*$/);
});
