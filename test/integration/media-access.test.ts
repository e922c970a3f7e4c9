import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually } from '../helpers/browser.ts';
import { killedPart } from '../helpers/recordings.ts';
import { startServer } from '../helpers/server.ts';
import { testToken } from '../helpers/socket-client.ts';

/** A data directory holding one unfinished recording of room `private-show` (finished at start). */
function dataDirWithRecording(): { dataDir: string; id: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'onstage-access-'));
  const id = 'private-show-20261201T120000Z-abcd';
  const dir = join(dataDir, 'recordings', id);
  mkdirSync(join(dir, 'parts'), { recursive: true });
  killedPart(join(dir, 'parts', 'part-0001.mp4'), 2);
  writeFileSync(join(dir, 'recording.json'), JSON.stringify({ id, room: 'private-show', status: 'recording', startedAt: '2026-12-01T12:00:00.000Z', runs: 1 }));
  return { dataDir, id };
}

test('MEDIA_ACCESS=token: recordings and live status need a token of their room; public by default', { timeout: 60_000 }, async () => {
  const { dataDir, id } = dataDirWithRecording();
  const server = await startServer({ HLS: 'true', DATA_DIR: dataDir, MEDIA_ACCESS: 'token' });
  try {
    const get = async (path: string, token?: string) => {
      const res = await fetch(`${server.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      const body = res.headers.get('content-type')?.startsWith('application/json') ? ((await res.json()) as { error?: { code: string } }) : undefined;
      return { status: res.status, code: body?.error?.code };
    };
    const viewer = testToken({ room: 'private-show', role: 'viewer' });
    const stranger = testToken({ room: 'elsewhere', role: 'host' });
    const recordingStatus = () =>
      fetch(`${server.url}/api/recordings/${id}`, { headers: { authorization: `Bearer ${viewer}` } }).then((r) => r.json() as Promise<{ status?: string }>);
    assert.equal((await eventually(recordingStatus, (r) => r.status === 'ready', 30_000)).status, 'ready', 'the recording is finished at start');

    assert.deepEqual(await get('/api/recordings'), { status: 403, code: 'FORBIDDEN' }, 'no listing of every room');
    assert.deepEqual(await get('/api/recordings?room=private-show'), { status: 401, code: 'TOKEN_MISSING' });
    assert.deepEqual(await get('/api/recordings?room=private-show', stranger), { status: 403, code: 'WRONG_ROOM' });
    assert.equal((await get('/api/recordings?room=private-show', viewer)).status, 200);
    assert.deepEqual(await get(`/api/recordings/${id}`), { status: 401, code: 'TOKEN_MISSING' });
    assert.deepEqual(await get(`/api/recordings/${id}/show.mp4`, stranger), { status: 403, code: 'WRONG_ROOM' });
    const video = await fetch(`${server.url}/api/recordings/${id}/show.mp4?token=${encodeURIComponent(viewer)}`);
    assert.equal(video.status, 200, 'a <video src> carries the token in the query');
    assert.equal(video.headers.get('content-type'), 'video/mp4');
    assert.ok((await video.arrayBuffer()).byteLength > 1000);
    assert.deepEqual(await get('/api/live/private-show'), { status: 401, code: 'TOKEN_MISSING' });
    assert.equal((await get('/api/live/private-show', viewer)).status, 200);
    assert.deepEqual(await get('/api/live/private-show', 'forged.token.here'), { status: 401, code: 'TOKEN_INVALID' });
  } finally {
    await server.close();
  }
  const open = await startServer({ HLS: 'true', DATA_DIR: dataDir });
  try {
    assert.equal((await fetch(`${open.url}/api/recordings`)).status, 200, 'public by default');
    assert.equal((await fetch(`${open.url}/api/live/private-show`)).status, 200);
  } finally {
    await open.close();
  }
});
