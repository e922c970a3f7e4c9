import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createRootLogger } from '../../server/src/logger.ts';
import { signature, WebhookSender, type DeliveryResult } from '../../server/src/webhooks/webhook-sender.ts';

test('webhooks: signed, in order, retried while the receiver is down, the oldest dropped past the queue limit', { timeout: 20_000 }, async () => {
  const secret = 'x'.repeat(32);
  const got: { room: string | undefined; sigOk: boolean }[] = [];
  let refuse = 3;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (refuse-- > 0) return void res.writeHead(500).end();
      const body = Buffer.concat(chunks).toString('utf8');
      const t = Number(/t=(\d+)/.exec(String(req.headers['onstage-signature']))?.[1]);
      got.push({ room: (JSON.parse(body) as { room?: string }).room, sigOk: req.headers['onstage-signature'] === signature(secret, body, t) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
  const results: DeliveryResult[] = [];
  const sender = new WebhookSender({ urls: [url], secret, maxQueued: 3, retryBaseMs: 100 }, 'node-1', createRootLogger('silent'), (r) => results.push(r));
  for (const room of ['a', 'b', 'c', 'd', 'e']) sender.send({ event: 'room_started', room });
  const deadline = Date.now() + 10_000;
  while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await sender.close();
  receiver.close();
  assert.deepEqual(got.map((g) => g.room), ['c', 'd', 'e'], 'the newest three, in order (a and b dropped while the receiver was down)');
  assert.ok(got.every((g) => g.sigOk), 'each signed with the secret over its timestamp and body');
  assert.deepEqual(
    { failed: results.filter((r) => r === 'failed').length, dropped: results.filter((r) => r === 'dropped').length, delivered: results.filter((r) => r === 'delivered').length },
    { failed: 3, dropped: 2, delivered: 3 },
  );
  assert.equal(sender.queued, 0);
});
