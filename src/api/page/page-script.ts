/**
 * The history page's script: the esbuild bundle of src/api/page/client/ that `npm run build`
 * (scripts/build-page.mjs) writes next to this module's compiled form in dist/. Read from disk
 * once; a build without it cannot serve the page, so registering the page fails, naming the fix.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * dist/src/api/page/assets/page.js. From the compiled module (dist/src/api/page/index.js) it is
 * a sibling directory; when src/ runs as TypeScript (vitest), it is found in dist/ all the same.
 */
function bundlePath(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? '../../../dist/src/api/page/assets/page.js' : './assets/page.js', import.meta.url);
}

let cached: string | undefined;

export function pageScript(): string {
  if (cached !== undefined) return cached;
  const path = bundlePath();
  try {
    cached = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw e;
    throw new Error(`the history page's script is not built (${fileURLToPath(path)} is missing): run \`npm run build\``, { cause: e });
  }
  return cached;
}
