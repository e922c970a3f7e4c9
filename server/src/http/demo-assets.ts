import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

export type Asset = { body: Buffer; contentType: string };

/**
 * The demo pages and their scripts. The scripts (and the client-sdk they import) are bundled with
 * esbuild at start-up, in memory, so `npm start` needs no build step (it takes well under a second).
 */
export async function loadDemoAssets(): Promise<Map<string, Asset>> {
  const result = await esbuild.build({
    entryPoints: { host: `${PUBLIC_DIR}host.ts`, watch: `${PUBLIC_DIR}watch.ts` },
    bundle: true,
    format: 'esm',
    target: 'chrome111',
    minify: true,
    sourcemap: 'linked',
    write: false,
    outdir: '/assets',
    logLevel: 'silent',
  });
  const assets = new Map<string, Asset>();
  for (const file of result.outputFiles) {
    const contentType = file.path.endsWith('.map') ? 'application/json' : 'text/javascript; charset=utf-8';
    assets.set(file.path, { body: Buffer.from(file.contents), contentType });
  }
  const files: [string, string, string][] = [
    ['/assets/style.css', 'style.css', 'text/css; charset=utf-8'],
    ['/pages/host.html', 'host.html', 'text/html; charset=utf-8'],
    ['/pages/watch.html', 'watch.html', 'text/html; charset=utf-8'],
    ['/pages/index.html', 'index.html', 'text/html; charset=utf-8'],
  ];
  for (const [key, file, contentType] of files) {
    assets.set(key, { body: await readFile(`${PUBLIC_DIR}${file}`), contentType });
  }
  return assets;
}
