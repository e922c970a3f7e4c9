import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sendFile } from '../../server/src/http/file-reply.ts';

test('a file replaced while it is served (as FFmpeg rewrites playlists) comes out whole, never torn', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'onstage-file-'));
  const file = join(dir, 'index.m3u8');
  // Versions of different sizes, each one line repeated: a torn reply mixes two or is cut short.
  const version = (n: number) => `${`version ${n}\n`.repeat(1000 + (n % 7) * 300)}`;
  writeFileSync(file, version(0));
  const server = createServer((req, res) => {
    sendFile(req, res, { file, contentType: 'text/plain', cacheControl: 'no-cache' }).catch(() => {
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  let writes = 0;
  const writer = setInterval(() => {
    for (let i = 0; i < 5; i++) {
      writes++;
      writeFileSync(`${file}.tmp`, version(writes));
      renameSync(`${file}.tmp`, file);
    }
  }, 1);
  try {
    for (let i = 0; i < 400; i++) {
      const body = await (await fetch(url)).text();
      const lines = new Set(body.trimEnd().split('\n'));
      assert.equal(lines.size, 1, `reply ${i} is one version`);
      const n = Number([...lines][0]!.split(' ')[1]);
      assert.equal(body, version(n), `reply ${i} is version ${n} whole`);
    }
  } finally {
    clearInterval(writer);
    server.close();
  }
  assert.ok(writes > 400, `the file was replaced ${writes} times meanwhile`);
});
