/**
 * The PostgreSQL side of correlated events (POST /v1/events): a batch's `eventWaits`, in the
 * batch's transaction, and the publish, read and purge of kept events.
 *
 * A publish and a commit that enters a wait on the same (name, key) must each see the other, or
 * an event kept before the wait was entered, and published while it was being entered, would
 * reach neither path. Under READ COMMITTED a statement sees what committed before it began, so
 * both take a transaction advisory lock on the key in a statement of its own before they read:
 * commits a shared one (many executions may enter waits on one key at once), a publish an
 * exclusive one. Whichever locks second reads after the first committed.
 */
import type Pg from 'pg';
import type { CommitOutcome, CorrelatedEvent, EventWait, ExecutionCommit, PublishOutcome } from '../../core/store.js';

/** Advisory-lock class id for correlation keys ("CE"). */
const LOCK_CLASS = 0x4345;
/** Expired events purged by one publish (see the SQLite side). */
const PURGE_PER_PUBLISH = 100;

export function hasEventWaits(c: ExecutionCommit): boolean {
  return c.eventWaits !== undefined;
}

const lockText = (w: EventWait) => `${w.name}\u0001${w.key}`;

/** Takes the shared lock of every key the batch's commits wait on, in sorted order. */
export async function lockEventKeys(client: Pg.PoolClient, commits: readonly ExecutionCommit[]): Promise<void> {
  const keys = new Set<string>();
  for (const c of commits) for (const w of c.eventWaits?.waits ?? []) keys.add(lockText(w));
  if (keys.size === 0) return;
  await client.query('SELECT pg_advisory_xact_lock_shared($1, hashtext(k)) FROM unnest($2::text[]) AS k ORDER BY k', [LOCK_CLASS, [...keys].sort()]);
}

/** An event whose delivery to some execution is still an 'event' row: its payload is needed. */
const stillNeeded = (s: string, alias: string) => `EXISTS (SELECT 1 FROM ${s}.event_deliveries d
  JOIN ${s}.work w ON w.execution_id = d.execution_id AND w.kind = 'event' AND w.key = d.event_id WHERE d.event_id = ${alias}.id)`;

/**
 * The waits of the commits that landed replace their executions' waits, and kept events matching
 * them, not delivered to those executions before, get 'event' rows (due at their arrival, so
 * claims take them in arrival order). $1 the waits (JSON), $2 the executions, $3 the NOTIFY channel.
 */
export async function applyEventWaits(
  client: Pg.PoolClient, s: string, commits: readonly ExecutionCommit[], outcomes: readonly CommitOutcome[], channel: string,
): Promise<void> {
  const waits: object[] = [];
  const ids: string[] = [];
  commits.forEach((c, i) => {
    if (!outcomes[i]?.ok || !c.eventWaits) return;
    ids.push(c.executionId);
    for (const w of c.eventWaits.waits) waits.push({ eid: c.executionId, name: w.name, key: w.key, now: c.eventWaits.now });
  });
  if (ids.length === 0) return;
  await client.query(`DELETE FROM ${s}.event_waits WHERE execution_id = ANY($1::text[])`, [ids]);
  await client.query(`
    WITH
    ws AS (SELECT * FROM json_to_recordset($1::json) AS w(eid text, name text, key text, now bigint)),
    ins AS (
      INSERT INTO ${s}.event_waits (name, key, execution_id) SELECT DISTINCT name, key, eid FROM ws ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING
    ),
    dl AS (
      INSERT INTO ${s}.event_deliveries (event_id, execution_id)
      SELECT DISTINCT e.id, ws.eid FROM ${s}.correlated_events e JOIN ws ON e.name = ws.name AND e.key = ws.key AND e.expires_at > ws.now
      ON CONFLICT DO NOTHING
      RETURNING event_id, execution_id
    ),
    rows AS (
      INSERT INTO ${s}.work (execution_id, kind, key, attempt, due_at)
      SELECT dl.execution_id, 'event', dl.event_id, 1, least(e.received_at, (SELECT max(now) FROM ws)) FROM dl JOIN ${s}.correlated_events e ON e.id = dl.event_id
      ON CONFLICT DO NOTHING
      RETURNING 1
    )
    SELECT pg_notify($2::text, '') WHERE EXISTS (SELECT 1 FROM rows)`, [JSON.stringify(waits), channel]);
}

