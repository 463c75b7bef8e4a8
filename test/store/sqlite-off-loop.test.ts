import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/persistence/sqlite/sqlite-store.js';
import { Checkpointer } from '../../src/persistence/sqlite/checkpointer.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('Checkpointer (WAL checkpoints on a worker thread)', () => {
  it("copies the writer's WAL into the database from its own connection, so the writer's next commit restarts the WAL", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-ckpt-'));
    dirs.push(dir);
    const path = join(dir, 'x.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (v TEXT)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    for (let i = 0; i < 50; i++) insert.run('x'.repeat(500));
    const walSize = () => statSync(`${path}-wal`).size;
    insert.run('one more');
    const grown = walSize();
    expect(grown).toBeGreaterThan(0);

    const errors: string[] = [];
    const checkpointer = new Checkpointer(path, (m) => errors.push(m));
    expect(checkpointer.request()).toBe(true);
    await checkpointer.close(); // waits for the checkpoint under way
    expect(errors).toEqual([]);

    // Everything was copied: the next commit writes from the start of the WAL, which stops growing.
    insert.run('after');
    expect(walSize()).toBe(grown);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(52);
    db.close();
    const reopened = new Database(path, { readonly: true });
    expect(reopened.prepare('SELECT count(*) FROM t').pluck().get()).toBe(52);
    reopened.close();
  });

  it('reports a failed thread and hands checkpoints back to the store', async () => {
    const checkpointer = new Checkpointer(join(tmpdir(), 'stepwise-no-such-dir', 'x.db'), () => {});
    expect(checkpointer.request()).toBe(true);
    await checkpointer.close();
    expect(checkpointer.request()).toBe(false);
  });
});

describe('SqliteStore at FULL: execution commits sync the WAL off the event loop', () => {
  it("reports the transaction written before its promise resolves, leaves the connection at FULL, and the commit is there after reopening", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-walsync-'));
    dirs.push(dir);
    const path = join(dir, 'x.db');
    const store = await SqliteStore.open(path);
    const order: string[] = [];
    const commit = store.commit([{
      executionId: 'e1', create: { workflow: 'wf', version: 'v1', input: { n: 1 }, startedAt: 1 }, expectedSeq: 0,
      events: [{ type: 'ExecutionStarted', timestamp: 1, data: { input: { n: 1 } } }], snapshot: { value: 'start' }, status: 'RUNNING',
    }], () => order.push('written'));
    const outcomes = await commit.then((o) => (order.push('resolved'), o));
    expect(outcomes).toEqual([{ ok: true, lastSeq: 1 }]);
    expect(order).toEqual(['written', 'resolved']);
    // Only execution commits run at NORMAL (and sync themselves); every other write stays at FULL.
    expect(store.connection.pragma('synchronous', { simple: true })).toBe(2);
    await store.close();
    const again = await SqliteStore.open(path);
    expect((await again.getExecution('e1'))?.status).toBe('RUNNING');
    await again.close();
  });
});
