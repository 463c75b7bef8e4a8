import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepwiseError } from '../../src/core/errors.js';
import { SqliteStore } from '../../src/persistence/sqlite/sqlite-store.js';
import { ensureBuilt, markOf, runModule } from './package-child.js';

/**
 * One process owns an SQLite file at a time, enforced (DESIGN invariant 10): a second store on a
 * file that a live store has open is refused at open with STORE_LOCKED, before it reads or writes
 * anything; the lock goes with its process, so a SIGKILLed owner never blocks a restart.
 */
const dir = mkdtempSync(join(tmpdir(), 'stepwise-owner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function lockedError(open: Promise<unknown>): Promise<StepwiseError> {
  const error = await open.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StepwiseError);
  return error as StepwiseError;
}

describe('one store per SQLite file', () => {
  it('refuses a second store on the file in the same process until the first is closed', async () => {
    const path = join(dir, 'same-process.db');
    const first = await SqliteStore.open(path);
    const error = await lockedError(SqliteStore.open(path));
    expect(error.code).toBe('STORE_LOCKED');
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/another Stepwise process/);
    // the refused open changed nothing: the first store still works
    expect(await first.commit([{ executionId: 'a', create: { workflow: 'w', version: 'v', input: null, startedAt: 1 }, expectedSeq: 0, events: [], snapshot: {}, status: 'RUNNING' }])).toEqual([{ ok: true, lastSeq: 0, snapshotChars: expect.any(Number) }]);
    await first.close();
    const second = await SqliteStore.open(path);
    expect(await second.getExecution('a')).toMatchObject({ id: 'a' });
    await second.close();
  });

  it('refuses a second store that names the file through a symlink, or a path with ./ in it', async () => {
    mkdirSync(join(dir, 'real'), { recursive: true });
    mkdirSync(join(dir, 'links'), { recursive: true });
    const path = join(dir, 'real', 'linked.db');
    const first = await SqliteStore.open(path);
    symlinkSync(path, join(dir, 'links', 'linked.db'));
    expect((await lockedError(SqliteStore.open(join(dir, 'links', 'linked.db')))).code).toBe('STORE_LOCKED');
    expect((await lockedError(SqliteStore.open(`${dir}/real/./linked.db`))).code).toBe('STORE_LOCKED');
    await first.close();
    // Closed: the other name opens it.
    const second = await SqliteStore.open(join(dir, 'links', 'linked.db'));
    await second.close();
  });

  it('lets in-memory stores be as many as you like', async () => {
    const stores = await Promise.all([1, 2, 3].map(() => SqliteStore.open(':memory:')));
    await Promise.all(stores.map((s) => s.close()));
  });

  describe('across processes', () => {
    beforeAll(() => ensureBuilt(), 120_000);

    const holder = (path: string) => runModule(`
      const { SqliteStore } = await pkg();
      const store = await SqliteStore.open(ARGS[0]);
      await store.commit([{ executionId: 'held', create: { workflow: 'w', version: 'v', input: 1, startedAt: 1 }, expectedSeq: 0, events: [], snapshot: {}, status: 'RUNNING' }]);
      mark({ holding: process.pid });
      setInterval(() => {}, 60_000);
    `, [path]);

    const opener = (path: string) => runModule(`
      const { SqliteStore } = await pkg();
      try {
        const store = await SqliteStore.open(ARGS[0]);
        mark({ opened: (await store.getExecution('held'))?.id ?? null });
        await store.close();
      } catch (error) {
        mark({ opened: false, code: error.code, message: error.message });
      }
    `, [path]);

    it('refuses a second process with STORE_LOCKED; after a SIGKILL of the owner a new process opens it', async () => {
      const path = join(dir, 'two-processes.db');
      const first = holder(path);
      try {
        expect(await markOf(first, 'holding'), first.stderr).toEqual({ holding: first.child.pid });

        const second = opener(path);
        const refused = await markOf<{ opened: boolean; code: string; message: string }>(second, 'opened');
        expect(refused, second.stderr).toMatchObject({ opened: false, code: 'STORE_LOCKED' });
        expect(refused!.message).toContain(path);
        expect((await second.exited).code).toBe(0);
        // this process is refused too, and a read-only look at the file still works
        expect((await lockedError(SqliteStore.open(path))).code).toBe('STORE_LOCKED');
        const reader = new Database(path, { readonly: true, fileMustExist: true });
        expect(reader.prepare("SELECT id FROM executions WHERE id = 'held'").pluck().get()).toBe('held');
        reader.close();
      } finally {
        first.child.kill('SIGKILL');
      }
      expect((await first.exited).signal).toBe('SIGKILL');

      const third = opener(path);
      expect(await markOf(third, 'opened'), third.stderr).toEqual({ opened: 'held' });
      expect((await third.exited).code).toBe(0);
    });
  });
});
