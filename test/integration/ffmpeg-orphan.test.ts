import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { eventually } from '../helpers/browser.ts';

test('FFmpeg never outlives the server: SIGKILL of its parent stops it at once', { timeout: 30_000 }, async () => {
  // A parent that starts FFmpeg the way the recorder does, on an endless input, and prints its pid.
  const script = `
    const { MediaProcess } = await import(${JSON.stringify(new URL('../../recorder/src/media-process.ts', import.meta.url).pathname)});
    const p = new MediaProcess('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'warning', '-re', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-f', 'null', '-'], { cwd: '/tmp', stdin: '' });
    console.log(p.pid);
    setInterval(() => {}, 1000);
  `;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  assert.ok(pid > 0 && existsSync(`/proc/${pid}`), 'FFmpeg runs');
  await new Promise((r) => setTimeout(r, 500));
  const killedAt = performance.now();
  parent.kill('SIGKILL');
  const gone = await eventually(async () => !existsSync(`/proc/${pid}`) || isZombie(pid), (g) => g, 5000);
  assert.ok(gone, 'FFmpeg is gone');
  process.stdout.write(`# parent SIGKILL -> FFmpeg gone after ${(performance.now() - killedAt).toFixed(0)} ms\n`);
});

function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
