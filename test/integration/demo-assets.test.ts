import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OnstageServer } from '../../server/src/app.ts';
import { startServer } from '../helpers/server.ts';

/** The demo pages' scripts: split, compressed, cached the right way; hls.js only on demand. */
let server: OnstageServer;
before(async () => {
  server = await startServer();
});
after(() => server?.close());

const get = (path: string, encoding?: string) => fetch(`${server.url}${path}`, { headers: encoding ? { 'accept-encoding': encoding } : {} });
const staticImports = (js: string) => [...js.matchAll(/from\s*"\.\/(chunk-[A-Z0-9]+\.js)"/g)].map((m) => m[1]!);
const dynamicImports = (js: string) => [...js.matchAll(/import\("\.\/(chunk-[A-Z0-9]+\.js)"\)/g)].map((m) => m[1]!);

test('pages and entry scripts are revalidated, shared chunks cached for good, all sent compressed as the client accepts', async () => {
  const page = await get('/watch/demo', 'gzip, deflate, br');
  assert.equal(page.headers.get('content-encoding'), 'br');
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  assert.equal(page.headers.get('vary'), 'accept-encoding');
  const entry = await get('/assets/host.js', 'gzip');
  assert.equal(entry.headers.get('content-encoding'), 'gzip');
  assert.equal(entry.headers.get('cache-control'), 'no-cache');
  const watch = await get('/assets/watch.js', 'gzip');
  assert.equal(watch.headers.get('cache-control'), 'no-cache');
  const chunks = staticImports(await watch.text());
  assert.ok(chunks.length > 0, 'the page script imports a shared chunk');
  const chunk = await get(`/assets/${chunks[0]}`, 'identity');
  assert.equal(chunk.headers.get('content-encoding'), null, 'no encoding asked for, none sent');
  assert.equal(chunk.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.ok(staticImports(await entry.text()).includes(chunks[0]!), 'the studio page shares that chunk');
  // The page names what its script needs at once, so the browser fetches it all in parallel.
  const preloaded = [...(await (await get('/watch/demo')).text()).matchAll(/<link rel="modulepreload" href="\/assets\/(chunk-[A-Z0-9]+\.js)">/g)].map((m) => m[1]!);
  for (const c of chunks) assert.ok(preloaded.includes(c), `${c} is preloaded`);
  assert.ok(preloaded.length > chunks.length, 'so is the code the entry imports at once (the page and the SDK)');
});

test('a WebRTC viewer does not download hls.js (a chunk of its own, imported only when HLS is played), nor mediasoup-client\'s test doubles', async () => {
  const seen = new Map<string, string>();
  const load = async (name: string): Promise<void> => {
    if (seen.has(name)) return;
    const js = await (await get(`/assets/${name}`)).text();
    seen.set(name, js);
    for (const next of staticImports(js)) await load(next);
  };
  await load('watch.js');
  const upFront = [...seen.values()].join('\n');
  assert.ok(!upFront.includes('hlsManifestParsed'), 'hls.js is not in what the watch page loads up front');
  const lazy = [...seen.values()].flatMap(dynamicImports);
  assert.ok(lazy.length > 0, 'something is imported on demand');
  // What playing HLS loads: the lazy chunks and everything they import, now or on demand.
  const onDemand = new Map<string, string>();
  const follow = async (name: string): Promise<void> => {
    if (seen.has(name) || onDemand.has(name)) return;
    const js = await (await get(`/assets/${name}`)).text();
    onDemand.set(name, js);
    for (const next of [...staticImports(js), ...dynamicImports(js)]) await follow(next);
  };
  for (const name of lazy) await follow(name);
  assert.ok([...onDemand.values()].some((js) => js.includes('hlsManifestParsed')), 'hls.js comes with what is imported on demand');
  const everything = [...seen.values(), ...onDemand.values()].join('\n');
  assert.ok(everything.includes('generateProbatorRtpParameters'), 'mediasoup-client is in what the page loads');
  assert.ok(!everything.includes('generateLocalDtlsParameters') && !everything.includes('FakeMediaStreamTrack'), "but not its test doubles (see demo-assets.ts)");
});
