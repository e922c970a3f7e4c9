import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OnstageServer } from '../../server/src/app.ts';
import { startServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/socket-client.ts';

let server: OnstageServer;
before(async () => {
  server = await startServer({ HLS: 'true' });
});
after(async () => {
  await server?.close();
});

async function answer(path: string, init: RequestInit = {}): Promise<{ status: number; code: string | undefined }> {
  const res = await fetch(`${server.url}${path}`, init);
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, code };
}

test('adversarial HTTP input gets client errors with stable codes, never a 500', async () => {
  const deep = '['.repeat(4000) + ']'.repeat(4000);
  const cases: [string, string, RequestInit, number, string | undefined][] = [
    ['malformed percent-encoding in a page URL', '/watch/%E0%A4%A', {}, 400, 'INVALID_PAYLOAD'],
    ['invalid escape', '/host/%ZZ', {}, 400, 'INVALID_PAYLOAD'],
    ['a NUL in a room id', '/api/live/%00', {}, 400, 'INVALID_PAYLOAD'],
    ['deeply nested JSON body', '/api/dev/token', { method: 'POST', body: deep.slice(0, 4000) }, 400, 'INVALID_PAYLOAD'],
    ['nested within the size limit', '/api/dev/token', { method: 'POST', body: '['.repeat(2000) + ']'.repeat(2000) }, 400, 'INVALID_PAYLOAD'],
    ['oversized body', '/api/dev/token', { method: 'POST', body: 'x'.repeat(10_000) }, 413, 'PAYLOAD_TOO_LARGE'],
    ['wrong types', '/api/dev/token', { method: 'POST', body: '{"room":5,"role":[]}' }, 400, 'INVALID_PAYLOAD'],
    ['path traversal into HLS', '/hls/demo/..%2F..%2F..%2Fetc%2Fpasswd', {}, 404, 'NOT_FOUND'],
    ['path traversal into recordings', '/api/recordings/..%2F..%2Fetc', {}, 404, 'NOT_FOUND'],
    ['unknown recording media', '/api/recordings/nope/show.mp4', {}, 404, 'NOT_FOUND'],
    ['delete without a token', '/api/recordings/nope', { method: 'DELETE' }, 404, 'NOT_FOUND'],
    ['bad room in a listing', '/api/recordings?room=../x', {}, 400, 'INVALID_PAYLOAD'],
    ['unknown method', '/healthz', { method: 'PUT' }, 405, 'METHOD_NOT_ALLOWED'],
    ['nothing there', '/%F0%9F%92%A9', {}, 404, 'NOT_FOUND'],
  ];
  for (const [label, path, init, status, code] of cases) {
    assert.deepEqual(await answer(path, init), { status, code }, label);
  }
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
});

test('signalling bodies nested too deeply: a client error or a closed connection, never INTERNAL, nobody else affected', async () => {
  const bystander = await RawClient.connect(server.url, { room: 'nest', role: 'viewer' });
  await bystander.ok('join', { roomId: 'nest', role: 'viewer' });
  const seen: string[] = [];
  for (const depth of [1000, 5000, 20_000]) {
    const client = await RawClient.connect(server.url, { room: 'nest', role: 'viewer' });
    // socket.io-client cannot encode such a body itself, so the packet is written raw: an EVENT without an ack.
    const outcome = Promise.race([
      client.next<{ error: { code: string } }>('requestError').then((e) => e.error.code),
      new Promise<string>((resolve) => client.socket.once('disconnect', () => resolve('disconnected'))),
    ]);
    client.socket.io.engine.write(`2["sendChat",${'['.repeat(depth)}${']'.repeat(depth)}]`);
    const got = await outcome;
    seen.push(`${depth}: ${got}`);
    assert.ok(got === 'INVALID_PAYLOAD' || got === 'disconnected', `depth ${depth}: ${got}`);
    client.close();
  }
  process.stdout.write(`# deeply nested bodies: ${seen.join(', ')}\n`);
  assert.equal(await bystander.code('cancelStageRequest', {}), 'REQUEST_NOT_FOUND', 'another client is still served');
  bystander.close();
});
