/**
 * vitest global setup, run once before any test file:
 * - bundles the history page's script (scripts/build-page.mjs, esbuild, well under a second), so
 *   tests that run src/ directly serve the script of the client sources as they are now;
 * - compiles dist/ with tsc when a source is newer than its output (`vitest run` without
 *   `npm test`'s build). Tests never compile on their own: a rebuild while the crash, cluster
 *   and CLI tests run their child processes from dist/ would rewrite files those processes are
 *   loading (a CI run once died on a half-written dist/src/asl/inline-runner.js that way);
 *   then, as `npm run build` does, bundles the package root and the CLI over tsc's copies of
 *   them (scripts/build-bundle.mjs) and precompiles the draft-07 meta-schema check
 *   (scripts/build-schema-check.mjs), so the tests run what is shipped.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FIXTURE_SOURCES, staleOutputs } from '../fixtures/dist-check.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export default function setup(): void {
  execFileSync(process.execPath, [`${root}scripts/build-page.mjs`], { stdio: 'inherit' });
  if (staleOutputs(FIXTURE_SOURCES).length === 0) return;
  try {
    execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`], { cwd: root, stdio: 'pipe' });
  } catch (error) {
    // tsc still emits JavaScript when it finds type errors; the type check itself is `npm test`'s job.
    const stale = staleOutputs(FIXTURE_SOURCES);
    if (stale.length > 0) throw new Error(`tsc did not build ${stale.slice(0, 5).join(', ')}: ${String((error as { stdout?: unknown }).stdout ?? error)}`, { cause: error });
  }
  execFileSync(process.execPath, [`${root}scripts/build-bundle.mjs`], { stdio: 'inherit' });
  execFileSync(process.execPath, [`${root}scripts/build-schema-check.mjs`], { stdio: 'inherit' });
}
