import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import S3rver from 's3rver';
import type { Recording } from '@onstage/protocol';
import { eventually, goLive, openPage, useServerAndBrowser } from '../helpers/browser.ts';
import { freeLoopbackPort } from '../helpers/free-port.ts';
import { probe } from '../helpers/hls.ts';

/**
 * Recordings in object storage, against s3rver (an S3-compatible server in Node): the service is
 * down when the show ends (the recording stays on disk and plays from there), comes up, and the
 * recording is uploaded on a retry, then served from the bucket by a signed URL.
 */
const port = await freeLoopbackPort();
const bucket = 'onstage-recordings';
const dataDir = mkdtempSync(join(tmpdir(), 'onstage-data-'));
const env = useServerAndBrowser({
  HLS: 'true',
  DATA_DIR: dataDir,
  S3_BUCKET: bucket,
  S3_ENDPOINT: `http://127.0.0.1:${port}`,
  S3_ACCESS_KEY_ID: 'S3RVER',
  S3_SECRET_ACCESS_KEY: 'S3RVER',
});
let s3: S3rver | undefined;
after(async () => s3?.close());

test('a finished recording goes to object storage (retried while the service is down), is served from there by a signed URL, and is deleted there', { timeout: 180_000 }, async () => {
  const room = 'stored';
  const origin = env.server.url;
  const host = await openPage(env.browser, `${origin}/host/${room}`);
  await goLive(host);
  await new Promise((r) => setTimeout(r, 5000));
  await host.locator('#stop').click();
  const listed = async () => ((await (await fetch(`${origin}/api/recordings?room=${room}`)).json()) as { recordings: Recording[] }).recordings[0];
  const ready = await eventually(listed, (r) => r?.status === 'ready', 30_000);
  assert.equal(ready?.objectKey, undefined, 'not in object storage while the service is down');
  const local = await fetch(`${origin}${ready!.url}`, { redirect: 'manual' });
  assert.equal(local.status, 200, 'served from disk meanwhile');
  await local.body?.cancel();
  await eventually(async () => Number(/onstage_recording_uploads_total\{result="failed"\} (\d+)/.exec(await (await fetch(`${origin}/metrics`)).text())?.[1]), (n) => n >= 1, 20_000);

  s3 = new S3rver({ address: '127.0.0.1', port, silent: true, directory: mkdtempSync(join(tmpdir(), 'onstage-s3-')), configureBuckets: [{ name: bucket, configs: [] }] });
  await s3.run();
  const moved = await eventually(listed, (r) => r?.objectKey !== undefined, 60_000);
  assert.equal(moved?.objectKey, `recordings/${moved!.id}/show.mp4`);
  assert.ok(!existsSync(join(dataDir, 'recordings', moved!.id, 'show.mp4')), 'the local copy is gone once uploaded');
  assert.ok(existsSync(join(dataDir, 'recordings', moved!.id, 'recording.json')), 'its metadata stays');

  const redirect = await fetch(`${origin}${moved!.url}`, { redirect: 'manual' });
  assert.equal(redirect.status, 302);
  const signed = redirect.headers.get('location')!;
  assert.match(signed, new RegExp(`^http://127\\.0\\.0\\.1:${port}/${bucket}/recordings/.*X-Amz-Signature=`), 'a signed URL of the bucket');
  const probed = await probe(signed);
  assert.deepEqual(probed.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  assert.ok(probed.duration > 2, `plays from the bucket (${probed.duration} s)`);

  const token = ((await (await fetch(`${origin}/api/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ room, role: 'host' }) })).json()) as { token: string }).token;
  const deleted = await fetch(`${origin}/api/recordings/${moved!.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  assert.equal(deleted.status, 200);
  assert.equal((await fetch(signed)).status, 404, 'gone from the bucket too');
});
