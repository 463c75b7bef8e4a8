import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/persistence/sqlite/sqlite-store.js';
import { Checkpointer, type CheckpointResult } from '../../src/persistence/sqlite/checkpointer.js';
import { CheckpointSchedule } from '../../src/persistence/sqlite/checkpoint-schedule.js';
import { WalSync } from '../../src/persistence/sqlite/wal-sync.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A WAL database of one table, as the store has it: no auto-checkpoint. */
function walDatabase(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  const path = join(dir, 'x.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (v TEXT)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  return { path, db, insert, walSize: () => statSync(`${path}-wal`).size };
}

describe('Checkpointer (WAL checkpoints on a worker thread)', () => {
  it("copies the writer's WAL into the database from its own connection, so the writer's next commit restarts the WAL", async () => {
    const { path, db, insert, walSize } = walDatabase('stepwise-ckpt-');
    for (let i = 0; i < 50; i++) insert.run('x'.repeat(500));
    insert.run('one more');
    const grown = walSize();
    expect(grown).toBeGreaterThan(0);

    const errors: string[] = [];
    const results: CheckpointResult[] = [];
    const checkpointer = new Checkpointer(path, { result: (r) => results.push(r), error: (m) => errors.push(m) });
    expect(checkpointer.request()).toBe('started');
    expect(checkpointer.request()).toBe('running');
    await checkpointer.close(); // waits for the checkpoint under way
    expect(errors).toEqual([]);
    // SQLite's row: every frame in the WAL copied.
    expect(results).toHaveLength(1);
    expect(results[0]!.busy).toBe(0);
    expect(results[0]!.log).toBeGreaterThan(0);
    expect(results[0]!.checkpointed).toBe(results[0]!.log);

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
    const errors: string[] = [];
    const checkpointer = new Checkpointer(join(tmpdir(), 'stepwise-no-such-dir', 'x.db'), { result: () => {}, error: (m) => errors.push(m) });
    expect(checkpointer.request()).toBe('started');
    await checkpointer.close();
    expect(errors).toHaveLength(1);
    expect(checkpointer.request()).toBe('failed');
  });
});

const NEVER = 2 ** 30; // a checkpoint interval that does not fire during a test

describe('CheckpointSchedule', () => {
  it("finishes on the store's connection what the thread's checkpoint left, so the next commit restarts the WAL", async () => {
    const { path, db, insert, walSize } = walDatabase('stepwise-finish-');
    const warnings: object[] = [];
    const schedule = new CheckpointSchedule(db, path, NEVER, { warn: (o) => warnings.push(o) });
    const commit = (v: string) => { schedule.beforeCommit(); insert.run(v); };
    for (let i = 0; i < 20; i++) commit('x'.repeat(500));
    // A reader on an older snapshot stops the thread's checkpoint short of the WAL's end.
    const reader = new Database(path);
    reader.exec('BEGIN');
    expect(reader.prepare('SELECT count(*) FROM t').pluck().get()).toBe(20);
    for (let i = 0; i < 20; i++) commit('y'.repeat(500));
    schedule.checkpointIfDirty();
    expect(schedule.checkpointing).toBe(true);
    await schedule.idle();
    reader.exec('COMMIT');
    reader.close();

    // Frames were left: without the finish, this commit would append to the WAL, and so would
    // every one after it until a checkpoint happened to copy everything between two commits.
    const grown = walSize();
    commit('after');
    expect(walSize()).toBe(grown);
    commit('and after');
    expect(walSize()).toBe(grown);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(42);
    expect(warnings).toEqual([]);
    await schedule.close();
    db.close();
  });

  it('keeps the every-4000-commits trigger when it fires while a checkpoint runs', async () => {
    const { path, db, insert } = walDatabase('stepwise-every-');
    const schedule = new CheckpointSchedule(db, path, NEVER, { warn: () => {} });
    schedule.beforeCommit();
    insert.run('x');
    schedule.checkpointIfDirty();
    expect(schedule.checkpointing).toBe(true);
    // 4000 commits (their writes do not matter here) while it runs: the trigger finds it running.
    for (let i = 0; i < 4000; i++) schedule.beforeCommit();
    schedule.checkpointIfDirty();
    await schedule.idle();
    // Its end starts the next one (on the next turn of the event loop).
    await new Promise((resolve) => setImmediate(resolve));
    expect(schedule.checkpointing).toBe(true);
    await schedule.close();
    db.close();
  });

  it('reports a failed checkpoint once', async () => {
    const { db } = walDatabase('stepwise-warn-');
    const warnings: object[] = [];
    const schedule = new CheckpointSchedule(db, join(tmpdir(), 'stepwise-no-such-dir', 'x.db'), NEVER, { warn: (o) => warnings.push(o) });
    schedule.beforeCommit();
    schedule.checkpointIfDirty();
    await schedule.idle();
    expect(warnings).toEqual([{ err: expect.any(String) }]);
    db.close();
    schedule.beforeCommit();
    schedule.checkpointIfDirty(); // the thread failed: on the (now closed) connection, which is skipped
    expect(warnings).toHaveLength(1);
    await schedule.close();
  });
});

describe('WalSync', () => {
  it('after close, refuses commits and syncs rather than reopening the WAL', async () => {
    const { path, db, insert } = walDatabase('stepwise-walclose-');
    const sync = new WalSync(db, path);
    sync.unsynced(() => insert.run('x'));
    await sync.sync();
    await sync.close();
    await expect(sync.sync()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(() => sync.unsynced(() => insert.run('y'))).toThrow(/closed/);
    if (process.platform === 'linux') {
      const open = readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } });
      expect(open.filter((p) => p === `${path}-wal`)).toHaveLength(1); // SQLite's own, not ours
    }
    db.close();
  });
});

