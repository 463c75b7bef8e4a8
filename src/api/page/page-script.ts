/**
 * The history page's script: the esbuild bundle of src/api/page/client/ that `npm run build`
 * (scripts/build-page.mjs) writes next to this module's compiled form in dist/. Read from disk
 * once; a build without it cannot serve the page, so registering the page fails, naming the fix.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../core/package-root.js';

/**
 * dist/src/api/page/assets/page.js under the package root: found the same way whether this module
 * runs compiled by tsc (dist/src/api/page/), bundled (dist/src/chunks/) or as TypeScript (vitest).
 */
function bundlePath(): string {
  return join(packageRoot(), 'dist/src/api/page/assets/page.js');
}

let cached: string | undefined;

function notBuilt(path: string, cause?: unknown): Error {
  return new Error(`the history page's script is not built (${path} is missing): run \`npm run build\``, { cause });
}

export function pageScript(): string {
  if (cached !== undefined) return cached;
  const path = bundlePath();
  try {
    cached = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw e;
    throw notBuilt(path, e);
  }
  return cached;
}

/** Throws, as pageScript() would, when the script was not built; without reading it. */
export function checkPageScript(): void {
  const path = bundlePath();
  if (cached === undefined && !existsSync(path)) throw notBuilt(path);
}