interface EventRow { id: string; name: string; key: string; payload: string; received_at: number | string; expires_at: number | string }

function toEvent(row: EventRow): CorrelatedEvent {
  return {
    id: row.id, name: row.name, key: row.key, payload: JSON.parse(row.payload), receivedAt: Number(row.received_at), expiresAt: Number(row.expires_at),
  };
}

/** Purges up to `limit` expired events no 'event' row needs; returns how many. */
export async function purgeExpired(client: Pg.PoolClient | Pg.Pool, s: string, now: number, limit: number): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`
    WITH doomed AS (
      SELECT id FROM ${s}.correlated_events e WHERE expires_at <= $1 AND NOT ${stillNeeded(s, 'e')} ORDER BY expires_at LIMIT $2
    ),
    gone AS (DELETE FROM ${s}.correlated_events e USING doomed WHERE e.id = doomed.id RETURNING e.id),
    dd AS (DELETE FROM ${s}.event_deliveries d USING gone WHERE d.event_id = gone.id)
    SELECT count(*) AS n FROM gone`, [now, limit]);
  return Number(rows[0]?.n ?? 0);
}

/** The publish, in the caller's transaction: lock the key, purge, keep the event, deliver it. */
export async function publishIn(client: Pg.PoolClient, s: string, event: CorrelatedEvent, now: number, channel: string): Promise<PublishOutcome> {
  await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, lockText(event)]);
  await purgeExpired(client, s, now, PURGE_PER_PUBLISH);
  const inserted = await client.query(
    `INSERT INTO ${s}.correlated_events (id, name, key, payload, received_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING 1`,
    [event.id, event.name, event.key, JSON.stringify(event.payload ?? null), event.receivedAt, event.expiresAt],
  );
  if (inserted.rowCount === 0) {
    const { rows } = await client.query<EventRow>(`SELECT * FROM ${s}.correlated_events WHERE id = $1`, [event.id]);
    const { rows: to } = await client.query<{ execution_id: string }>(
      `SELECT execution_id FROM ${s}.event_deliveries WHERE event_id = $1 ORDER BY execution_id`, [event.id],
    );
    return { created: false, event: toEvent(rows[0]!), deliveredTo: to.map((r) => r.execution_id) };
  }
  const { rows } = await client.query<{ execution_id: string }>(`
    WITH
    dl AS (
      INSERT INTO ${s}.event_deliveries (event_id, execution_id)
      SELECT $1, execution_id FROM ${s}.event_waits WHERE name = $2 AND key = $3 ORDER BY execution_id
      ON CONFLICT DO NOTHING
      RETURNING execution_id
    ),
    rows AS (
      INSERT INTO ${s}.work (execution_id, kind, key, attempt, due_at) SELECT execution_id, 'event', $1, 1, $4 FROM dl
      ON CONFLICT DO NOTHING
    ),
    note AS (SELECT pg_notify($5::text, '') WHERE EXISTS (SELECT 1 FROM dl))
    SELECT execution_id FROM dl, (SELECT count(*) FROM note) n ORDER BY execution_id`, [event.id, event.name, event.key, now, channel]);
  return { created: true, event, deliveredTo: rows.map((r) => r.execution_id) };
}

export async function readEvents(pool: Pg.Pool, s: string, ids: readonly string[]): Promise<Map<string, CorrelatedEvent>> {
  const found = new Map<string, CorrelatedEvent>();
  if (ids.length === 0) return found;
  const { rows } = await pool.query<EventRow>(`SELECT * FROM ${s}.correlated_events WHERE id = ANY($1::text[])`, [[...new Set(ids)]]);
  for (const row of rows) found.set(row.id, toEvent(row));
  return found;
}
