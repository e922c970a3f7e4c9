import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { OnstageServer } from '../../server/src/app.ts';
import { eventually } from '../helpers/browser.ts';
import { startServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/socket-client.ts';

let server: OnstageServer;
before(async () => {
  server = await startServer({ WORKERS: '1', LOG_LEVEL: 'fatal' }); // the worker death is expected
});
after(async () => {
  await server?.close();
});

/** Pids of the mediasoup workers this process started. */
function workerPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').trim();
        const [, comm, rest] = /^\d+ \((.*)\) (.*)$/.exec(stat) ?? [];
        return comm?.startsWith('mediasoup-worke') && Number(rest?.split(' ')[1]) === process.pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const metric = async (name: string) => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
};

test('a dead mediasoup worker ends its rooms cleanly, is counted, and is replaced', { timeout: 30_000 }, async () => {
  const viewer = await RawClient.connect(server.url, { room: 'doomed', role: 'viewer' });
  await viewer.ok('join', { roomId: 'doomed', role: 'viewer' });
  await viewer.ok('createTransport', { direction: 'recv' });
  const ended = new Promise<{ reason: string }>((resolve) => viewer.socket.once('showEnded', resolve));

  const [pid] = workerPids();
  assert.ok(pid, 'found the worker process');
  process.kill(pid, 'SIGKILL');

  assert.deepEqual(await ended, { reason: 'media_failure' });
  assert.equal(await viewer.code('createTransport', { direction: 'recv' }), 'NOT_JOINED', 'the participant is gone');
  assert.equal(await metric('onstage_mediasoup_worker_deaths_total'), 1);

  const ready = await eventually(() => fetch(`${server.url}/readyz`).then((r) => r.status), (s) => s === 200, 10_000);
  assert.equal(ready, 200, 'ready again once the worker is replaced');
  assert.equal(await metric('onstage_mediasoup_workers_alive'), 1);
  const [newPid] = workerPids();
  assert.ok(newPid && newPid !== pid, 'a new worker process runs');

  // The same client can join again and gets a working room on the new worker.
  await viewer.ok('join', { roomId: 'doomed', role: 'viewer' });
  await viewer.ok('createTransport', { direction: 'recv' });
  viewer.close();
});

test('a worker that stops answering (SIGSTOP) is killed by the watchdog, replaced, and its rooms recover', { timeout: 40_000 }, async () => {
  const others = new Set(workerPids()); // the first test's server still has its worker
  const errors: Record<string, unknown>[] = [];
  const hung = await startServer({ WORKERS: '1', LOG_LEVEL: 'error', WORKER_WATCHDOG_MS: '2000' }, (entry) => errors.push(entry));
  try {
    const host = await RawClient.connect(hung.url, { room: 'frozen', role: 'host' });
    await host.ok('join', { roomId: 'frozen', role: 'host' });
    const viewer = await RawClient.connect(hung.url, { room: 'frozen', role: 'viewer' });
    await viewer.ok('join', { roomId: 'frozen', role: 'viewer' });
    await viewer.ok('createTransport', { direction: 'recv' });
    const ended = new Promise<{ reason: string }>((resolve) => viewer.socket.once('showEnded', resolve));
    const [pid] = workerPids().filter((p) => !others.has(p));
    assert.ok(pid, 'found the worker process');
    const stoppedAt = performance.now();
    process.kill(pid, 'SIGSTOP');

    assert.deepEqual(await ended, { reason: 'media_failure' });
    const endedMs = performance.now() - stoppedAt;
    const text = await (await fetch(`${hung.url}/metrics`)).text();
    assert.match(text, /^onstage_mediasoup_worker_hangs_total 1$/m);
    const ready = await eventually(() => fetch(`${hung.url}/readyz`).then((r) => r.status), (s) => s === 200, 10_000);
    assert.equal(ready, 200, 'ready again once the worker is replaced');
    const readyMs = performance.now() - stoppedAt;
    assert.ok(!workerPids().includes(pid), 'the stopped worker is gone');
    const report = errors.find((e) => e['msg'] === 'what the hung worker was doing');
    assert.ok(report, 'a stall report was logged before the worker was killed');
    assert.equal(report['state'], 'T', 'it names the state (stopped)');
    assert.equal(report['cpuPercent'], 0, 'and the CPU it used (none)');
    const stacks = String(report['backtraces']);
    assert.match(stacks, /^#\d+ .* in .*/m, 'with gdb backtraces of its threads');
    process.stdout.write(`# SIGSTOP -> show ended after ${endedMs.toFixed(0)} ms, node ready again after ${readyMs.toFixed(0)} ms (watchdog 2000 ms); ${stacks.split('\n').length} backtrace lines logged\n`);

    // Everyone can come back to a working room on the new worker.
    await host.ok('join', { roomId: 'frozen', role: 'host' });
    await viewer.ok('join', { roomId: 'frozen', role: 'viewer' });
    await viewer.ok('createTransport', { direction: 'recv' });
    host.close();
    viewer.close();
  } finally {
    await hung.close();
  }
});

