import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OnstageServer } from '../../server/src/app.ts';
import { startServer } from '../helpers/server.ts';
import { Crowd, p99, probeWhile, type CrowdStats } from '../helpers/crowd.ts';
import { RawClient } from '../helpers/socket-client.ts';

/**
 * The crowd outages of issue 9, at a size this machine holds, with real sockets: a big room's own
 * events must not stall a request in another room or drop anyone. Before the fixes one viewer's
 * 1,000 stage request/cancel pairs in a room of 500 made a million stageChanged messages (event
 * loop 11-13 s behind), and every join or drop sent the host the whole participant list.
 */
const CROWD = 500;
const BIG = 'big-show';
const OTHER = 'small-show';

let server: OnstageServer;
let host: RawClient;
let crowd: Crowd;
let probeHost: RawClient;
let probeViewer: RawClient;

before(async () => {
  server = await startServer({ MAX_CONNECTIONS_PER_ADDRESS: '2000' });
  host = await RawClient.connect(server.url, { room: BIG, role: 'host', name: 'Host' });
  await host.ok('join', { roomId: BIG, role: 'host' });
  crowd = await Crowd.start(server.url, BIG, CROWD);
  probeHost = await RawClient.connect(server.url, { room: OTHER, role: 'host' });
  await probeHost.ok('join', { roomId: OTHER, role: 'host' });
  probeViewer = await RawClient.connect(server.url, { room: OTHER, role: 'viewer' });
  await probeViewer.ok('join', { roomId: OTHER, role: 'viewer' });
});

after(async () => {
  crowd?.stop();
  for (const c of [host, probeHost, probeViewer]) c?.close();
  await server?.close();
});

/**
 * The bound on another room's p99. Before the fixes these requests took 8-16 s. What remains is
 * socket.io's and ws's own work per socket (a close handshake and teardown each: 500 abrupt drops
 * in one poll cost about 70-110 ms on this 2-core machine); the measured p99 is printed.
 */
const OTHER_ROOM_P99_MS = 250;

function assertNobodyDropped(clients: RawClient[]): void {
  const dropped = clients.filter((c) => !c.socket.connected).length;
  assert.equal(dropped, 0, `${dropped} of ${clients.length} clients were disconnected`);
}

test(`one viewer's 1,000 stage request/cancel pairs in a room of ${CROWD}: refused fast, folded into a few updates`, { timeout: 60_000 }, async () => {
  let stats: CrowdStats | undefined;
  const times = await probeWhile(probeHost, probeViewer, async () => {
    stats = await crowd.command({ do: 'flood', requests: 2000 });
  });
  const { codes, stageChangedMax, connected } = stats!;
  process.stdout.write(
    `# flood: acks ${JSON.stringify(codes)}; stageChanged per viewer at most ${stageChangedMax}; ` +
      `other room p99 ${p99(times).toFixed(1)} ms over ${times.length} requests (max ${Math.max(...times).toFixed(1)} ms)\n`,
  );
  assert.ok((codes['ok'] ?? 0) <= 10, 'only a burst is served');
  assert.ok((codes['RATE_LIMITED'] ?? 0) >= 100, 'then requests are refused');
  assert.equal(stats!.flooderRemoved, 'rate_limited', 'and the flooder is disconnected');
  assert.ok(stageChangedMax <= 10, `each viewer got ${stageChangedMax} stageChanged (a burst of changes is one update)`);
  assert.ok(p99(times) < OTHER_ROOM_P99_MS, `a request in another room took ${p99(times).toFixed(1)} ms at p99`);
  assert.equal(connected, CROWD - 1, 'every other viewer of the big room is still connected');
  assertNobodyDropped([host, probeHost, probeViewer]);
});

test(`${CROWD} viewers dropping at once: the host gets a few change lists, not ${CROWD} full lists`, { timeout: 60_000 }, async () => {
  const updates: { updated: { away: boolean }[]; left: string[] }[] = [];
  host.socket.on('participantsUpdated', (u) => updates.push(u));
  const audience: number[] = [];
  host.socket.on('audience', ({ viewers }: { viewers: number }) => audience.push(viewers));
  const awayReported = () => updates.reduce((n, u) => n + u.updated.filter((p) => p.away).length, 0);
  const times = await probeWhile(probeHost, probeViewer, async () => {
    await crowd.command({ do: 'drop' });
    const deadline = Date.now() + 20_000;
    while (awayReported() < CROWD - 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1200));
  });
  const entries = updates.reduce((n, u) => n + u.updated.length + u.left.length, 0);
  process.stdout.write(
    `# mass drop: host got ${updates.length} participantsUpdated with ${entries} entries; audience ${JSON.stringify(audience)}; ` +
      `other room p99 ${p99(times).toFixed(1)} ms over ${times.length} requests (max ${Math.max(...times).toFixed(1)} ms)\n`,
  );
  assert.equal(awayReported(), CROWD - 1, 'every drop (the flooder dropped earlier) is reported once');
  assert.ok(updates.length <= 20, `${updates.length} updates`);
  assert.equal(audience.at(-1), 0, 'the viewer count follows');
  assert.ok(p99(times) < OTHER_ROOM_P99_MS, `a request in another room took ${p99(times).toFixed(1)} ms at p99`);
  assertNobodyDropped([host, probeHost, probeViewer]);
  const page = await host.ok<{ participants: unknown[]; next: string | null }>('listParticipants', { limit: 200 });
  assert.equal(page.participants.length, 200, 'a page holds at most its limit');
  assert.ok(page.next, 'and says where the next one starts');
});
