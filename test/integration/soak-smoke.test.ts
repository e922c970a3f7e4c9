import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

// Keeps `npm run soak` working: a few seconds of churn, results in a temp folder. Trends belong to the real run.
test('the soak benchmark runs, churns, samples and writes its results and plot', { timeout: 120_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'onstage-soak-'));
  const script = new URL('../../bench/soak.ts', import.meta.url).pathname;
  const run = spawnSync(process.execPath, [script, '--minutes', '0.25', '--audience', '20', '--sample-s', '4', '--out', `${out}/`], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(readFileSync(join(out, 'soak.json'), 'utf8')) as {
    summary: { counts: { joined: number; left: number; vanished: number; staged: number; chats: number; errors: number } };
    samples: { heapMB: number; fds: number; lagP99Ms: number; workerRssMB: number }[];
  };
  const { counts } = result.summary;
  assert.ok(counts.joined > 20 && counts.left > 0 && counts.vanished > 0 && counts.staged > 0 && counts.chats > 0, JSON.stringify(counts));
  assert.equal(counts.errors, 0);
  assert.ok(result.samples.length >= 2 && result.samples.every((s) => s.heapMB > 0 && s.fds > 0 && s.workerRssMB > 0));
  assert.match(readFileSync(join(out, 'soak.svg'), 'utf8'), /^<svg/);
});
