import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../server/src/config.ts';
import { createRootLogger } from '../../server/src/logger.ts';
import { RecordingService } from '../../server/src/recording/recording-service.ts';
import { eventually } from '../helpers/browser.ts';
import { killedPart } from '../helpers/recordings.ts';

test('recordings a crashed server left unfinished are finished from their parts at the next start', { timeout: 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'onstage-recover-'));
  const id = 'lost-show-20261125T120000Z-abcd';
  const dir = join(dataDir, 'recordings', id);
  mkdirSync(join(dir, 'parts'), { recursive: true });
  killedPart(join(dir, 'parts', 'part-0001.mp4'), 4);
  killedPart(join(dir, 'parts', 'part-0002.mp4'), 3);
  writeFileSync(join(dir, 'recording.json'), JSON.stringify({ id, room: 'lost-show', status: 'recording', startedAt: '2026-11-25T12:00:00.000Z', runs: 2 }));

  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const service = await RecordingService.create(config.recorder, createRootLogger('silent'), { failure: () => {}, started: () => {}, finished: () => {}, uploaded: () => {} });
  const [recording] = await eventually(() => service.store!.list('lost-show'), (l) => l[0]?.status === 'ready', 30_000);
  assert.equal(recording?.status, 'ready');
  // Each part loses at most its last fragment (1 s) and FFmpeg's start-up.
  assert.ok((recording?.durationS ?? 0) >= 4 && (recording?.durationS ?? 0) <= 7, `both parts are in it (${recording?.durationS} s)`);
  process.stdout.write(`# recovered recording: ${recording?.durationS} s from parts killed after 4 s and 3 s\n`);
});
