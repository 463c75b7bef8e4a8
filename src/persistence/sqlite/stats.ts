import type Database from 'better-sqlite3';
import type { StoreStats, WorkKind } from '../../core/store.js';

/**
 * The gauge queries on SQLite: RUNNING executions through the status index; due work through the
 * partial index of unleased rows (on this exclusive store a leased row is running here, not due).
 */
export function sqliteStats(db: Database.Database) {
  const running = db.prepare("SELECT workflow, count(*) AS count FROM executions WHERE status = 'RUNNING' GROUP BY workflow");
  const due = db.prepare(
    'SELECT kind, count(*) AS count, min(due_at) AS oldestDueAt FROM work WHERE lease_owner IS NULL AND due_at <= ? GROUP BY kind',
  );
  const timers = db.prepare("SELECT count(*) FROM work WHERE kind = 'timer'").pluck();
  return (now: number): StoreStats => ({
    running: running.all() as { workflow: string; count: number }[],
    due: due.all(now) as { kind: WorkKind; count: number; oldestDueAt: number }[],
    timersPending: timers.get() as number,
  });
}
