import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

// Keeps the capacity benchmark working: one short round of each system, results in a temp folder.
// It checks that media flows end to end, not how fast: throughput belongs to the benchmark itself.
test('the capacity benchmark runs and writes its results and plot', { timeout: 120_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'onstage-bench-'));
  const script = new URL('../../bench/capacity.ts', import.meta.url).pathname;
  const run = spawnSync(process.execPath, [script, '--rounds', '1', '--max', '100', '--window-ms', '1000', '--no-spread', '--out', out], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /bare mediasoup  round 1  100 viewers: worker CPU/);
  assert.match(run.stdout, /Onstage         round 1  100 viewers: worker CPU/);
  const result = JSON.parse(readFileSync(join(out, 'capacity.json'), 'utf8')) as {
    runs: { system: string; steps: { viewers: number; packetsOutPerSec: number; decodedFps: number }[] }[];
  };
  for (const system of ['bare mediasoup', 'Onstage']) {
    const steps = result.runs.find((r) => r.system === system)?.steps ?? [];
    assert.deepEqual(steps.map((s) => s.viewers), [50, 100], `${system} stepped through 50 and 100 viewers`);
    const flowing = Math.max(...steps.map((s) => s.packetsOutPerSec));
    assert.ok(flowing > 1000, `${system}: packets reach the sink (${flowing} packets/s at best)`);
    const decoded = Math.max(...steps.map((s) => s.decodedFps));
    assert.ok(decoded > 5, `${system}: the real WebRTC viewer decodes video (${decoded} fps at best)`);
  }
  assert.match(readFileSync(join(out, 'capacity.svg'), 'utf8'), /^<svg /);
});
