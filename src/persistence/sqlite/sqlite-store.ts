import Database from 'better-sqlite3';
import { lstatSync, mkdirSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { decodeListCursor, encodeListCursor } from '../../core/cursor.js';
import type { HistoryEvent } from '../../core/events.js';
import type {
  ClaimRequest, CommitOutcome, CorrelatedEvent, ExecutionCommit, ExecutionSummary, ListQuery, PublishOutcome, StepState, Store, StoreStats,
  StoredExecution, WorkItem, WorkKind, WorkRef,
} from '../../core/store.js';
import { WORK_KINDS } from '../../core/work-ref.js';

/** Kinds whose due time wakes the engine: 'queued' rows wait for a poll, not for the claimer. */
const DUE_KINDS = WORK_KINDS.filter((kind) => kind !== 'queued');
import { STEP_STATE_COLUMNS, toEvent, toStored, toSummary, type ExecutionRow, type HistoryRow } from '../rows.js';
import { asStorageError } from '../storage-error.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { OwnerLock } from './owner-lock.js';
import { prepareEventWrites, type EventWrites } from './event-writes.js';
import { prepareCommitWrites } from './commit-writes.js';
import { stepStateFromTuple, workFromTuple, WORK_COLUMNS } from './raw-rows.js';
import { sqliteStats } from './stats.js';
import { WalSync } from './wal-sync.js';
import { CheckpointSchedule, consoleWarnLogger, type WarnLogger } from './checkpoint-schedule.js';

export interface SqliteStoreOptions {
  /**
   * 'full' (default) survives power loss as well as a process crash; 'normal' survives a process
   * crash but may lose the last commits on power loss, for about 3x the single-commit rate.
   * Group commit makes the difference small under load. See docs/architecture.md.
   */
  synchronous?: 'full' | 'normal';
  /** How long a statement waits for a lock before failing with SQLITE_BUSY. @default 5000 */
  busyTimeoutMs?: number;
  /**
   * How often the WAL is checkpointed into the database file, off the commit path, by a worker
   * thread (checkpoint-schedule.ts). SQLite's own auto-checkpoint runs inside whichever commit
   * crosses its threshold, which shows as a p99 spike of milliseconds. @default 1000
   */
  checkpointIntervalMs?: number;
  /** Where a fault the store recovers from by itself (a failed checkpoint) is reported. @default console.warn */
  logger?: WarnLogger;
}

/** Links followed at most when resolving the file to open, as the kernel's own limit (Linux: 40). */
const MAX_SYMLINK_HOPS = 40;

/**
 * The file SQLite opens for `path`, as a real path (absolute, symlinks resolved), worked out once
 * before it is opened: the OwnerLock sits beside it, and the WAL sync and the checkpoint thread
 * use it. A name with nothing there is the file SQLite creates, in its real directory; a symlink
 * to a file not made yet is followed too, since SQLite creates the file where it points (a lock
 * beside the link instead would let a second process open the same file by its own name).
 */
function resolveBeforeOpen(path: string): string {
  let p = resolve(path);
  for (let hops = 0; ; hops++) {
    if (!lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink()) break;
    // Too many links: what the kernel makes of the rest (a loop throws ELOOP).
    if (hops === MAX_SYMLINK_HOPS) return realpathSync(p);
    p = resolve(dirname(p), readlinkSync(p));
  }
  return join(realpathSync(dirname(p)), basename(p));
}

/**
 * The embedded store: one SQLite file in WAL mode, owned by one process, which `open` enforces
 * (a second store on the file fails with STORE_LOCKED; see owner-lock.ts). Being exclusive, it
 * holds a lease until it is released (releaseLeases at shutdown, releaseAllLeases when the next
 * process starts) rather than until `leaseUntil`: no other process could take the work over.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly exclusive = true;
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly eventWrites: EventWrites;
  private readonly commitAll: (commits: ExecutionCommit[]) => CommitOutcome[];
  private readonly checkpoints: CheckpointSchedule | undefined;
  /**
   * At FULL on a file: commits sync the WAL off the event loop (wal-sync.ts says why that is as
   * durable), and lease writes are never synced (leaseWrite says why they need not be).
   */
  private readonly walSync: WalSync | undefined;

  /** Opens (creating if needed) and migrates the file; fails with STORE_LOCKED if another store has it open. */
  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    if (path === ':memory:') return new SqliteStore(path, options, undefined, undefined);
    if (path === '') throw new TypeError("an SQLite store needs a file path (or ':memory:'), not ''");
    let real: string;
    try {
      mkdirSync(dirname(path), { recursive: true });
      real = resolveBeforeOpen(path);
    } catch (error) {
      throw asStorageError(error);
    }
    // One lock per file, whatever name it is opened by: a symlink and its target share it.
    const lock = OwnerLock.acquire(path, real);
    try {
      return new SqliteStore(path, options, lock, real);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  private constructor(
    path: string,
    options: SqliteStoreOptions,
    private readonly lock: OwnerLock | undefined,
    /**
     * The file's real path as `open` resolved it, undefined for ':memory:': SQLite keeps the WAL
     * beside the file a symlink points to, and absolute, it survives process.chdir().
     */
    realPath: string | undefined,
  ) {
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      // 16 MiB of page cache: enough for the hot pages; parked executions must cost disk, not RAM.
      this.db.pragma('cache_size = -16384');
      this.db.pragma('temp_store = MEMORY');
      this.db.pragma('wal_autocheckpoint = 0');
      this.migrate();
    } catch (error) {
      throw asStorageError(error);
    }
    const db = this.db;
    this.stmt = {
      getExecution: db.prepare('SELECT * FROM executions WHERE id = ?'),
      getStepState: db.prepare(`SELECT ${STEP_STATE_COLUMNS} FROM executions WHERE id = ?`).raw(true),
      // A batch's rows in one statement (ids as a JSON array): one call into SQLite instead of one per row.
      getStepStateBatch: db.prepare(`SELECT ${STEP_STATE_COLUMNS} FROM executions WHERE id IN (SELECT value FROM json_each(?))`).raw(true),
      readHistory: db.prepare('SELECT seq, type, ts, step, attempt, data FROM history WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
      renew: db.prepare('UPDATE work SET lease_until = ? WHERE execution_id = ? AND kind = ? AND key = ? AND lease_owner = ?'),
      release: db.prepare('UPDATE work SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?'),
      releaseAll: db.prepare('UPDATE work SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL'),
      claimByToken: db.prepare(
        `UPDATE work SET lease_owner = ?, lease_until = ? WHERE token_hash = ? AND kind = 'outside' AND lease_owner IS NULL RETURNING ${WORK_COLUMNS}`,
      ).raw(true),
      extendByToken: db.prepare(
        `UPDATE work SET due_at = CASE WHEN heartbeat_ms IS NULL THEN due_at ELSE min(coalesce(deadline, ? + heartbeat_ms), ? + heartbeat_ms) END
         WHERE token_hash = ? AND kind = 'outside' AND lease_owner IS NULL`,
      ),
      nextDue: db.prepare(
        `SELECT min(due_at) FROM (${DUE_KINDS.map(() =>
          'SELECT * FROM (SELECT due_at FROM work WHERE kind = ? AND lease_owner IS NULL ORDER BY due_at LIMIT 1)').join(' UNION ALL ')})`,
      ).pluck(),
      listWork: db.prepare(`SELECT ${WORK_COLUMNS} FROM work WHERE execution_id = ? ORDER BY due_at`).raw(true),
    };
    this.eventWrites = prepareEventWrites(db);
    const applyCommit = prepareCommitWrites(db, this.eventWrites);
    this.commitAll = db.transaction((commits: ExecutionCommit[]) => commits.map(applyCommit));
    if (realPath !== undefined) {
      // Not on Windows, where syncing a directory or a read-only handle fails: commits stay at
      // FULL there, synced by SQLite inside COMMIT.
      if (options.synchronous !== 'normal' && process.platform !== 'win32') this.walSync = new WalSync(db, realPath);
      this.checkpoints = new CheckpointSchedule(db, realPath, options.checkpointIntervalMs ?? 1000, options.logger ?? consoleWarnLogger);
    }
  }

  /** The underlying connection, for tests and benchmarks that need raw SQL (integrity checks, baselines). */
  get connection(): Database.Database {
    return this.db;
  }

  private migrate(): void {
    const run = this.db.transaction(() => {
      const current = this.db.pragma('user_version', { simple: true }) as number;
      if (current > SQLITE_MIGRATIONS.length) {
        throw new Error(`the database is at schema version ${current}, newer than this Stepwise knows (${SQLITE_MIGRATIONS.length}); upgrade Stepwise`);
      }
      for (let v = current; v < SQLITE_MIGRATIONS.length; v++) this.db.exec(SQLITE_MIGRATIONS[v]);
      if (current < SQLITE_MIGRATIONS.length) this.db.pragma(`user_version = ${SQLITE_MIGRATIONS.length}`);
    });
    run.immediate();
  }

  commit(commits: ExecutionCommit[]): Promise<CommitOutcome[]> {
    this.checkpoints?.beforeCommit();
    const { walSync } = this;
    if (!walSync) return this.guard(() => this.commitAll(commits));
    // Written to the WAL, then synced off the event loop before the promise resolves. The sync
    // is asked for at once, so a close() called next still syncs this write.
    let synced: Promise<void> = Promise.resolve();
    return this.guard(() => {
      const outcomes = walSync.unsynced(() => this.commitAll(commits));
      synced = walSync.sync();
      return outcomes;
    }).then(async (o) => {
      await synced;
      return o;
    });
  }

  getExecution(id: string): Promise<StoredExecution | undefined> {
    return this.guard(() => {
      const row = this.stmt.getExecution.get(id) as ExecutionRow | undefined;
      return row ? toStored(row) : undefined;
    });
  }

  /** A loop over one prepared statement: on an embedded database a query costs no round trip. */
  getExecutions(ids: readonly string[]): Promise<Map<string, StoredExecution>> {
    return this.guard(() => {
      const found = new Map<string, StoredExecution>();
      for (const id of ids) {
        if (found.has(id)) continue;
        const row = this.stmt.getExecution.get(id) as ExecutionRow | undefined;
        if (row) found.set(id, toStored(row));
      }
      return found;
    });
  }

  /**
   * One statement for the whole batch (a timer burst reads hundreds of executions a round): ~27%
   * less CPU per row than a loop over the one-row statement, JSON parse included (7.2 → 5.3 µs,
   * 2,000 rows of a parked timer workflow).
   */
  getStepStates(ids: readonly string[]): Promise<Map<string, StepState>> {
    return this.guard(() => {
      const found = new Map<string, StepState>();
      if (ids.length === 1) {
        const row = this.stmt.getStepState.get(ids[0]) as unknown[] | undefined;
        if (row) found.set(row[0] as string, stepStateFromTuple(row));
      } else if (ids.length > 1) {
        for (const row of this.stmt.getStepStateBatch.all(JSON.stringify(ids)) as unknown[][]) found.set(row[0] as string, stepStateFromTuple(row));
      }
      return found;
    });
  }

  listExecutions(query: ListQuery): Promise<{ items: ExecutionSummary[]; nextCursor?: string }> {
    return this.guard(() => {
      const after = query.cursor === undefined ? undefined : decodeListCursor(query.cursor);
      const where: string[] = [];
      const params: unknown[] = [];
      if (query.workflow !== undefined) { where.push('workflow = ?'); params.push(query.workflow); }
      if (query.status !== undefined) { where.push('status = ?'); params.push(query.status); }
      if (query.parentId !== undefined) { where.push('parent_id = ?'); params.push(query.parentId); }
      if (after) { where.push('(started_at, id) < (?, ?)'); params.push(after.startedAt, after.id); }
      const sql = `SELECT id, workflow, version, status, input, output, error, started_at, ended_at, parent_id FROM executions
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT ?`;
      const rows = this.db.prepare(sql).all(...params, query.limit + 1) as ExecutionRow[];
      const items = rows.slice(0, query.limit).map(toSummary);
      const last = items[items.length - 1];
      return rows.length > query.limit && last ? { items, nextCursor: encodeListCursor(last) } : { items };
    });
  }

  readHistory(executionId: string, afterSeq: number, limit: number): Promise<HistoryEvent[]> {
    return this.guard(() => (this.stmt.readHistory.all(executionId, afterSeq, limit) as HistoryRow[]).map(toEvent));
  }

  /**
   * Claims the earliest due rows across the requested kinds in one statement: each kind is read
   * in due order from the (kind, due_at) index, and the union is cut at `limit`.
   */
  claimWork(r: ClaimRequest): Promise<WorkItem[]> {
    const kinds = [...new Set(r.kinds ?? WORK_KINDS)].sort();
    if (kinds.length === 0 || r.limit <= 0) return Promise.resolve([]);
    return this.leaseWrite(() => (this.claimStatement(kinds).all({ owner: r.owner, leaseUntil: r.leaseUntil, now: r.now, limit: r.limit, queue: r.queue ?? null }) as unknown[][])
      .map(workFromTuple).sort((a, b) => a.dueAt - b.dueAt));
  }

  private readonly claimStatements = new Map<string, Database.Statement>();

  private claimStatement(kinds: WorkKind[]): Database.Statement {
    const cacheKey = kinds.join(',');
    let stmt = this.claimStatements.get(cacheKey);
    if (!stmt) {
      const perKind = kinds.map((kind) => `SELECT * FROM (SELECT execution_id, kind, key, due_at FROM work
        WHERE kind = '${kind}'${kind === 'queued' ? ' AND queue = @queue' : ''} AND due_at <= @now AND lease_owner IS NULL ORDER BY due_at LIMIT @limit)`);
      stmt = this.db.prepare(`UPDATE work SET lease_owner = @owner, lease_until = @leaseUntil
        WHERE (execution_id, kind, key) IN (
          SELECT execution_id, kind, key FROM (${perKind.join(' UNION ALL ')}) ORDER BY due_at LIMIT @limit)
        RETURNING ${WORK_COLUMNS}`).raw(true);
      this.claimStatements.set(cacheKey, stmt);
    }
    return stmt;
  }

  renewLeases(owner: string, refs: WorkRef[], leaseUntil: number): Promise<WorkRef[]> {
    return this.leaseWrite(() => this.db.transaction(() =>
      refs.filter((r) => this.stmt.renew.run(leaseUntil, r.executionId, r.kind, r.key, owner).changes === 0))());
  }

  releaseLeases(owner: string): Promise<void> {
    return this.leaseWrite(() => { this.stmt.release.run(owner); });
  }

  releaseAllLeases(): Promise<void> {
    return this.leaseWrite(() => { this.stmt.releaseAll.run(); });
  }

  nextDueAt(now: number): Promise<number | undefined> {
    void now; // leases on this exclusive store do not expire: only unleased rows count
    return this.guard(() => (this.stmt.nextDue.get(...DUE_KINDS) as number | null) ?? undefined);
  }

  claimByToken(tokenHash: string, owner: string, now: number, leaseUntil: number): Promise<WorkItem | undefined> {
    void now; // leases on this exclusive store do not expire
    return this.leaseWrite(() => {
      const row = this.stmt.claimByToken.get(owner, leaseUntil, tokenHash) as unknown[] | undefined;
      return row ? workFromTuple(row) : undefined;
    });
  }

  extendByToken(tokenHash: string, now: number): Promise<boolean> {
    return this.guard(() => this.stmt.extendByToken.run(now, now, tokenHash).changes > 0);
  }

  listWork(executionId: string): Promise<WorkItem[]> {
    return this.guard(() => (this.stmt.listWork.all(executionId) as unknown[][]).map(workFromTuple));
  }

  publishEvent(event: CorrelatedEvent, now: number): Promise<PublishOutcome> {
    return this.guard(() => this.eventWrites.publish(event, now));
  }

  readCorrelatedEvents(ids: readonly string[]): Promise<Map<string, CorrelatedEvent>> {
    return this.guard(() => this.eventWrites.read(ids));
  }

  purgeCorrelatedEvents(now: number, limit: number): Promise<number> {
    return this.guard(() => this.eventWrites.purge(now, limit));
  }

  private statsQuery: ((now: number) => StoreStats) | undefined;
  stats(now: number): Promise<StoreStats> {
    return this.guard(() => (this.statsQuery ??= sqliteStats(this.db))(now));
  }

  /** Moves the WAL's pages into the database file now, on this connection (a timer does it off the event loop). */
  checkpoint(): void {
    if (this.checkpoints) this.checkpoints.checkpointHere();
    else this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    await this.checkpoints?.close();
    await this.walSync?.close();
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Closing must not fail for want of a checkpoint; SQLite replays the WAL on next open.
    }
    this.db.close();
    this.lock?.release();
  }

  /**
   * A write that only takes or hands back leases, made without syncing the WAL (at FULL, SQLite
   * would fsync it inside COMMIT, on the event loop: measured, one fsync on the loop per lone
   * timer firing). None of them needs to survive a crash: on this exclusive store a lease only
   * says which process runs the work, and the next engine to start on the file releases every
   * lease first (Engine.start calls releaseAllLeases on an exclusive store) whatever is on disk.
   * What a lease leads to (a step's result, a timer's firing, an answer to a task token) is an
   * execution commit, synced before anything acts on it, and that sync carries the lease write
   * with it (fsync covers every earlier write).
   */
  private leaseWrite<T>(work: () => T): Promise<T> {
    const { walSync } = this;
    return this.guard(walSync ? () => walSync.neverSynced(work) : work);
  }

  private guard<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(asStorageError(error));
    }
  }
}
