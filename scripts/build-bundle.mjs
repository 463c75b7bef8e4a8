#!/usr/bin/env node
/**
 * Bundles the package root (src/index.ts) and the CLI (src/cli/main.ts) with esbuild and writes
 * them over tsc's dist/src/index.js and dist/src/cli/main.js, where package.json's "exports" and
 * "bin" point. Why: `stepwise serve` spent about 40% of its start-up loading ~200 separate ES
 * modules (a read, a compile and a link each); the bundle is a handful of files
 * (docs/performance.md, issue 12, cold start). Runs after tsc in `npm run build`.
 *
 * - One copy of the engine: both entries are split (format esm) so the code they share is one
 *   chunk file (dist/src/chunks/). The CLI and the workflow module it loads (which imports the
 *   package root, or dist/src/index.js in this repository) therefore load the engine once.
 * - Dependencies stay external (`packages: 'external'`): node_modules are imported as they are,
 *   and the lazily loaded ones (pg, @fastify/swagger, JSONata...) still load only when used.
 *   Dynamic imports of the package's own modules become chunks of their own, loaded as lazily.
 * - Built from the TypeScript sources, not from tsc's output: the two entry files are overwritten
 *   here, so tsc's copies of them cannot be the input of the next run.
 * - Everything else tsc wrote stays (the .d.ts files, and the JavaScript of every module, which
 *   tests and the crash/cluster fixtures import by deep path: those get their own copy).
 * - Each file is written atomically (a temporary file renamed over it), chunks before entries:
 *   tests and servers may be reading dist/ while it is rebuilt. Chunks of earlier builds are
 *   removed afterwards.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist/src');
const chunksDir = join(outdir, 'chunks');

const result = await build({
  absWorkingDir: root,
  entryPoints: { index: 'src/index.ts', 'cli/main': 'src/cli/main.ts' },
  tsconfig: join(root, 'tsconfig.json'),
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  // No source maps, as tsc writes none (tsconfig.build.json): the package does not ship them, and
  // a `//# sourceMappingURL` naming a file that is not there only makes tools look for it.
  sourcemap: false,
  charset: 'utf8',
  legalComments: 'none',
  // Readable stack traces and debugging; minifying would save little of the start-up time.
  minify: false,
  write: false,
  logLevel: 'warning',
});

// Chunks first, the two entry files last: a process importing an entry meanwhile finds every
// chunk the new entry names. Chunks of the last build are removed only after that (a server
// started from the old entries may still import one lazily until it restarts; chunk names carry
// a content hash, so a rebuild of the same sources writes the same names).
const isChunk = (file) => dirname(file.path) === chunksDir;
const outputs = [...result.outputFiles.filter(isChunk), ...result.outputFiles.filter((f) => !isChunk(f))];
const written = new Set();
for (const file of outputs) {
  mkdirSync(dirname(file.path), { recursive: true });
  const temporary = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temporary, file.contents);
  renameSync(temporary, file.path);
  written.add(file.path);
}
for (const name of readdirSync(chunksDir)) {
  const path = join(chunksDir, name);
  if (!written.has(path)) rmSync(path, { force: true });
}
