import type Database from 'better-sqlite3';
import type { CommitOutcome, ExecutionCommit } from '../../core/store.js';
import { prepareChildWrites } from './child-writes.js';
import type { EventWrites } from './event-writes.js';
import { prepareQueueWrites } from './queue-writes.js';

/**
 * What one execution's commit writes in the SQLite store: its row (created, or updated with the
 * sequence check), its history events, the work rows it consumes, drops and schedules, and its
 * children, queue slots and correlated events. Runs inside the store's transaction.
 */
export function prepareCommitWrites(db: Database.Database, eventWrites: EventWrites): (c: ExecutionCommit) => CommitOutcome {
  const stmt = {
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
  };
  const childWrites = prepareChildWrites(db);
  const queueWrites = prepareQueueWrites(db);

  /**
   * Checks every precondition before writing anything, so a refused commit needs no savepoint:
   * the leases it consumes are read first, and the sequence check is the first write itself (the
   * execution's update, conditional on last_seq), which changes nothing when it fails.
   */
  return (c: ExecutionCommit): CommitOutcome => {
    const now = c.events.length > 0 ? c.events[c.events.length - 1].timestamp : Date.now();
    // Once per commit: a creating commit with events writes it twice (the insert, then the update).
    const snapshot = JSON.stringify(c.snapshot);
    if (c.create) {
      const inserted = stmt.insertExecution.run(
        c.executionId, c.create.workflow, c.create.version, c.status, JSON.stringify(c.create.input ?? null),
        snapshot, c.create.startedAt, now, c.create.trace ?? null,
      );
      if (inserted.changes === 0) return { ok: false, reason: 'exists' };
    }
    for (const ref of c.consume ?? []) {
      if (stmt.leaseOwner.get(ref.executionId, ref.kind, ref.key) !== ref.owner) {
        if (c.create) throw new Error('a creating commit cannot consume work');
        // A stale sequence number wins over a lost lease, as it would if it were read first.
        if (stmt.lastSeq.get(c.executionId) !== c.expectedSeq) return { ok: false, reason: 'conflict' };
        return { ok: false, reason: 'lease-lost', work: { executionId: ref.executionId, kind: ref.kind, key: ref.key } };
      }
    }
    const lastSeq = c.expectedSeq + c.events.length;
    let updated: Database.RunResult | undefined;
    if (c.endedAt !== undefined) {
      updated = stmt.endUpdate.run(
        snapshot, lastSeq, now, c.status, c.output === undefined ? null : JSON.stringify(c.output),
        c.error ? JSON.stringify(c.error) : null, c.endedAt, c.executionId, c.expectedSeq,
      );
    } else if (c.reopen) {
      updated = stmt.reopenUpdate.run(snapshot, lastSeq, now, c.status, c.executionId, c.expectedSeq);
    } else if (!c.create || c.events.length > 0) {
      updated = stmt.stepUpdate.run(snapshot, lastSeq, now, c.executionId, c.expectedSeq);
      if (updated.changes === 0) updated = stmt.queuedUpdate.run(snapshot, lastSeq, now, c.status, c.executionId, c.expectedSeq);
    }
    // Every commit to an existing execution runs one of the updates above.
    if (updated && updated.changes === 0) {
      if (c.create) throw new Error('a created execution changed under its own commit');
      return { ok: false, reason: 'conflict' };
    }
    let seq = c.expectedSeq;
    for (const e of c.events) {
      stmt.insertEvent.run(
        c.executionId, ++seq, e.type, e.timestamp, e.step ?? null, e.attempt ?? null, e.data === undefined ? null : JSON.stringify(e.data),
      );
    }
    for (const ref of c.consume ?? []) stmt.deleteWork.run(ref.executionId, ref.kind, ref.key);
    for (const ref of c.drop ?? []) stmt.deleteWork.run(ref.executionId, ref.kind, ref.key);
    for (const w of c.schedule ?? []) {
      stmt.upsertWork.run(
        w.executionId, w.kind, w.key, w.attempt, w.dueAt, w.leaseOwner ?? null, w.leaseUntil ?? null,
        w.queue ?? null, w.tokenHash ?? null, w.deadline ?? null, w.heartbeatMs ?? null,
      );
    }
    childWrites(c);
    queueWrites(c);
    eventWrites.commit(c);
    return { ok: true, lastSeq, snapshotChars: snapshot.length };
  };
}
