/**
 * The PostgreSQL side of child executions: the writes a commit's `spawn`, `wake` and
 * `stopChildren` ask for, as one statement run in the same transaction as the round that landed
 * the commits (so a child exists exactly when the parent's step that started it was committed,
 * and a child's end reaches its parent in the child's own commit). Only batches that carry such
 * writes pay for the transaction.
 */
import { HistoryEventType } from '../../core/events.js';
import { ExecutionStatus } from '../../core/status.js';
import type { CommitOutcome, ExecutionCommit } from '../../core/store.js';

export function hasChildWrites(c: ExecutionCommit): boolean {
  return (c.spawn?.length ?? 0) > 0 || c.wake !== undefined || (c.stopChildren?.keys.length ?? 0) > 0;
}

/** $1 spawned children, $2 parent wakes, $3 child stops (JSON arrays), $4 the NOTIFY channel. */
export function childWritesSql(s: string): string {
  return `
    WITH
    sp AS (SELECT * FROM json_to_recordset($1::json) AS c(id text, wf text, ver text, input text, started bigint, pid text, pkey text, patt int, data text)),
    wk AS (SELECT * FROM json_to_recordset($2::json) AS w(eid text, key text, attempt int, due bigint)),
    st AS (SELECT * FROM json_to_recordset($3::json) AS t(pid text, key text, due bigint)),
    ins AS (
      INSERT INTO ${s}.executions (id, workflow, version, status, input, snapshot, last_seq, started_at, updated_at, parent_id, parent_key, parent_attempt)
      SELECT id, wf, ver, '${ExecutionStatus.RUNNING}', input, 'null', 1, started, started, pid, pkey, patt FROM sp ORDER BY id
      ON CONFLICT (id) DO NOTHING
      RETURNING id
    ),
    hist AS (
      INSERT INTO ${s}.history (execution_id, seq, type, ts, data)
      SELECT sp.id, 1, '${HistoryEventType.ExecutionStarted}', sp.started, sp.data FROM sp JOIN ins ON ins.id = sp.id
    ),
    starts AS (
      INSERT INTO ${s}.work (execution_id, kind, key, attempt, due_at)
      SELECT sp.id, 'start', '', 1, sp.started FROM sp JOIN ins ON ins.id = sp.id
      ON CONFLICT DO NOTHING
      RETURNING 1
    ),
    woke AS (
      UPDATE ${s}.work w SET due_at = least(w.due_at, wk.due) FROM wk
      WHERE w.execution_id = wk.eid AND w.kind = 'child' AND w.key = wk.key AND w.attempt = wk.attempt
      RETURNING 1
    ),
    stops AS (
      INSERT INTO ${s}.work (execution_id, kind, key, attempt, due_at)
      SELECT x.id, 'stop', '', 1, st.due FROM ${s}.executions x JOIN st ON x.parent_id = st.pid AND x.parent_key = st.key
      WHERE x.ended_at IS NULL
      ON CONFLICT DO NOTHING
      RETURNING 1
    )
    SELECT pg_notify($4::text, '') WHERE EXISTS (SELECT 1 FROM starts UNION ALL SELECT 1 FROM woke UNION ALL SELECT 1 FROM stops)`;
}

/** The statement's parameters for the commits that landed. */
export function childWritesParams(commits: readonly ExecutionCommit[], outcomes: readonly CommitOutcome[], channel: string): string[] {
  const spawn: object[] = [];
  const wake: object[] = [];
  const stop: object[] = [];
  commits.forEach((c, i) => {
    if (!outcomes[i]?.ok) return;
    for (const child of c.spawn ?? []) {
      const input = child.input ?? null;
      spawn.push({
        id: child.id, wf: child.workflow, ver: child.version, input: JSON.stringify(input), started: child.startedAt,
        pid: child.parent.id, pkey: child.parent.key, patt: child.parent.attempt,
        data: JSON.stringify({ input, workflow: child.workflow, version: child.version, parentId: child.parent.id }),
      });
    }
    if (c.wake) wake.push({ eid: c.wake.id, key: c.wake.key, attempt: c.wake.attempt, due: c.wake.dueAt });
    for (const key of c.stopChildren?.keys ?? []) stop.push({ pid: c.executionId, key, due: c.stopChildren!.dueAt });
  });
  return [JSON.stringify(spawn), JSON.stringify(wake), JSON.stringify(stop), channel];
}
