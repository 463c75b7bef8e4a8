import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeListCursor, encodeListCursor } from '../../core/cursor.js';
import type { HistoryEvent } from '../../core/events.js';
import type {
  ClaimRequest, CommitOutcome, CorrelatedEvent, ExecutionCommit, ExecutionSummary, ListQuery, PublishOutcome, StepState, Store, StoreStats,
  StoredExecution, WorkItem, WorkKind, WorkRef,
} from '../../core/store.js';
import { WORK_KINDS } from '../../core/work-ref.js';

/** Kinds whose due time wakes the engine: 'queued' rows wait for a poll, not for the claimer. */
const DUE_KINDS = WORK_KINDS.filter((kind) => kind !== 'queued');
import { STEP_STATE_COLUMNS, toEvent, toStepState, toStored, toSummary, toWork, type ExecutionRow, type HistoryRow, type StepStateRow, type WorkRow } from '../rows.js';
import { asStorageError } from '../storage-error.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { OwnerLock } from './owner-lock.js';
import { prepareChildWrites, type ChildWrites } from './child-writes.js';
import { prepareQueueWrites } from './queue-writes.js';
import { prepareEventWrites, type EventWrites } from './event-writes.js';
import { sqliteStats } from './stats.js';
import { WalSync } from './wal-sync.js';
import { Checkpointer } from './checkpointer.js';

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
   * thread (checkpointer.ts). SQLite's own auto-checkpoint runs inside whichever commit crosses
   * its threshold, which shows as a p99 spike of milliseconds. @default 1000
   */
  checkpointIntervalMs?: number;
}

