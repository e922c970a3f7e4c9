/**
 * Builds the installable package (`npm pack -w client-sdk` runs this first): dist/index.js (and
 * dist/dev-token.js, the development-token helper alone, for pages that want it before the SDK), ESM,
 * with the protocol's code bundled in and the npm dependencies left as imports (the app's bundler
 * resolves them; hls.js stays a lazily loaded chunk), and type declarations in dist/types, the
 * protocol's among them, so an app needs nothing of this repository but the tarball.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as esbuild from 'esbuild';

const here = import.meta.dirname;
const dist = join(here, 'dist');
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

rmSync(dist, { recursive: true, force: true });
await esbuild.build({
  entryPoints: [join(here, 'src/index.ts'), join(here, 'src/dev-token.ts')],
  bundle: true,
  splitting: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  outdir: dist,
  chunkNames: 'chunk-[hash]',
  sourcemap: true,
  external: Object.keys(pkg.dependencies),
  conditions: ['onstage-source'],
  logLevel: 'warning',
});

execFileSync(join(here, '../node_modules/.bin/tsc'), ['-p', join(here, 'tsconfig.build.json')], { stdio: 'inherit' });
// Declarations keep the source's specifiers: make them ones an app's TypeScript resolves in the package.
const types = join(dist, 'types');
const protocolIndex = join(types, 'protocol/src/index.js');
for (const file of readdirSync(types, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts'))) {
  const path = join(types, file);
  const toProtocol = relative(join(path, '..'), protocolIndex);
  const text = readFileSync(path, 'utf8')
    .replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, '$1$2$3.js$2')
    .replace(/(['"])@onstage\/protocol\1/g, `$1${toProtocol.startsWith('.') ? toProtocol : `./${toProtocol}`}$1`);
  writeFileSync(path, text);
}
process.stdout.write(`built ${relative(process.cwd(), dist)}\n`);
