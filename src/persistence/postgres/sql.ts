/**
 * The SQL text PostgresStore runs, for one schema (`s` is the quoted schema name). Every
 * statement here is one round trip; the store names them so each connection prepares them once.
 */
import type { WorkKind } from '../../core/store.js';
import { STEP_STATE_COLUMNS } from '../rows.js';

export type Sql = ReturnType<typeof buildSql>;

export function buildSql(s: string) {
  return {
    commitRound: commitRound(s),
    getExecutions: `SELECT id, workflow, version, status, input, output, error, snapshot, last_seq, started_at, ended_at, parent_id, parent_key, parent_attempt, trace FROM ${s}.executions
      WHERE id = ANY($1::text[])`,
    getStepStates: `SELECT ${STEP_STATE_COLUMNS} FROM ${s}.executions WHERE id = ANY($1::text[])`,
    readHistory: `SELECT seq, type, ts, step, attempt, data FROM ${s}.history WHERE execution_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    // Rows are locked in (execution_id, kind, key) order first, the order a batch commit locks
    // them in: an UPDATE … IN (…) locks in whatever order its plan visits, and deadlocked (40P01)
    // against commits under load.
    renew: `
      WITH mine AS (
        SELECT w.execution_id, w.kind, w.key FROM ${s}.work w
        JOIN unnest($3::text[], $4::text[], $5::text[]) AS r(eid, kind, key)
          ON w.execution_id = r.eid AND w.kind = r.kind AND w.key = r.key
        WHERE w.lease_owner = $1
        ORDER BY w.execution_id, w.kind, w.key
        FOR UPDATE OF w
      )
      UPDATE ${s}.work w SET lease_until = $2 FROM mine
      WHERE w.execution_id = mine.execution_id AND w.kind = mine.kind AND w.key = mine.key
      RETURNING w.execution_id, w.kind, w.key`,
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
    claimByToken: `
      UPDATE ${s}.work SET lease_owner = $2, lease_until = $4
      WHERE token_hash = $1 AND kind = 'outside' AND ${'(lease_owner IS NULL OR lease_until < $3::bigint)'}
      RETURNING execution_id, kind, key, attempt, due_at, lease_owner, lease_until, queue, token_hash, deadline, heartbeat_ms`,
    extendByToken: `
      UPDATE ${s}.work SET due_at = CASE WHEN heartbeat_ms IS NULL THEN due_at ELSE least(coalesce(deadline, $2::bigint + heartbeat_ms), $2::bigint + heartbeat_ms) END
      WHERE token_hash = $1 AND kind = 'outside' AND (lease_owner IS NULL OR lease_until < $2::bigint)
      RETURNING 1`,
    listWork: `SELECT execution_id, kind, key, attempt, due_at, lease_owner, lease_until, queue, token_hash, deadline, heartbeat_ms FROM ${s}.work WHERE execution_id = $1 ORDER BY due_at, kind, key`,
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
      WHERE kind = '${kind}'${kind === 'queued' ? ' AND queue = $5::text' : ''} AND due_at <= $3::bigint AND ${claimable('$3::bigint')}
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
    RETURNING w.execution_id, w.kind, w.key, w.attempt, w.due_at, w.lease_owner, w.lease_until, w.queue, w.token_hash, w.deadline, w.heartbeat_ms`;
}

/** The earliest due time of claimable rows: per kind, the first one in the (kind, due_at) index. */
function nextDue(s: string, kinds: readonly WorkKind[]): string {
  const perKind = kinds.map((kind) => `(SELECT due_at FROM ${s}.work WHERE kind = '${kind}' AND ${claimable('$1::bigint')} ORDER BY due_at LIMIT 1)`);
  return `SELECT least(${perKind.join(', ')}) AS due_at`;
}

/**
 * Applies every commit of a round in ONE statement (a data-modifying CTE). Parameters are JSON
 * arrays (see commit-batch.ts): $1 commits to existing executions, $2 creating commits, $3 events,
 * $4 consumed refs, $5 scheduled rows, $6 dropped refs; $7 is the NOTIFY channel. Rows name their
 * commit by `i`, its position in the round. No two commits in a round share an execution or a
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
 *
 * Joins between the parameter sets go by the integer `i` or by keys with hash-friendly estimates,
 * and table rows are reached by primary key, so the cost grows linearly with the batch. The two
 * locking reads (`cur`, `touched`) look each row up in a LATERAL subquery, which can only be an
 * index probe: as plain joins, the prepared statement's generic plan, made while a fresh schema's
 * tables were small, hash-joined a scan of every execution and work row on every commit (until
 * autoanalyze replanned it). At 32 in flight the statement's median went from 2.0 to 1.7 ms. The
 * probes go in key order sorted with the columns' collation ("C", as the tables' own order and
 * the lease renewal's): the database's default collation could order mixed-case keys otherwise,
 * and two statements locking the same rows in opposite orders deadlock.
 */
function commitRound(s: string): string {
  return `
    WITH
    cu AS (
      SELECT * FROM json_to_recordset($1::json) AS c(i int, id text, seq int, n int, snap text, status text, output text,
        error text, ended bigint, now bigint, wake boolean, reopen boolean)
    ),
    cc AS (
      SELECT * FROM json_to_recordset($2::json) AS c(i int, id text, seq int, n int, snap text, status text, output text,
        error text, ended bigint, now bigint, wake boolean, wf text, ver text, input text, started bigint, trace text)
    ),
    ev AS (
      SELECT * FROM json_to_recordset($3::json) AS e(i int, id text, seq int, type text, ts bigint, step text, attempt int, data text)
    ),
    con AS (
      SELECT * FROM json_to_recordset($4::json) AS k(i int, o int, eid text, kind text, key text, owner text)
    ),
    sch AS (
      SELECT * FROM json_to_recordset($5::json) AS w(i int, eid text, kind text, key text, attempt int, due bigint, owner text, until bigint,
        queue text, token text, deadline bigint, hb bigint)
    ),
    dro AS (
      SELECT * FROM json_to_recordset($6::json) AS d(i int, eid text, kind text, key text)
    ),
    cur AS (
      SELECT c.i, x.last_seq FROM (SELECT i, id FROM cu ORDER BY id COLLATE "C") c
      CROSS JOIN LATERAL (SELECT last_seq FROM ${s}.executions x WHERE x.id = c.id FOR UPDATE) x
    ),
    -- Every existing work row this batch consumes, drops or rewrites, locked at once in key order
    -- (after the executions rows), so that two commits, or a commit and a lease renewal, never
    -- wait on each other in a cycle.
    touched AS (
      SELECT t.execution_id, t.kind, t.key, t.lease_owner
      FROM (
        SELECT eid, kind, key FROM (SELECT eid, kind, key FROM con UNION SELECT eid, kind, key FROM dro UNION SELECT eid, kind, key FROM sch) u
        WHERE (SELECT count(*) FROM cur) >= 0
        ORDER BY eid COLLATE "C", kind COLLATE "C", key COLLATE "C"
      ) r
      CROSS JOIN LATERAL (
        SELECT w.execution_id, w.kind, w.key, w.lease_owner FROM ${s}.work w
        WHERE w.execution_id = r.eid AND w.kind = r.kind AND w.key = r.key
        FOR UPDATE
      ) t
    ),
    -- Read through the lock: a row another process claimed while this statement waited shows its
    -- new owner here (a plain read of the table would see the statement's older snapshot).
    held AS (
      SELECT k.i, k.o, t.lease_owner = k.owner AS mine FROM touched t
      JOIN con k ON t.execution_id = k.eid AND t.kind = k.kind AND t.key = k.key
    ),
    lost AS (
      SELECT DISTINCT ON (k.i) k.i, k.eid, k.kind, k.key FROM con k
      LEFT JOIN held h ON h.i = k.i AND h.o = k.o
      WHERE h.mine IS NOT TRUE
      ORDER BY k.i, k.o
    ),
    ok AS (
      SELECT cu.i FROM cu JOIN cur ON cur.i = cu.i LEFT JOIN lost ON lost.i = cu.i
      WHERE cur.last_seq = cu.seq AND lost.i IS NULL
    ),
    upd AS (
      UPDATE ${s}.executions x SET
        snapshot = cu.snap, last_seq = cu.seq + cu.n, updated_at = cu.now,
        status = CASE WHEN cu.reopen THEN cu.status WHEN cu.ended IS NULL AND x.status <> 'QUEUED' THEN x.status ELSE cu.status END,
        output = CASE WHEN cu.reopen THEN NULL WHEN cu.ended IS NULL THEN x.output ELSE cu.output END,
        error = CASE WHEN cu.reopen THEN NULL WHEN cu.ended IS NULL THEN x.error ELSE cu.error END,
        ended_at = CASE WHEN cu.reopen THEN NULL ELSE COALESCE(cu.ended, x.ended_at) END
      FROM cu JOIN ok ON ok.i = cu.i
      WHERE x.id = cu.id AND x.last_seq = cu.seq
      RETURNING cu.i, x.last_seq, cu.wake
    ),
    ins AS (
      INSERT INTO ${s}.executions (id, workflow, version, status, input, output, error, snapshot, last_seq, started_at, ended_at, updated_at, trace)
      SELECT id, wf, ver, status, input, output, error, snap, seq + n, started, ended, now, trace FROM cc
      ORDER BY id
      ON CONFLICT (id) DO NOTHING
      RETURNING id, last_seq
    ),
    landed AS (
      SELECT i, last_seq, wake FROM upd
      UNION ALL
      SELECT cc.i, ins.last_seq, cc.wake FROM ins JOIN cc ON cc.id = ins.id
    ),
    hist AS (
      INSERT INTO ${s}.history (execution_id, seq, type, ts, step, attempt, data)
      SELECT e.id, e.seq, e.type, e.ts, e.step, e.attempt, e.data FROM ev e JOIN landed l ON l.i = e.i
    ),
    doomed AS (
      SELECT r.eid, r.kind, r.key FROM (SELECT i, eid, kind, key FROM con UNION ALL SELECT i, eid, kind, key FROM dro) r
      JOIN landed l ON l.i = r.i
      EXCEPT
      SELECT eid, kind, key FROM sch
    ),
    gone AS (
      DELETE FROM ${s}.work w USING doomed d
      WHERE w.execution_id = d.eid AND w.kind = d.kind AND w.key = d.key
    ),
    put AS (
      INSERT INTO ${s}.work (execution_id, kind, key, attempt, due_at, lease_owner, lease_until, queue, token_hash, deadline, heartbeat_ms)
      SELECT w.eid, w.kind, w.key, w.attempt, w.due, w.owner, w.until, w.queue, w.token, w.deadline, w.hb FROM sch w JOIN landed l ON l.i = w.i
      ORDER BY w.eid, w.kind, w.key
      ON CONFLICT (execution_id, kind, key) DO UPDATE SET attempt = excluded.attempt, due_at = excluded.due_at,
        lease_owner = excluded.lease_owner, lease_until = excluded.lease_until, queue = excluded.queue,
        token_hash = excluded.token_hash, deadline = excluded.deadline, heartbeat_ms = excluded.heartbeat_ms
    ),
    note AS (
      SELECT pg_notify($7::text, '') WHERE EXISTS (SELECT 1 FROM landed WHERE wake)
    ),
    result AS (
      SELECT cu.i, l.last_seq, cur.last_seq AS seen_seq, lost.eid AS lost_execution_id, lost.kind AS lost_kind, lost.key AS lost_key
      FROM cu LEFT JOIN landed l ON l.i = cu.i LEFT JOIN cur ON cur.i = cu.i LEFT JOIN lost ON lost.i = cu.i
      UNION ALL
      SELECT cc.i, l.last_seq, NULL, NULL, NULL, NULL FROM cc LEFT JOIN landed l ON l.i = cc.i
    )
    SELECT *, (SELECT count(*) FROM note) AS notified FROM result`;
}
