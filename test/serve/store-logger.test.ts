/**
 * `serve` opens its SQLite store with the server's logger: a fault the store recovers from by
 * itself (a failed WAL checkpoint) is a pino line naming the worker, as the engine's lines are,
 * not a console.warn beside them. The fault: the database's directory moves away after a commit,
 * so the checkpoint thread, which opens the file by its path at its first checkpoint, cannot.
 * Run in a child process (the compiled package), whose stdout is pino's destination.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt } from '../cli/cli-helpers.js';

const SCRIPT = `
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { serve, workflow } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/src/index.js')).href)};
const dir = process.argv[2];
const noop = workflow('noop').task('a', async () => 1).build();
const server = await serve({ workflows: [noop], db: join(dir, 'store.db'), port: 0, logLevel: 'warn', stepFunctions: false });
// One commit, so the next checkpoint tick asks the thread for one; then, before any timer can
// run, the directory goes: commit() writes and opens the WAL for its sync before it returns, so
// the rename comes before the commit's sync ends and before the checkpoint thread opens the file.
const committed = server.store.commit([{
  executionId: 'x', create: { workflow: 'other', version: 'v1', input: {}, startedAt: Date.now() }, expectedSeq: 0,
  events: [{ type: 'ExecutionStarted', timestamp: Date.now(), data: { input: {} } }], snapshot: {}, status: 'RUNNING',
}]);
renameSync(dir, dir + '-moved');
await committed;
console.error('moved');
`;

const WARNING = 'SQLite WAL checkpoint failed';

let tmp: string;
beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'stepwise-store-logger-'));
  writeFileSync(join(tmp, 'run.mjs'), SCRIPT);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('serve: the SQLite store logs through the server logger', () => {
  it('reports a failed checkpoint as a pino line of the worker', async () => {
    const dbDir = join(tmp, 'db');
    const child = spawn(process.execPath, [join(tmp, 'run.mjs'), dbDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    try {
      // Waits for the warning on either stream (a console.warn goes to stderr), or the child's end.
      await new Promise<void>((resolve, reject) => {
        const check = () => { if ((stdout + stderr).includes(WARNING)) resolve(); };
        child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); check(); });
        child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); check(); });
        child.on('exit', (code) => reject(new Error(`the script exited with ${code} before the warning:\n${stdout}\n${stderr}`)));
      });
    } finally {
      child.kill('SIGKILL');
      rmSync(`${dbDir}-moved`, { recursive: true, force: true });
    }
    expect(stderr).not.toContain(WARNING);
    const line = stdout.split('\n').find((l) => l.includes(WARNING));
    expect(JSON.parse(line!)).toMatchObject({ level: 40, worker: expect.any(String), err: expect.any(String), msg: expect.stringContaining(WARNING) });
  }, 30_000);
});
