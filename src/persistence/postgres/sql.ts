/**
 * The SQL text PostgresStore runs, for one schema (`s` is the quoted schema name). Every
 * statement here is one round trip; the store names them so each connection prepares them once.
 */
import type { WorkKind } from '../../core/store.js';

export type Sql = ReturnType<typeof buildSql>;

export function buildSql(s: string) {
  return {
    commitRound: commitRound(s),
    getExecution: `SELECT id, workflow, version, status, input, output, error, snapshot, last_seq, started_at, ended_at FROM ${s}.executions WHERE id = $1`,
    getExecutions: `SELECT id, workflow, version, status, input, output, error, snapshot, last_seq, started_at, ended_at FROM ${s}.executions
      WHERE id = ANY($1::text[])`,
    readHistory: `SELECT seq, type, ts, step, attempt, data FROM ${s}.history WHERE execution_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    renew: `
      UPDATE ${s}.work SET lease_until = $2
      WHERE lease_owner = $1
        AND (execution_id, kind, key) IN (SELECT * FROM unnest($3::text[], $4::text[], $5::text[]))
      RETURNING execution_id, kind, key`,
    release: `
      WITH released AS (
        UPDATE ${s}.work SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1 RETURNING 1
      )
      SELECT pg_notify($2, '') WHERE EXISTS (SELECT 1 FROM released)`,
    releaseAll: `
      WITH released AS (
        UPDATE ${s}.work SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL RETURNING 1
      )
      SELECT pg_notify($1, '') WHERE EXISTS (SELECT 1 FROM released)`,
    listWork: `SELECT execution_id, kind, key, attempt, due_at, lease_owner, lease_until FROM ${s}.work WHERE execution_id = $1 ORDER BY due_at, kind, key`,
    claim: (kinds: readonly WorkKind[]) => claim(s, kinds),
    nextDue: (kinds: readonly WorkKind[]) => nextDue(s, kinds),
  };
}

/** A row a claim may take as of $now: unleased, or its lease expired. Leases are live through lease_until. */
const claimable = (now: string) => `(lease_owner IS NULL OR lease_until < ${now})`;

/**
 * Leases up to $4 due rows of the given kinds, earliest first. Each kind is read in due order from
 * the (kind, due_at) index, at most $4 rows, with SKIP LOCKED so concurrent claimers (other
 * processes) pass over rows one of them is taking: no two ever lease the same row, nobody waits.
 * The union is then cut at $4; rows locked but not taken are free again when the statement ends.
 * `kinds` are literals from the WorkKind type, never user input.
 */
function claim(s: string, kinds: readonly WorkKind[]): string {
  const perKind = kinds.map((kind, i) => `
    k${i} AS (
      SELECT execution_id, kind, key, due_at FROM ${s}.work
      WHERE kind = '${kind}' AND due_at <= $3::bigint AND ${claimable('$3::bigint')}
      ORDER BY due_at
      LIMIT $4::int
      FOR UPDATE SKIP LOCKED
    )`);
  return `
    WITH ${perKind.join(',')},
    due AS (
      SELECT * FROM (${kinds.map((_, i) => `SELECT * FROM k${i}`).join(' UNION ALL ')}) d
      ORDER BY due_at, execution_id, kind, key
      LIMIT $4::int
    )
    UPDATE ${s}.work w SET lease_owner = $1::text, lease_until = $2::bigint
    FROM due
    WHERE w.execution_id = due.execution_id AND w.kind = due.kind AND w.key = due.key
    RETURNING w.execution_id, w.kind, w.key, w.attempt, w.due_at, w.lease_owner, w.lease_until`;
}

/** The earliest due time of claimable rows: per kind, the first one in the (kind, due_at) index. */
function nextDue(s: string, kinds: readonly WorkKind[]): string {
  const perKind = kinds.map((kind) => `(SELECT due_at FROM ${s}.work WHERE kind = '${kind}' AND ${claimable('$1::bigint')} ORDER BY due_at LIMIT 1)`);
  return `SELECT least(${perKind.join(', ')}) AS due_at`;
}

/**
 * Applies every commit of a round in ONE statement (a data-modifying CTE). Parameters are JSON
 * arrays (see commit-batch.ts): $1 commits, $2 events, $3 consumed refs, $4 scheduled rows,
 * $5 dropped refs; $6 is the NOTIFY channel. No two commits in a round share an execution or a
 * work row, so no row is modified twice.
 *
 * Each commit's writes are conditional on its own preconditions, so a refused commit writes
 * nothing and the others still land, without savepoints:
 *  - `cur` locks the rows of the executions being updated, in id order (so overlapping batches
 *    from two processes cannot deadlock), and reads their latest committed last_seq;
 *  - `held` then locks the consumed work rows (waiting for, then re-reading, rows another
 *    transaction is changing); the gate on `cur` makes it run after `cur`, so every commit takes
 *    execution locks before work-row locks;
 *  - `lost` is, per commit, its first consumed ref that is gone or leased by someone else;
 *  - `upd` writes the executions whose last_seq is the expected one and that lost nothing; `ins`
 *    inserts the created ones whose id is free; `landed` is both;
 *  - history, work deletions and upserts, and the NOTIFY, are filtered by `landed`.
 * Consumed and dropped rows that the same commit schedules again are upserted rather than deleted
 * and inserted (one statement may not modify a row twice); the end state is the same as "consume,
 * drop, then schedule".
 */
function commitRound(s: string): string {
  return `
    WITH
    c AS (
      SELECT * FROM json_to_recordset($1::json) AS c(i int, id text, seq int, n int, snap text, status text, output text,
        error text, ended bigint, now bigint, wake boolean, wf text, ver text, input text, started bigint)
    ),
    ev AS (
      SELECT * FROM json_to_recordset($2::json) AS e(i int, seq int, type text, ts bigint, step text, attempt int, data text)
    ),
    con AS (
      SELECT * FROM json_to_recordset($3::json) AS k(i int, o int, eid text, kind text, key text, owner text)
    ),
    sch AS (
      SELECT * FROM json_to_recordset($4::json) AS w(i int, eid text, kind text, key text, attempt int, due bigint, owner text, until bigint)
    ),
    dro AS (
      SELECT * FROM json_to_recordset($5::json) AS d(i int, eid text, kind text, key text)
    ),
    cur AS (
      SELECT x.id, x.last_seq FROM ${s}.executions x
      WHERE x.id IN (SELECT id FROM c WHERE wf IS NULL)
      ORDER BY x.id
      FOR UPDATE
    ),
    held AS (
      SELECT w.execution_id, w.kind, w.key, w.lease_owner FROM ${s}.work w
      WHERE (w.execution_id, w.kind, w.key) IN (SELECT eid, kind, key FROM con)
        AND (SELECT count(*) FROM cur) >= 0
      ORDER BY w.execution_id, w.kind, w.key
      FOR UPDATE
    ),
    lost AS (
      SELECT DISTINCT ON (k.i) k.i, k.eid, k.kind, k.key FROM con k
      WHERE NOT EXISTS (
        SELECT 1 FROM held h WHERE h.execution_id = k.eid AND h.kind = k.kind AND h.key = k.key AND h.lease_owner = k.owner)
      ORDER BY k.i, k.o
    ),
    upd AS (
      UPDATE ${s}.executions x SET
        snapshot = c.snap, last_seq = c.seq + c.n, updated_at = c.now,
        status = CASE WHEN c.ended IS NULL THEN x.status ELSE c.status END,
        output = CASE WHEN c.ended IS NULL THEN x.output ELSE c.output END,
        error = CASE WHEN c.ended IS NULL THEN x.error ELSE c.error END,
        ended_at = COALESCE(c.ended, x.ended_at)
      FROM c JOIN cur ON cur.id = c.id
      WHERE x.id = c.id AND c.wf IS NULL AND cur.last_seq = c.seq AND x.last_seq = c.seq
        AND NOT EXISTS (SELECT 1 FROM lost WHERE lost.i = c.i)
      RETURNING c.i, x.last_seq
    ),
    ins AS (
      INSERT INTO ${s}.executions (id, workflow, version, status, input, output, error, snapshot, last_seq, started_at, ended_at, updated_at)
      SELECT id, wf, ver, status, input, output, error, snap, seq + n, started, ended, now FROM c
      WHERE wf IS NOT NULL
      ORDER BY id
      ON CONFLICT (id) DO NOTHING
      RETURNING id, last_seq
    ),
    landed AS (
      SELECT i, last_seq FROM upd
      UNION ALL
      SELECT c.i, ins.last_seq FROM ins JOIN c ON c.id = ins.id AND c.wf IS NOT NULL
    ),
    hist AS (
      INSERT INTO ${s}.history (execution_id, seq, type, ts, step, attempt, data)
      SELECT c.id, e.seq, e.type, e.ts, e.step, e.attempt, e.data FROM ev e JOIN c ON c.i = e.i
      WHERE e.i IN (SELECT i FROM landed)
    ),
    gone AS (
      DELETE FROM ${s}.work w
      USING (SELECT i, eid, kind, key FROM con UNION ALL SELECT i, eid, kind, key FROM dro) r
      WHERE r.i IN (SELECT i FROM landed)
        AND w.execution_id = r.eid AND w.kind = r.kind AND w.key = r.key
        AND NOT EXISTS (SELECT 1 FROM sch WHERE sch.eid = r.eid AND sch.kind = r.kind AND sch.key = r.key)
    ),
    put AS (
      INSERT INTO ${s}.work (execution_id, kind, key, attempt, due_at, lease_owner, lease_until)
      SELECT eid, kind, key, attempt, due, owner, until FROM sch
      WHERE i IN (SELECT i FROM landed)
      ORDER BY eid, kind, key
      ON CONFLICT (execution_id, kind, key) DO UPDATE SET attempt = excluded.attempt, due_at = excluded.due_at,
        lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
    ),
    note AS (
      SELECT pg_notify($6::text, '') WHERE EXISTS (SELECT 1 FROM c WHERE c.wake AND c.i IN (SELECT i FROM landed))
    )
    SELECT c.i, l.last_seq, cur.last_seq AS seen_seq,
           lost.eid AS lost_execution_id, lost.kind AS lost_kind, lost.key AS lost_key,
           (SELECT count(*) FROM note) AS notified
    FROM c
    LEFT JOIN landed l ON l.i = c.i
    LEFT JOIN cur ON cur.id = c.id
    LEFT JOIN lost ON lost.i = c.i`;
}
