import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

/**
 * One file of the demo pages, with its compressed forms. `immutable`: its name carries a hash of
 * its content (a shared chunk), so browsers may keep it for good; the pages and their entry
 * scripts are revalidated every time.
 */
export type Asset = { body: Buffer; contentType: string; immutable: boolean; gzip?: Buffer; br?: Buffer };

// Brotli at 5: most of quality 11's gain at a small fraction of its time (this runs at start-up).
const BROTLI = { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } };

/**
 * The demo pages and their scripts. The scripts (and the client-sdk they import) are bundled with
 * esbuild at start-up, in memory, so `npm start` needs no build step: minified, split so the code
 * both pages share is one cached chunk and hls.js is a chunk loaded only by a viewer who falls back
 * to HLS, and compressed (gzip, brotli) once here rather than per request.
 */
export async function loadDemoAssets(): Promise<Map<string, Asset>> {
  const notForBrowsers = new Set<string>();
  const result = await esbuild.build({
    entryPoints: { host: `${PUBLIC_DIR}host.ts`, watch: `${PUBLIC_DIR}watch.ts` },
    bundle: true,
    splitting: true,
    format: 'esm',
    target: 'chrome111',
    minify: true,
    sourcemap: 'linked',
    write: false,
    outdir: '/assets',
    chunkNames: 'chunk-[hash]',
    metafile: true,
    // The SDK's own source (its package exports a built copy to apps that install it).
    conditions: ['onstage-source'],
    plugins: [withoutNonBrowserCode(notForBrowsers)],
    logLevel: 'silent',
  });
  const missing = NOT_FOR_BROWSERS.filter((m) => !notForBrowsers.has(m));
  if (missing.length > 0) throw new Error(`mediasoup-client no longer has ${missing.join(', ')}: update NOT_FOR_BROWSERS in demo-assets.ts`);
  const preloads = staticImports(result.metafile);
  const assets = new Map<string, Asset>();
  for (const file of result.outputFiles) {
    const map = file.path.endsWith('.map');
    const body = Buffer.from(file.contents);
    const immutable = /\/chunk-[A-Z0-9]+\.js(\.map)?$/.test(file.path);
    // Source maps are for devtools only: not worth compressing at every start.
    assets.set(file.path, { ...(map ? { body } : compressed(body)), contentType: map ? 'application/json' : 'text/javascript; charset=utf-8', immutable });
  }
  assets.set('/assets/style.css', { ...compressed(await readFile(`${PUBLIC_DIR}style.css`)), contentType: 'text/css; charset=utf-8', immutable: false });
  for (const page of ['host', 'watch', 'index']) {
    const html = withPreloads(await readFile(`${PUBLIC_DIR}${page}.html`, 'utf8'), preloads.get(`/assets/${page}.js`) ?? []);
    assets.set(`/pages/${page}.html`, { ...compressed(Buffer.from(html)), contentType: 'text/html; charset=utf-8', immutable: false });
  }
  return assets;
}

/**
 * mediasoup-client is CommonJS, so the bundler cannot drop what a browser never runs: its React
 * Native handler and its test doubles (FakeHandler, fake parameters and, through them,
 * fake-mediastreamtrack), about 42 KB of the 290 KB chunk every viewer loads. Their modules are
 * empty here; a browser never reaches them (React Native is detected by `navigator.product`, the
 * doubles are only exported). If an upgrade moves them, start-up fails rather than ship them again.
 */
const NOT_FOR_BROWSERS = ['./handlers/ReactNative106', './handlers/FakeHandler', './test/fakeParameters'];

function withoutNonBrowserCode(dropped: Set<string>): esbuild.Plugin {
  return {
    name: 'mediasoup-client-without-non-browser-code',
    setup(build) {
      const filter = new RegExp(`^(${NOT_FOR_BROWSERS.map((m) => m.replace(/[./]/g, '\\$&')).join('|')})$`);
      build.onResolve({ filter }, (args) => {
        if (!/[\\/]mediasoup-client[\\/]lib[\\/]/.test(args.importer)) return undefined;
        dropped.add(args.path);
        return { path: args.path, namespace: 'not-for-browsers' };
      });
      build.onLoad({ filter: /.*/, namespace: 'not-for-browsers' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
    },
  };
}

/**
 * What each page needs before it can run, by entry script: the chunks it imports, and the code it
 * imports itself at once (the watch page's own code, loaded while its token request runs) with
 * their chunks. Code imported on demand further down (hls.js) is not among them.
 */
function staticImports(metafile: esbuild.Metafile): Map<string, string[]> {
  const outputs = new Map(Object.entries(metafile.outputs).map(([path, output]) => [resolve(path), output]));
  const needs = (path: string, seen: Set<string>): void => {
    for (const i of outputs.get(path)?.imports ?? []) {
      const next = resolve(i.path);
      if (i.kind === 'import-statement' && !seen.has(next)) {
        seen.add(next);
        needs(next, seen);
      }
    }
  };
  const out = new Map<string, string[]>();
  for (const [path, output] of outputs) {
    if (!output.entryPoint) continue;
    const seen = new Set<string>();
    needs(path, seen);
    for (const i of output.imports.filter((i) => i.kind === 'dynamic-import')) {
      seen.add(resolve(i.path));
      needs(resolve(i.path), seen);
    }
    out.set(path, [...seen]);
  }
  return out;
}

/**
 * Names a page's chunks in its head, so the browser fetches them with the entry script instead of
 * after it (one round trip less before the page's code runs).
 */
function withPreloads(html: string, chunks: string[]): string {
  const links = chunks.map((c) => `<link rel="modulepreload" href="${c}">`).join('\n  ');
  return links ? html.replace('</head>', `  ${links}\n</head>`) : html;
}

function compressed(body: Buffer): Pick<Asset, 'body' | 'gzip' | 'br'> {
  if (body.length < 1024) return { body };
  return { body, gzip: gzipSync(body, { level: 9 }), br: brotliCompressSync(body, BROTLI) };
}