const CHECKPOINT_EVERY_COMMITS = 4000;

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
  private readonly childWrites: ChildWrites;
  private readonly queueWrites: ChildWrites;
  private readonly eventWrites: EventWrites;
  private readonly commitAll: (commits: ExecutionCommit[]) => CommitOutcome[];
  private readonly checkpointTimer: NodeJS.Timeout | undefined;
  private readonly checkpointer: Checkpointer | undefined;
  private commitsSinceCheckpoint = 0;
  /** At FULL on a file: commits sync the WAL off the event loop (wal-sync.ts says why that is as durable). */
  private readonly walSync: WalSync | undefined;

  /** Opens (creating if needed) and migrates the file; fails with STORE_LOCKED if another store has it open. */
  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    if (path === ':memory:') return new SqliteStore(path, options, undefined);
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw asStorageError(error);
    }
    const lock = OwnerLock.acquire(path);
    try {
      return new SqliteStore(path, options, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  private constructor(
    path: string,
    options: SqliteStoreOptions,
    private readonly lock: OwnerLock | undefined,
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
      insertExecution: db.prepare(
        `INSERT OR IGNORE INTO executions (id, workflow, version, status, input, snapshot, last_seq, started_at, updated_at, trace)
         VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
      ),
      lastSeq: db.prepare('SELECT last_seq FROM executions WHERE id = ?').pluck(),
      // Each update is also the commit's sequence check (last_seq = expected): no changes, a conflict.
      // A step leaves the status alone: SQLite rewrites the entry of every index whose column is
      // SET, even to its own value, and the status index was one WAL page of ~5.3 a step. Only a
      // QUEUED execution's commit sets it (queuedUpdate, tried when stepUpdate changed nothing).
      stepUpdate: db.prepare("UPDATE executions SET snapshot = ?, last_seq = ?, updated_at = ? WHERE id = ? AND last_seq = ? AND status <> 'QUEUED'"),
      queuedUpdate: db.prepare("UPDATE executions SET snapshot = ?, last_seq = ?, updated_at = ?, status = ? WHERE id = ? AND last_seq = ? AND status = 'QUEUED'"),
      endUpdate: db.prepare(
        'UPDATE executions SET snapshot = ?, last_seq = ?, updated_at = ?, status = ?, output = ?, error = ?, ended_at = ? WHERE id = ? AND last_seq = ?',
      ),
      reopenUpdate: db.prepare(
        'UPDATE executions SET snapshot = ?, last_seq = ?, updated_at = ?, status = ?, output = NULL, error = NULL, ended_at = NULL WHERE id = ? AND last_seq = ?',
      ),
      insertEvent: db.prepare('INSERT INTO history (execution_id, seq, type, ts, step, attempt, data) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      leaseOwner: db.prepare('SELECT lease_owner FROM work WHERE execution_id = ? AND kind = ? AND key = ?').pluck(),
      deleteWork: db.prepare('DELETE FROM work WHERE execution_id = ? AND kind = ? AND key = ?'),
      upsertWork: db.prepare(
        `INSERT INTO work (execution_id, kind, key, attempt, due_at, lease_owner, lease_until, queue, token_hash, deadline, heartbeat_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (execution_id, kind, key) DO UPDATE SET attempt = excluded.attempt, due_at = excluded.due_at,
           lease_owner = excluded.lease_owner, lease_until = excluded.lease_until, queue = excluded.queue,
           token_hash = excluded.token_hash, deadline = excluded.deadline, heartbeat_ms = excluded.heartbeat_ms`,
      ),
      getExecution: db.prepare('SELECT * FROM executions WHERE id = ?'),
      getStepState: db.prepare(`SELECT ${STEP_STATE_COLUMNS} FROM executions WHERE id = ?`),
      readHistory: db.prepare('SELECT seq, type, ts, step, attempt, data FROM history WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
      renew: db.prepare('UPDATE work SET lease_until = ? WHERE execution_id = ? AND kind = ? AND key = ? AND lease_owner = ?'),
      release: db.prepare('UPDATE work SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?'),
      releaseAll: db.prepare('UPDATE work SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL'),
      claimByToken: db.prepare(
        `UPDATE work SET lease_owner = ?, lease_until = ? WHERE token_hash = ? AND kind = 'outside' AND lease_owner IS NULL RETURNING *`,
      ),
      extendByToken: db.prepare(
        `UPDATE work SET due_at = CASE WHEN heartbeat_ms IS NULL THEN due_at ELSE min(coalesce(deadline, ? + heartbeat_ms), ? + heartbeat_ms) END
         WHERE token_hash = ? AND kind = 'outside' AND lease_owner IS NULL`,
      ),
      nextDue: db.prepare(
        `SELECT min(due_at) FROM (${DUE_KINDS.map(() =>
          'SELECT * FROM (SELECT due_at FROM work WHERE kind = ? AND lease_owner IS NULL ORDER BY due_at LIMIT 1)').join(' UNION ALL ')})`,
      ).pluck(),
      listWork: db.prepare('SELECT * FROM work WHERE execution_id = ? ORDER BY due_at'),
    };
    this.childWrites = prepareChildWrites(db);
    this.queueWrites = prepareQueueWrites(db);
    this.eventWrites = prepareEventWrites(db);
    this.commitAll = db.transaction((commits: ExecutionCommit[]) => commits.map((c) => this.applyCommit(c)));
    if (path !== ':memory:') {
      if (options.synchronous !== 'normal') this.walSync = new WalSync(db, path);
      // A failed checkpoint is retried by the next tick; commits report a real fault themselves.
      this.checkpointer = new Checkpointer(path, () => {});
      this.checkpointTimer = setInterval(() => this.checkpointIfDirty(), options.checkpointIntervalMs ?? 1000);
      this.checkpointTimer.unref();
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

  /**
   * Checks every precondition before writing anything, so a refused commit needs no savepoint:
   * the leases it consumes are read first, and the sequence check is the first write itself (the
   * execution's update, conditional on last_seq), which changes nothing when it fails.
   */
  private applyCommit(c: ExecutionCommit): CommitOutcome {
    const now = c.events.length > 0 ? c.events[c.events.length - 1].timestamp : Date.now();
    if (c.create) {
      const inserted = this.stmt.insertExecution.run(
        c.executionId, c.create.workflow, c.create.version, c.status, JSON.stringify(c.create.input ?? null),
        JSON.stringify(c.snapshot), c.create.startedAt, now, c.create.trace ?? null,
      );
      if (inserted.changes === 0) return { ok: false, reason: 'exists' };
    }
    for (const ref of c.consume ?? []) {
      if (this.stmt.leaseOwner.get(ref.executionId, ref.kind, ref.key) !== ref.owner) {
        if (c.create) throw new Error('a creating commit cannot consume work');
        // A stale sequence number wins over a lost lease, as it would if it were read first.
        if (this.stmt.lastSeq.get(c.executionId) !== c.expectedSeq) return { ok: false, reason: 'conflict' };
        return { ok: false, reason: 'lease-lost', work: { executionId: ref.executionId, kind: ref.kind, key: ref.key } };
      }
    }
    const lastSeq = c.expectedSeq + c.events.length;
    let updated: Database.RunResult | undefined;
    if (c.endedAt !== undefined) {
      updated = this.stmt.endUpdate.run(
        JSON.stringify(c.snapshot), lastSeq, now, c.status, c.output === undefined ? null : JSON.stringify(c.output),
        c.error ? JSON.stringify(c.error) : null, c.endedAt, c.executionId, c.expectedSeq,
      );
    } else if (c.reopen) {
      updated = this.stmt.reopenUpdate.run(JSON.stringify(c.snapshot), lastSeq, now, c.status, c.executionId, c.expectedSeq);
    } else if (!c.create || c.events.length > 0) {
      const snapshot = JSON.stringify(c.snapshot);
      updated = this.stmt.stepUpdate.run(snapshot, lastSeq, now, c.executionId, c.expectedSeq);
      if (updated.changes === 0) updated = this.stmt.queuedUpdate.run(snapshot, lastSeq, now, c.status, c.executionId, c.expectedSeq);
    }
    // Every commit to an existing execution runs one of the updates above.
    if (updated && updated.changes === 0) {
      if (c.create) throw new Error('a created execution changed under its own commit');
      return { ok: false, reason: 'conflict' };
    }
    let seq = c.expectedSeq;
    for (const e of c.events) {
      this.stmt.insertEvent.run(
        c.executionId, ++seq, e.type, e.timestamp, e.step ?? null, e.attempt ?? null, e.data === undefined ? null : JSON.stringify(e.data),
      );
    }
    for (const ref of c.consume ?? []) this.stmt.deleteWork.run(ref.executionId, ref.kind, ref.key);
    for (const ref of c.drop ?? []) this.stmt.deleteWork.run(ref.executionId, ref.kind, ref.key);
    for (const w of c.schedule ?? []) {
      this.stmt.upsertWork.run(
        w.executionId, w.kind, w.key, w.attempt, w.dueAt, w.leaseOwner ?? null, w.leaseUntil ?? null,
        w.queue ?? null, w.tokenHash ?? null, w.deadline ?? null, w.heartbeatMs ?? null,
      );
    }
    this.childWrites(c);
    this.queueWrites(c);
    this.eventWrites.commit(c);
    return { ok: true, lastSeq };
  }

  commit(commits: ExecutionCommit[], written?: () => void): Promise<CommitOutcome[]> {
    // A WAL left to grow makes each checkpoint long (measured: 70-110 ms stalls at ~200 MB), so
    // checkpoint every few thousand commits too, just after one, rather than inside one.
    if (++this.commitsSinceCheckpoint === CHECKPOINT_EVERY_COMMITS && this.checkpointTimer) setImmediate(() => this.checkpointIfDirty());
    const { walSync } = this;
    // Written (in the WAL, in order) before it is synced: the engine may write its next round meanwhile.
    return this.guard(() => (walSync ? walSync.unsynced(() => this.commitAll(commits)) : this.commitAll(commits))).then(async (o) => {
      written?.();
      await walSync?.sync();
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

  getStepStates(ids: readonly string[]): Promise<Map<string, StepState>> {
    return this.guard(() => {
      const found = new Map<string, StepState>();
      for (const id of ids) {
        const row = found.has(id) ? undefined : (this.stmt.getStepState.get(id) as StepStateRow | undefined);
        if (row) found.set(id, toStepState(row));
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
    return this.guard(() => (this.claimStatement(kinds).all({ owner: r.owner, leaseUntil: r.leaseUntil, now: r.now, limit: r.limit, queue: r.queue ?? null }) as WorkRow[])
      .map(toWork).sort((a, b) => a.dueAt - b.dueAt));
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
        RETURNING *`);
      this.claimStatements.set(cacheKey, stmt);
    }
    return stmt;
  }

  renewLeases(owner: string, refs: WorkRef[], leaseUntil: number): Promise<WorkRef[]> {
    return this.guard(() => this.db.transaction(() =>
      refs.filter((r) => this.stmt.renew.run(leaseUntil, r.executionId, r.kind, r.key, owner).changes === 0))());
  }

  releaseLeases(owner: string): Promise<void> {
    return this.guard(() => { this.stmt.release.run(owner); });
  }

  releaseAllLeases(): Promise<void> {
    return this.guard(() => { this.stmt.releaseAll.run(); });
  }

  nextDueAt(now: number): Promise<number | undefined> {
    void now; // leases on this exclusive store do not expire: only unleased rows count
    return this.guard(() => (this.stmt.nextDue.get(...DUE_KINDS) as number | null) ?? undefined);
  }

  claimByToken(tokenHash: string, owner: string, now: number, leaseUntil: number): Promise<WorkItem | undefined> {
    void now; // leases on this exclusive store do not expire
    return this.guard(() => {
      const row = this.stmt.claimByToken.get(owner, leaseUntil, tokenHash) as WorkRow | undefined;
      return row ? toWork(row) : undefined;
    });
  }

  extendByToken(tokenHash: string, now: number): Promise<boolean> {
    return this.guard(() => this.stmt.extendByToken.run(now, now, tokenHash).changes > 0);
  }

  listWork(executionId: string): Promise<WorkItem[]> {
    return this.guard(() => (this.stmt.listWork.all(executionId) as WorkRow[]).map(toWork));
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

  /** Moves the WAL's pages into the database file, off the commit path (run by a timer). */
  checkpoint(): void {
    this.commitsSinceCheckpoint = 0;
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  private checkpointIfDirty(): void {
    if (this.commitsSinceCheckpoint === 0 || !this.db.open) return;
    try {
      if (this.checkpointer?.request()) this.commitsSinceCheckpoint = 0;
      else this.checkpoint();
    } catch {
      // A busy or full disk: the next tick tries again; commits report the fault themselves.
    }
  }

  async close(): Promise<void> {
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    if (!this.db.open) return;
    await this.walSync?.close();
    await this.checkpointer?.close();
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Closing must not fail for want of a checkpoint; SQLite replays the WAL on next open.
    }
    this.db.close();
    this.lock?.release();
  }

  private guard<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(asStorageError(error));
    }
  }
}
