import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SOURCE_RTP, startSource } from '../../bench/lib/ffmpeg-source.ts';
import { loadConfig } from '../../server/src/config.ts';
import { createRootLogger } from '../../server/src/logger.ts';
import { joinPlainHost } from '../../server/src/loadtest/synthetic-peers.ts';
import { WorkerPool } from '../../server/src/media/worker-pool.ts';
import { RecordingService } from '../../server/src/recording/recording-service.ts';
import { RoomRegistry } from '../../server/src/rooms/room-registry.ts';
import { eventually } from '../helpers/browser.ts';
import { segmentsOf } from '../helpers/hls.ts';

const cleanup: (() => void | Promise<void>)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

test('a full disk is reported (status, metric, log) while live HLS and the show go on', { timeout: 120_000 }, async () => {
  // A 3 MiB disk, in this test's own mount namespace (see test/run.sh).
  const dataDir = mkdtempSync(join(tmpdir(), 'onstage-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dataDir]);
  cleanup.push(() => void execFileSync('umount', ['-l', dataDir]));

  const config = loadConfig({ RTC_PORT: '0', WORKERS: '1', LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'silent', DATA_DIR: dataDir });
  const logger = createRootLogger(config.logLevel);
  const pool = await WorkerPool.create({ size: 1, listenIp: '127.0.0.1', announcedAddress: '127.0.0.1', basePort: 0, workerBin: config.workerBin, watchdogMs: config.workerWatchdogMs }, logger);
  cleanup.push(() => pool.close());
  const failures: string[] = [];
  const recordings = await RecordingService.create(config.recorder, logger, { failure: (r) => failures.push(r), started: () => {}, finished: () => {}, uploaded: () => {} });
  const rooms = new RoomRegistry(pool, config, logger, { onOpen: (room) => recordings.attach(room) });
  cleanup.push(() => recordings.closeAll());
  cleanup.push(() => rooms.closeAll());

  const room = await rooms.originRoom('full-disk');
  const host = await joinPlainHost(room, 'host', [{ kind: 'video', rtpParameters: SOURCE_RTP.video }, { kind: 'audio', rtpParameters: SOURCE_RTP.audio }], '127.0.0.1');
  const port = (kind: string) => { const p = host.ports.find((x) => x.kind === kind)!; return { port: p.port, rtcpPort: p.rtcpPort }; };
  const source: ChildProcess = startSource(port('video'), port('audio'));
  cleanup.push(() => void source.kill('SIGKILL'));

  const status = await eventually(async () => recordings.status('full-disk', true), (s) => s.recorder?.lastError?.reason === 'disk_full', 60_000);
  process.stdout.write(`# full disk reported: ${JSON.stringify(status.recorder?.lastError)}\n`);
  assert.equal(status.recorder?.lastError?.reason, 'disk_full');
  assert.match(status.recorder?.lastError?.message ?? '', /no space left on device/i);
  assert.ok(failures.includes('disk_full'), `failure reported for the metric (${failures.join(', ')})`);

  // Live HLS goes on without the recording (old segments are deleted, so it fits); so does the show.
  // Live HLS is served from memory: a full disk does not touch it.
  const lastSegment = async () => segmentsOf(String((await recordings.hlsOf('full-disk')?.answer('v0/index.m3u8', new URLSearchParams()))?.body ?? '')).at(-1) ?? '';
  const segmentBefore = await lastSegment();
  const before = await host.stats();
  await new Promise((r) => setTimeout(r, 4000));
  const segmentAfter = await lastSegment();
  assert.ok(segmentBefore !== '' && segmentAfter > segmentBefore, `HLS has new segments after the disk filled (${segmentBefore} → ${segmentAfter})`);
  assert.equal(recordings.status('full-disk', true).recorder?.state, 'running');
  for (const p of await host.stats()) {
    const was = before.find((b) => b.producerId === p.producerId)!;
    assert.ok(p.packets > was.packets + 50, `${p.kind} producer still receives (${was.packets} → ${p.packets})`);
  }
  assert.equal(room.state, 'live');
});
