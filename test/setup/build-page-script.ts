/**
 * vitest global setup: bundles the history page's script (scripts/build-page.mjs, esbuild, well
 * under a second) before any test, so tests that run src/ directly serve the script of the
 * client sources as they are now, not of the last `npm run build`.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../../scripts/build-page.mjs', import.meta.url))], { stdio: 'inherit' });
}
