/**
 * Real processes that use the built package (dist/), for tests about what a process loads and
 * what two processes may do to one SQLite file. The package is built once before any test (vitest's
 * global setup), never while tests run.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { assertDistCurrent } from '../fixtures/dist-check.js';
import { ChildLines } from '../fixtures/child-lines.js';
import { repoRoot } from '../fixtures/paths.js';

export const ROOT = repoRoot();

/** dist/ is built once, by vitest's global setup (test/setup/build-page-script.ts); this checks it. */
export function ensureBuilt(): void {
  assertDistCurrent();
}

/**
 * Runs an ES module `script` in a new Node process. In the script, `ROOT` is the repository and
 * `ARGS` the extra arguments; `mark(x)` prints one JSON line the test can wait for.
 */
export function runModule(script: string, args: string[] = []): ChildLines {
  const prelude = `const ROOT = ${JSON.stringify(ROOT)}; const ARGS = ${JSON.stringify(args)};
    const mark = (x) => process.stdout.write(JSON.stringify(x) + '\\n');
    const pkg = () => import(${JSON.stringify(`file://${join(ROOT, 'dist', 'src', 'index.js')}`)});\n`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', prelude + script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return new ChildLines(child);
}

/** The first JSON line the child printed that has `key`, or undefined if it exited without one. */
export async function markOf<T = Record<string, unknown>>(child: ChildLines, key: string, timeoutMs = 20_000): Promise<T | undefined> {
  const line = await child.waitForLine((l) => l.startsWith('{') && key in JSON.parse(l), timeoutMs);
  return line === undefined ? undefined : (JSON.parse(line) as T);
}
