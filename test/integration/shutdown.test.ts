import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServerProcess } from '../helpers/server-process.ts';
import { RawClient } from '../helpers/socket-client.ts';

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
