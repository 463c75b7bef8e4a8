/**
 * The SQLite side of concurrency queues (see ../queue-sql.ts): a commit's `enqueue` and
 * `dequeue`, inside its transaction. One process owns the file, so no lock is needed beyond it.
 */
import type Database from 'better-sqlite3';
import type { ExecutionCommit } from '../../core/store.js';
import { wakeQueuedSql } from '../queue-sql.js';

export function prepareQueueWrites(db: Database.Database) {
  const nextArrival = db.prepare('SELECT coalesce(max(arrival), 0) + 1 FROM queue WHERE scope = ?').pluck();
  const insert = db.prepare('INSERT OR IGNORE INTO queue (scope, arrival, execution_id, lim) VALUES (?, ?, ?, ?)');
  const scopesOf = db.prepare('SELECT scope FROM queue WHERE execution_id = ?').pluck();
  const remove = db.prepare('DELETE FROM queue WHERE execution_id = ?');
  const wake = db.prepare(wakeQueuedSql('', 'json_each(?)', '?'));
  const run = (scopes: string[], due: number) => {
    if (scopes.length > 0) wake.run(JSON.stringify(scopes), due, due);
  };
  return (c: ExecutionCommit): void => {
    if (c.enqueue) {
      for (const s of c.enqueue.scopes) insert.run(s.scope, nextArrival.get(s.scope), c.executionId, s.limit);
      run(c.enqueue.scopes.map((s) => s.scope), c.enqueue.dueAt);
    }
    if (c.dequeue) {
      const scopes = scopesOf.all(c.executionId) as string[];
      remove.run(c.executionId);
      run(scopes, c.dequeue.dueAt);
    }
  };
}
