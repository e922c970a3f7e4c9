import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TEST_SECRET } from '../helpers/server.ts';
import { RawClient } from '../helpers/socket-client.ts';

/** `npm start`'s own entry point in a process group of its own, as a service manager runs it. */
function startServerProcess(): Promise<{ pid: number; url: string; log: string[]; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['server/src/main.ts'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: '0',
      RTC_PORT: '0',
      WORKERS: '2',
      HLS: 'false',
      LOG_LEVEL: 'info',
      TOKEN_SECRET: TEST_SECRET,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'onstage-shutdown-')),
    },
  });
  const log: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let partial = '';
    const onData = (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        log.push(line);
        const up = /"url":"([^"]+)".*"msg":"Onstage is up"/.exec(line);
        if (up) resolve({ pid: child.pid!, url: up[1]!, log, exited });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`server exited (${code}) before it was up:\n${log.join('\n')}`)));
  });
}

test('SIGTERM to the whole process group (as systemd or a container runtime sends it) ends shows as server_shutdown, with no false worker deaths', { timeout: 30_000 }, async () => {
  const server = await startServerProcess();
  const host = await RawClient.connect(server.url, { room: 'last-show', role: 'host' });
  await host.ok('join', { roomId: 'last-show', role: 'host' });
  const viewer = await RawClient.connect(server.url, { room: 'last-show', role: 'viewer' });
  await viewer.ok('join', { roomId: 'last-show', role: 'viewer' });
  await viewer.ok('createTransport', { direction: 'recv' });
  const ended = new Promise<{ reason: string }>((resolve) => viewer.socket.once('showEnded', resolve));

  process.kill(-server.pid, 'SIGTERM'); // the server and its mediasoup workers at once

  assert.deepEqual(await ended, { reason: 'server_shutdown' });
  assert.equal(await server.exited, 0);
  const errors = server.log.filter((l) => /"level":(50|60)/.test(l) || /died|lost its primary router/.test(l));
  assert.deepEqual(errors, [], 'no errors and no worker deaths in the log');
  assert.ok(server.log.some((l) => l.includes('"msg":"Onstage stopped"')));
  host.close();
  viewer.close();
});