describe('SqliteStore at FULL: execution commits sync the WAL off the event loop', () => {
  const started = (id: string) => ({
    executionId: id, create: { workflow: 'wf', version: 'v1', input: { n: 1 }, startedAt: 1 }, expectedSeq: 0,
    events: [{ type: 'ExecutionStarted' as const, timestamp: 1, data: { input: { n: 1 } } }], snapshot: { value: 'start' }, status: 'RUNNING' as const,
  });

  it('syncs the WAL of the file a symlink names, where SQLite keeps it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-symlink-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'real'));
    mkdirSync(join(dir, 'links'));
    new Database(join(dir, 'real', 'x.db')).close();
    symlinkSync(join(dir, 'real', 'x.db'), join(dir, 'links', 'x.db'));
    const store = await SqliteStore.open(join(dir, 'links', 'x.db'));
    expect(await store.commit([started('e1')])).toEqual([{ ok: true, lastSeq: 1, snapshotChars: expect.any(Number) }]);
    await store.close();
  });

  it('opens a dangling symlink: creates the file it points to, syncs that file\'s WAL, and locks that file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-dangling-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'real'));
    mkdirSync(join(dir, 'links'));
    // A chain: links/x.db -> links/y.db -> real/x.db, which does not exist yet.
    symlinkSync(join(dir, 'links', 'y.db'), join(dir, 'links', 'x.db'));
    symlinkSync(join(dir, 'real', 'x.db'), join(dir, 'links', 'y.db'));
    const store = await SqliteStore.open(join(dir, 'links', 'x.db'));
    expect(await store.commit([started('e1')])).toEqual([{ ok: true, lastSeq: 1, snapshotChars: expect.any(Number) }]);
    expect(existsSync(join(dir, 'real', 'x.db-wal'))).toBe(true);
    // One owner, whatever name the file is opened by.
    await expect(SqliteStore.open(join(dir, 'real', 'x.db'))).rejects.toMatchObject({ code: 'STORE_LOCKED' });
    await expect(SqliteStore.open(join(dir, 'links', 'y.db'))).rejects.toMatchObject({ code: 'STORE_LOCKED' });
    await store.close();
  });

  it('refuses an empty path rather than syncing a WAL beside the working directory', async () => {
    await expect(SqliteStore.open('')).rejects.toThrow(/needs a file path/);
  });

  it('keeps syncing the right WAL after process.chdir, when opened by a relative path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-chdir-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'other'));
    const cwd = process.cwd();
    process.chdir(dir);
    let store: SqliteStore | undefined;
    try {
      store = await SqliteStore.open('x.db');
      process.chdir(join(dir, 'other'));
      expect(await store.commit([started('e1')])).toEqual([{ ok: true, lastSeq: 1, snapshotChars: expect.any(Number) }]);
    } finally {
      process.chdir(cwd);
      await store?.close();
    }
    expect(existsSync(join(dir, 'other', 'x.db-wal'))).toBe(false);
  });

  it('commits at FULL through the off-loop sync, leaves the connection at FULL, and the commit is there after reopening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-walsync-'));
    dirs.push(dir);
    const path = join(dir, 'x.db');
    const store = await SqliteStore.open(path);
    const outcomes = await store.commit([{
      executionId: 'e1', create: { workflow: 'wf', version: 'v1', input: { n: 1 }, startedAt: 1 }, expectedSeq: 0,
      events: [{ type: 'ExecutionStarted', timestamp: 1, data: { input: { n: 1 } } }], snapshot: { value: 'start' }, status: 'RUNNING',
    }]);
    expect(outcomes).toEqual([{ ok: true, lastSeq: 1, snapshotChars: expect.any(Number) }]);
    // Only execution commits run at NORMAL (and sync themselves); every other write stays at FULL.
    expect(store.connection.pragma('synchronous', { simple: true })).toBe(2);
    await store.close();
    const again = await SqliteStore.open(path);
    expect((await again.getExecution('e1'))?.status).toBe('RUNNING');
    await again.close();
  });

  it('takes and hands back leases without syncing (no fsync on the event loop), and leaves the connection at FULL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-leasesync-'));
    dirs.push(dir);
    const path = join(dir, 'x.db');
    const store = await SqliteStore.open(path);
    await store.commit([{ ...started('e1'), schedule: [{ executionId: 'e1', kind: 'timer', key: 'w', attempt: 1, dueAt: 5 }] }]);
    // The synchronous level each write to `work` ran at, as SQLite saw it (2 = FULL, 1 = NORMAL).
    const db = store.connection;
    db.exec(`CREATE TEMP TABLE levels (level INTEGER);
      CREATE TEMP TRIGGER work_write AFTER UPDATE ON main.work BEGIN INSERT INTO levels SELECT synchronous FROM pragma_synchronous; END;`);
    const levels = () => db.prepare('SELECT level FROM levels').pluck().all() as number[];
    const clear = () => db.exec('DELETE FROM levels');

    expect(await store.claimWork({ owner: 'w1', now: 10, leaseUntil: 100, limit: 10 })).toHaveLength(1);
    expect(levels()).toEqual([1]);
    clear();
    await store.releaseLeases('w1');
    expect(levels()).toEqual([1]);
    clear();
    await store.claimWork({ owner: 'w1', now: 10, leaseUntil: 100, limit: 10 });
    clear();
    await store.releaseAllLeases();
    expect(levels()).toEqual([1]);

    // A task token's row: its heartbeat moves an acknowledged deadline (synced); its claim and renewal are leases.
    await store.commit([{ ...started('e2'), schedule: [{ executionId: 'e2', kind: 'outside', key: 'o', attempt: 1, dueAt: 1000, tokenHash: 'h1', heartbeatMs: 100 }] }]);
    clear();
    expect(await store.extendByToken('h1', 20)).toBe(true);
    expect(levels()).toEqual([2]);
    clear();
    expect(await store.claimByToken('h1', 'w2', 20, 200)).toMatchObject({ executionId: 'e2', leaseOwner: 'w2' });
    expect(levels()).toEqual([1]);
    clear();
    expect(await store.renewLeases('w2', [{ executionId: 'e2', kind: 'outside', key: 'o' }], 300)).toEqual([]);
    expect(levels()).toEqual([1]);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    await store.close();
  });
});
