import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { after, test } from 'node:test';
import { eventually, goLive, openPage, useServerAndBrowser } from '../helpers/browser.ts';
import { testToken } from '../helpers/socket-client.ts';

const env = useServerAndBrowser();
const repo = new URL('../../', import.meta.url).pathname;
const closers: (() => void)[] = [];
after(() => closers.forEach((close) => close()));

const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

/**
 * The example app as a user builds it: the SDK packed into a tarball, installed with npm into a
 * copy of examples/watch-app (offline, from the npm cache `npm run setup` filled), type-checked
 * against the package's declarations and bundled by Vite.
 */
function buildExampleApp(): string {
  const work = mkdtempSync(join(tmpdir(), 'onstage-example-'));
  const packed = run('npm', ['pack', '-w', 'client-sdk', '--pack-destination', work, '--loglevel=error'], repo).trim().split('\n').at(-1)!;
  const app = join(work, 'app');
  for (const f of ['src', 'index.html', 'tsconfig.json', 'package.json']) cpSync(join(repo, 'examples/watch-app', f), join(app, f), { recursive: true });
  const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  pkg.dependencies['@onstage/client-sdk'] = `file:${join(work, packed)}`;
  writeFileSync(join(app, 'package.json'), JSON.stringify(pkg, null, 2));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'], app);
  run(join(app, 'node_modules/.bin/tsc'), ['--noEmit', '-p', '.'], app);
  run(join(app, 'node_modules/.bin/vite'), ['build', '--logLevel', 'error'], app);
  return join(app, 'dist');
}

/** Serves a built app on its own origin (another port than the Onstage server's). */
async function serveStatic(dir: string): Promise<string> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    try {
      const body = readFileSync(join(dir, path === '/' ? 'index.html' : path.replace(/\.\./g, '')));
      res.writeHead(200, { 'content-type': types[extname(path || '.html')] ?? 'text/html' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('an app built with Vite from the packed SDK plays a live show', { timeout: 180_000 }, async () => {
  const dist = buildExampleApp();
  const chunks = readdirSync(join(dist, 'assets'));
  assert.ok(chunks.some((f) => f.startsWith('hls')), `hls.js is a chunk of its own (${chunks.join(', ')})`);

  const room = 'example-app';
  const host = await openPage(env.browser, `${env.server.url}/host/${room}`);
  await goLive(host);

  const appUrl = await serveStatic(dist);
  const token = testToken({ room, role: 'viewer', name: 'App viewer' });
  const page = await openPage(env.browser, `${appUrl}/?server=${encodeURIComponent(env.server.url)}&room=${room}&token=${token}`);
  const shown = () =>
    page.evaluate(() => {
      const video = document.querySelector('video')!;
      return { frames: video.getVideoPlaybackQuality().totalVideoFrames, width: video.videoWidth, status: document.querySelector('#status')!.textContent };
    });
  const first = await eventually(shown, (s) => s.frames > 10, 20_000);
  assert.equal(first.status, 'Watching (WebRTC)');
  assert.ok(first.width > 0, `the video has a size (${first.width} px wide)`);
  await new Promise((r) => setTimeout(r, 1500));
  const later = await shown();
  assert.ok(later.frames > first.frames + 10, `frames keep coming (${first.frames} → ${later.frames})`);
  const loaded = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name));
  assert.ok(!loaded.some((n) => /\/hls-[^/]*\.js$/.test(n)), 'a WebRTC viewer never downloads hls.js');
  process.stdout.write(`# example app: ${later.frames} frames, ${later.width} px wide\n`);
});
