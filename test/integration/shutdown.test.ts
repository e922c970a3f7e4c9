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

test('SIGTERM with DRAIN_TIMEOUT_MS drains a single node: not ready, viewers of the running show still taken, no new show, exits when the show ends', { timeout: 30_000 }, async () => {
  const server = await startServerProcess({ DRAIN_TIMEOUT_MS: '20000' });
  const host = await RawClient.connect(server.url, { room: 'long-show', role: 'host' });
  await host.ok('join', { roomId: 'long-show', role: 'host' });
  let exited = false;
  void server.exited.then(() => (exited = true));

  process.kill(server.pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while ((await fetch(`${server.url}/readyz`)).status !== 503 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal((await fetch(`${server.url}/readyz`)).status, 503, 'not ready while draining');
  // Alone, the node has nowhere to send anyone: a viewer of the show is taken, a new show is not.
  const viewer = await RawClient.connect(server.url, { room: 'long-show', role: 'viewer' });
  await viewer.ok('join', { roomId: 'long-show', role: 'viewer' });
  const newHost = await RawClient.connect(server.url, { room: 'new-show', role: 'host' });
  assert.equal(await newHost.code('join', { roomId: 'new-show', role: 'host' }), 'UNAVAILABLE');
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(exited, false, 'the show is still on');

  const ended = new Promise<{ reason: string }>((resolve) => viewer.socket.once('showEnded', resolve));
  await host.ok('leave', {});
  assert.equal((await ended).reason, 'host_left', 'the show ended as its host ended it');
  assert.equal(await server.exited, 0, 'then the node stopped by itself');
  assert.ok(server.log.some((l) => l.includes('"msg":"drained; stopping"')));
  for (const c of [host, viewer, newHost]) c.close();
});
