import type Database from 'better-sqlite3';
import type { ScheduleAdvance, ScheduleRow, ScheduleStore, StoredScheduleDefinition } from '../../core/schedule-store.js';
import { toScheduleRow, type ScheduleDbRow } from '../schedule-rows.js';
import { asStorageError } from '../storage-error.js';

/**
 * Schedules in the SQLite file, in a table of their own created on first use (kept apart from
 * the store's numbered migrations so the two can evolve independently). The file belongs to one
 * process, so the compare-and-set in `advance` guards against nothing but a stale read; it is
 * kept for symmetry with PostgreSQL.
 */
export class SqliteScheduleStore implements ScheduleStore {
  readonly shared = false;
  private stmt: ReturnType<SqliteScheduleStore['prepare']> | undefined;

  constructor(private readonly db: Database.Database) {}

  async init(): Promise<void> {
    await this.guard(() => {
      // One transaction for both statements: on a new file that is one commit (one WAL sync)
      // instead of two; on a file that has them it writes nothing.
      this.db.transaction(() => this.db.exec(`CREATE TABLE IF NOT EXISTS schedules (
        id TEXT PRIMARY KEY,
        definition TEXT NOT NULL,
        paused INTEGER NOT NULL DEFAULT 0,
        next_slot_at INTEGER,
        last_slot_at INTEGER,
        last_execution_id TEXT,
        last_error TEXT,
        fired_count INTEGER NOT NULL DEFAULT 0,
        skipped_count INTEGER NOT NULL DEFAULT 0,
        missed_count INTEGER NOT NULL DEFAULT 0,
        failed_count INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS schedules_next_slot ON schedules (next_slot_at) WHERE paused = 0 AND next_slot_at IS NOT NULL;`))();
      this.stmt = this.prepare();
    });
  }

  private prepare() {
    const db = this.db;
    return {
      insert: db.prepare(
        `INSERT OR IGNORE INTO schedules (id, definition, paused, next_slot_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      replace: db.prepare('UPDATE schedules SET definition = ?, paused = ?, next_slot_at = ?, last_error = NULL, updated_at = ? WHERE id = ?'),
      get: db.prepare('SELECT * FROM schedules WHERE id = ?'),
      list: db.prepare('SELECT * FROM schedules ORDER BY id'),
      delete: db.prepare('DELETE FROM schedules WHERE id = ?'),
      setPaused: db.prepare('UPDATE schedules SET paused = ?, next_slot_at = ?, updated_at = ? WHERE id = ?'),
      due: db.prepare('SELECT * FROM schedules WHERE paused = 0 AND next_slot_at IS NOT NULL AND next_slot_at <= ? ORDER BY next_slot_at LIMIT ?'),
      next: db.prepare('SELECT min(next_slot_at) FROM schedules WHERE paused = 0 AND next_slot_at IS NOT NULL').pluck(),
      advance: db.prepare(
        `UPDATE schedules SET next_slot_at = ?, last_slot_at = coalesce(?, last_slot_at), last_execution_id = coalesce(?, last_execution_id),
           last_error = ?, fired_count = fired_count + ?, skipped_count = skipped_count + ?, missed_count = missed_count + ?,
           failed_count = failed_count + ?, updated_at = ?
         WHERE id = ? AND next_slot_at = ?`,
      ),
    };
  }

  private get s() {
    if (!this.stmt) throw new Error('SqliteScheduleStore: call init() first');
    return this.stmt;
  }

  insert(row: ScheduleRow): Promise<boolean> {
    return this.guard(
      () => this.s.insert.run(row.id, JSON.stringify(row.definition), row.paused ? 1 : 0, row.nextSlotAt ?? null, row.createdAt, row.updatedAt).changes === 1,
    );
  }

  replace(id: string, c: { definition: StoredScheduleDefinition; paused: boolean; nextSlotAt: number | undefined; now: number }): Promise<boolean> {
    return this.guard(() => this.s.replace.run(JSON.stringify(c.definition), c.paused ? 1 : 0, c.nextSlotAt ?? null, c.now, id).changes === 1);
  }

  get(id: string): Promise<ScheduleRow | undefined> {
    return this.guard(() => {
      const row = this.s.get.get(id) as ScheduleDbRow | undefined;
      return row ? toScheduleRow(row) : undefined;
    });
  }

  list(): Promise<ScheduleRow[]> {
    return this.guard(() => (this.s.list.all() as ScheduleDbRow[]).map(toScheduleRow));
  }

  delete(id: string): Promise<boolean> {
    return this.guard(() => this.s.delete.run(id).changes === 1);
  }

  setPaused(id: string, paused: boolean, nextSlotAt: number | undefined, now: number): Promise<boolean> {
    return this.guard(() => this.s.setPaused.run(paused ? 1 : 0, nextSlotAt ?? null, now, id).changes === 1);
  }

  due(now: number, limit: number): Promise<ScheduleRow[]> {
    return this.guard(() => (this.s.due.all(now, limit) as ScheduleDbRow[]).map(toScheduleRow));
  }

  nextSlotAt(): Promise<number | undefined> {
    return this.guard(() => (this.s.next.get() as number | null) ?? undefined);
  }

  advance(a: ScheduleAdvance): Promise<boolean> {
    return this.guard(
      () =>
        this.s.advance.run(
          a.toSlotAt ?? null, a.lastSlotAt ?? null, a.lastExecutionId ?? null, a.lastError ?? null,
          a.fired, a.skipped, a.missed, a.failed, a.now, a.id, a.fromSlotAt,
        ).changes === 1,
    );
  }

  private guard<T>(work: () => T): Promise<T> {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(asStorageError(error));
    }
  }
}
