/**
 * Real processes that use the built package (dist/), for tests about what a process loads and
 * what two processes may do to one SQLite file. The package is rebuilt first when any source file
 * is newer than its build, so a test never runs yesterday's code.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ChildLines } from '../fixtures/child-lines.js';
import { repoRoot } from '../fixtures/paths.js';

export const ROOT = repoRoot();

function newestSourceIsBuilt(dir: string): boolean {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!newestSourceIsBuilt(path)) return false;
    } else if (entry.name.endsWith('.ts')) {
      const built = join(ROOT, 'dist', relative(ROOT, path)).replace(/\.ts$/, '.js');
      try {
        if (statSync(built).mtimeMs < statSync(path).mtimeMs) return false;
      } catch {
        return false;
      }
    }
  }
  return true;
}

/** Builds dist/ unless every file under src/ is already built from its current text. */
export function ensureBuilt(): void {
  if (newestSourceIsBuilt(join(ROOT, 'src'))) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
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
