import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OnstageServer } from '../../server/src/app.ts';
import { startServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/socket-client.ts';

let server: OnstageServer;
before(async () => {
  server = await startServer({ CHAT_BURST: '3', CHAT_PER_SECOND: '0.5', CHAT_HISTORY: '5' });
});
after(async () => {
  await server?.close();
});

type Joined = { participantId: string; chat: { text: string; messageId: string }[] };

test('chat: rate limit, history for newcomers, deletion, and bans that outlive reconnects', { timeout: 20_000 }, async () => {
  const room = 'chatty';
  const host = await RawClient.connect(server.url, { room, role: 'host', name: 'Host' });
  await host.ok('join', { roomId: room, role: 'host' });
  const alice = await RawClient.connect(server.url, { room, role: 'viewer', sub: 'alice', name: 'Alice' });
  const aliceJoined = await alice.ok<Joined>('join', { roomId: room, role: 'viewer' });

  // Everyone, the sender included, gets each message.
  const seenByHost: string[] = [];
  host.socket.on('chatMessage', (m: { text: string }) => seenByHost.push(m.text));
  for (const text of ['one', 'two', 'three']) await alice.ok('sendChat', { text });
  assert.equal(await alice.code('sendChat', { text: 'four' }), 'RATE_LIMITED', 'the 4th message in the window');
  assert.equal(await alice.code('sendChat', { text: 'x'.repeat(301) }), 'INVALID_PAYLOAD');
  await host.ok('sendChat', { text: 'welcome' });
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(seenByHost, ['one', 'two', 'three', 'welcome'], 'the others were delivered');

  // A newcomer gets the recent history.
  const bob = await RawClient.connect(server.url, { room, role: 'viewer', sub: 'bob' });
  const bobJoined = await bob.ok<Joined>('join', { roomId: room, role: 'viewer' });
  assert.deepEqual(bobJoined.chat.map((m) => m.text), ['one', 'two', 'three', 'welcome']);

  // The host deletes a message: everyone is told, and newcomers no longer see it.
  const deleted = bob.next<{ messageId: string }>('chatDeleted');
  await host.ok('deleteChat', { messageId: bobJoined.chat[0]!.messageId });
  assert.equal((await deleted).messageId, bobJoined.chat[0]!.messageId);
  assert.equal(await bob.code('deleteChat', { messageId: bobJoined.chat[1]!.messageId }), 'FORBIDDEN');

  // The host bans Alice: she is removed, her messages go, and her identity cannot come back.
  const removed = alice.next<{ reason: string }>('removed');
  await host.ok('ban', { participantId: aliceJoined.participantId });
  assert.equal((await removed).reason, 'banned');
  const again = await RawClient.connect(server.url, { room, role: 'viewer', sub: 'alice' }); // a fresh token
  assert.equal(await again.code('join', { roomId: room, role: 'viewer' }), 'BANNED');
  const carol = await RawClient.connect(server.url, { room, role: 'viewer', sub: 'carol' });
  const carolJoined = await carol.ok<Joined>('join', { roomId: room, role: 'viewer' });
  assert.deepEqual(carolJoined.chat.map((m) => m.text), ['welcome']);
  for (const c of [host, alice, bob, again, carol]) c.close();
});
