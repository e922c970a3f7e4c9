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

// Keeps the cluster benchmark working: one short round with a few viewers per node.
test('the cluster benchmark runs: viewers on an edge get the show through the pipe; results written', { timeout: 180_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'onstage-bench-cluster-'));
  const script = new URL('../../bench/cluster.ts', import.meta.url).pathname;
  const run = spawnSync(process.execPath, [script, '--rounds', '1', '--viewers', '20', '--window-ms', '500', '--out', out], { encoding: 'utf8' });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /round 1 20 viewers on B/);
  const result = JSON.parse(readFileSync(join(out, 'cluster.json'), 'utf8')) as {
    rounds: { onEdge: { viewers: number; sample: { deliveryRatio: number; pipeBytesPerSec: { b: number }; decodedFps?: number } }[] }[];
  };
  const onEdge = result.rounds[0]!.onEdge.at(-1)!;
  assert.equal(onEdge.viewers, 20);
  assert.ok(onEdge.sample.deliveryRatio > 0.9, `viewers on the edge got the show (${onEdge.sample.deliveryRatio} of its packets each)`);
  assert.ok(onEdge.sample.pipeBytesPerSec.b > 50_000, `the pipe to B carries it (${onEdge.sample.pipeBytesPerSec.b} B/s)`);
  assert.ok((onEdge.sample.decodedFps ?? 0) > 5, `the real WebRTC viewer on the edge decodes video (${onEdge.sample.decodedFps} fps)`);
});

// Keeps the ingest benchmark working: one short round of each way of going live.
test('the ingest benchmark runs: the time code comes through the studio page, WHIP and RTMP; results written', { timeout: 180_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'onstage-bench-ingest-'));
  const script = new URL('../../bench/ingest-latency.ts', import.meta.url).pathname;
  const run = spawnSync(process.execPath, [script, '--rounds', '1', '--measure-ms', '2000', '--out', out], { encoding: 'utf8' });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  const result = JSON.parse(readFileSync(join(out, 'ingest-latency.json'), 'utf8')) as { overall: Record<string, { samples: number; p50: number }> };
  for (const way of ['studio', 'whip', 'rtmp']) {
    const { samples, p50 } = result.overall[way]!;
    assert.ok(samples > 10, `${way}: the viewer read the time code from ${samples} frames`);
    assert.ok(p50 >= 0 && p50 < 5000, `${way}: a plausible delay (p50 ${p50} ms)`);
  }
});

// Keeps the join benchmark working: two fresh viewers and two SDK joins of each kind, one run.
test('the join benchmark runs: every step of a fresh viewer is timed, the floor page and SDK joins too; page weight without hls.js', { timeout: 180_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'onstage-bench-join-'));
  const script = new URL('../../bench/join.ts', import.meta.url).pathname;
  const run = spawnSync(process.execPath, [script, '--viewers', '2', '--runs', '1', '--gap-ms', '300', '--out', out], { encoding: 'utf8' });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  const result = JSON.parse(readFileSync(join(out, 'join.json'), 'utf8')) as {
    summary: { pageLoad: Record<string, { p50: number }>; floorFirstFrame: { p50: number }; sdkBackToBack: { p50: number }; sdkSpaced: { p50: number } };
    viewerPage: { bytes: number; hlsJsLoaded: boolean };
  };
  const steps = result.summary.pageLoad;
  for (const [name, { p50 }] of Object.entries(steps)) assert.ok(Number.isFinite(p50) && p50 >= 0, `${name} was timed (${p50})`);
  assert.ok(steps['firstFrame']!.p50 >= steps['joined']!.p50, 'the first frame comes after the join');
  assert.ok(result.summary.floorFirstFrame.p50 > 0, `the floor page played the show over WHEP (${result.summary.floorFirstFrame.p50} ms)`);
  assert.ok(result.summary.sdkBackToBack.p50 > 0 && result.summary.sdkSpaced.p50 > 0, 'SDK joins were timed');
  assert.ok(result.viewerPage.bytes > 10_000, `the viewer page's bytes were counted (${result.viewerPage.bytes})`);
  assert.equal(result.viewerPage.hlsJsLoaded, false, 'a WebRTC viewer page does not load hls.js');
});
