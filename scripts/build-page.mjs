#!/usr/bin/env node
/**
 * Bundles the history page's script (src/api/page/client/main.ts and what it imports) into one
 * browser file, dist/src/api/page/assets/page.js, which src/api/page/page-script.ts reads and
 * serves at /assets/page.js. Runs after tsc in `npm run build`; a packed tarball carries the
 * bundle, so serving the page never needs esbuild. The file is written atomically (a temporary
 * file renamed over it), so a server or test reading it never sees half a bundle.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const clientDir = join(root, 'src/api/page/client');
const outfile = join(root, 'dist/src/api/page/assets/page.js');

const result = await build({
  entryPoints: [join(clientDir, 'main.ts')],
  tsconfig: join(clientDir, 'tsconfig.json'),
  bundle: true,
  platform: 'browser',
  format: 'iife',
  // Browsers from 2021 on; the page uses nothing newer.
  target: ['chrome100', 'firefox100', 'safari15'],
  charset: 'utf8',
  legalComments: 'none',
  // Readable in the browser's devtools; the file is small either way.
  minify: false,
  write: false,
  logLevel: 'warning',
});

const [file] = result.outputFiles;
mkdirSync(dirname(outfile), { recursive: true });
const temporary = `${outfile}.${process.pid}.tmp`;
writeFileSync(temporary, file.contents);
renameSync(temporary, outfile);
