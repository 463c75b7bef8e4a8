/**
 * The SQLite side of child executions: the writes a commit's `spawn`, `wake` and `stopChildren`
 * ask for, run inside the commit's transaction (so a child exists exactly when the parent's step
 * that started it was committed, and a child's end reaches its parent in the child's own commit).
 */
import type Database from 'better-sqlite3';
import { HistoryEventType } from '../../core/events.js';
import { ExecutionStatus } from '../../core/status.js';
import type { ExecutionCommit } from '../../core/store.js';

export type ChildWrites = ReturnType<typeof prepareChildWrites>;

export function prepareChildWrites(db: Database.Database) {
  const insertChild = db.prepare(
    `INSERT OR IGNORE INTO executions (id, workflow, version, status, input, snapshot, last_seq, started_at, updated_at, parent_id, parent_key, parent_attempt)
     VALUES (?, ?, ?, ?, ?, 'null', 1, ?, ?, ?, ?, ?)`,
  );
  const insertStarted = db.prepare('INSERT INTO history (execution_id, seq, type, ts, step, attempt, data) VALUES (?, 1, ?, ?, NULL, NULL, ?)');
  const insertStart = db.prepare(`INSERT OR IGNORE INTO work (execution_id, kind, key, attempt, due_at) VALUES (?, 'start', '', 1, ?)`);
  const wake = db.prepare(`UPDATE work SET due_at = min(due_at, ?) WHERE execution_id = ? AND kind = 'child' AND key = ? AND attempt = ?`);
  const stop = db.prepare(
    `INSERT OR IGNORE INTO work (execution_id, kind, key, attempt, due_at)
     SELECT id, 'stop', '', 1, ? FROM executions WHERE parent_id = ? AND parent_key = ? AND ended_at IS NULL`,
  );
  /** Applies a landed commit's child writes. */
  return (c: ExecutionCommit): void => {
    // Stops first: a child this commit spawns is never one it stops.
    for (const key of c.stopChildren?.keys ?? []) stop.run(c.stopChildren!.dueAt, c.executionId, key);
    for (const child of c.spawn ?? []) {
      const inserted = insertChild.run(
        child.id, child.workflow, child.version, ExecutionStatus.RUNNING, JSON.stringify(child.input ?? null), child.startedAt, child.startedAt,
        child.parent.id, child.parent.key, child.parent.attempt,
      );
      if (inserted.changes === 0) continue; // created by an earlier try of this step: left as it is
      const data = { input: child.input ?? null, workflow: child.workflow, version: child.version, parentId: child.parent.id };
      insertStarted.run(child.id, HistoryEventType.ExecutionStarted, child.startedAt, JSON.stringify(data));
      insertStart.run(child.id, child.startedAt);
    }
    if (c.wake) wake.run(c.wake.dueAt, c.wake.id, c.wake.key, c.wake.attempt);
  };
}
