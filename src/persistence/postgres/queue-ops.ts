/**
 * The PostgreSQL side of concurrency queues (see ../queue-sql.ts): a batch's `enqueue` and
 * `dequeue` run in the batch's transaction. The scopes they touch are locked first (transaction
 * advisory locks, in sorted order, before the round locks any row), so two processes never
 * number arrivals or count slots of one scope at once, and never wait on each other in a cycle.
 */
import type Pg from 'pg';
import type { CommitOutcome, ExecutionCommit } from '../../core/store.js';
import { wakeQueuedSql } from '../queue-sql.js';

/** Advisory-lock class id for concurrency scopes ("SQ"). */
const LOCK_CLASS = 0x5351;

export function hasQueueWrites(c: ExecutionCommit): boolean {
  return c.enqueue !== undefined || c.dequeue !== undefined;
}

/** Locks every scope the batch's queue writes touch; returns each dequeuing execution's scopes. */
export async function lockScopes(client: Pg.PoolClient, s: string, commits: readonly ExecutionCommit[]): Promise<Map<string, string[]>> {
  const leaving = commits.filter((c) => c.dequeue).map((c) => c.executionId);
  const scopesOf = new Map<string, string[]>();
  if (leaving.length > 0) {
    const { rows } = await client.query<{ execution_id: string; scope: string }>(
      `SELECT execution_id, scope FROM ${s}.queue WHERE execution_id = ANY($1::text[])`, [leaving],
    );
    for (const r of rows) scopesOf.set(r.execution_id, [...(scopesOf.get(r.execution_id) ?? []), r.scope]);
  }
  const all = new Set<string>();
  for (const c of commits) for (const q of c.enqueue?.scopes ?? []) all.add(q.scope);
  for (const list of scopesOf.values()) for (const scope of list) all.add(scope);
  for (const scope of [...all].sort()) await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, scope]);
  return scopesOf;
}

/** Joins and leaves the queues of the commits that landed, and wakes who may begin now. */
export async function applyQueueWrites(
  client: Pg.PoolClient, s: string, commits: readonly ExecutionCommit[], outcomes: readonly CommitOutcome[],
  scopesOf: Map<string, string[]>, channel: string,
): Promise<void> {
  const wake = `${wakeQueuedSql(`${s}.`, 'json_array_elements_text($1::json) AS value', '$2::bigint')} RETURNING 1`;
  let woke = false;
  for (const [i, c] of commits.entries()) {
    if (!outcomes[i]?.ok) continue;
    let scopes: string[] = [];
    let due = 0;
    if (c.enqueue) {
      for (const q of c.enqueue.scopes) {
        await client.query(
          `INSERT INTO ${s}.queue (scope, arrival, execution_id, lim)
           SELECT $1, coalesce(max(arrival), 0) + 1, $2, $3 FROM ${s}.queue WHERE scope = $1`, [q.scope, c.executionId, q.limit],
        );
      }
      scopes = c.enqueue.scopes.map((q) => q.scope);
      due = c.enqueue.dueAt;
    }
    if (c.dequeue) {
      await client.query(`DELETE FROM ${s}.queue WHERE execution_id = $1`, [c.executionId]);
      scopes = scopesOf.get(c.executionId) ?? [];
      due = c.dequeue.dueAt;
    }
    if (scopes.length === 0) continue;
    const { rowCount } = await client.query(wake, [JSON.stringify(scopes), due]);
    if ((rowCount ?? 0) > 0) woke = true;
  }
  if (woke) await client.query('SELECT pg_notify($1, \'\')', [channel]);
}
