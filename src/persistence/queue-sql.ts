/**
 * Concurrency queues, in SQL both adapters run (window functions; `?`-free text with the schema
 * prefix and parameter markers filled in by each adapter). A queued execution has one row per
 * scope it counts against, numbered in arrival order; it may begin when, in every scope, fewer
 * than `lim` rows arrived before its own. Rows go only when their execution ends, so the
 * executions that began are always among the first `lim` of each scope: never more than `lim`
 * run at once, and they begin in arrival order.
 */

/**
 * Makes due (`due` marker) the parked `start` rows of the executions that are now within every
 * limit of theirs, among the first `lim` of the scopes listed in the JSON array (`scopes` marker).
 */
export function wakeQueuedSql(prefix: string, scopes: string, due: string): string {
  return `
    WITH cand AS (
      SELECT execution_id FROM (
        SELECT execution_id, lim, row_number() OVER (PARTITION BY scope ORDER BY arrival) AS rn
        FROM ${prefix}queue WHERE scope IN (SELECT value FROM ${scopes})
      ) t WHERE rn <= lim
    ),
    mine AS (SELECT q.execution_id, q.scope, q.arrival, q.lim FROM ${prefix}queue q WHERE q.execution_id IN (SELECT execution_id FROM cand)),
    blocked AS (
      SELECT m.execution_id FROM mine m
      WHERE (SELECT count(*) FROM ${prefix}queue q2 WHERE q2.scope = m.scope AND q2.arrival < m.arrival) >= m.lim
    )
    UPDATE ${prefix}work SET due_at = ${due}
    WHERE kind = 'start' AND due_at > ${due}
      AND execution_id IN (SELECT execution_id FROM cand) AND execution_id NOT IN (SELECT execution_id FROM blocked)`;
}
