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
import { createHash } from 'node:crypto';
import type Pg from 'pg';
import type { CommitOutcome, CorrelatedEvent, EventWait, ExecutionCommit, PublishOutcome } from '../../core/store.js';

/** Advisory-lock class id for correlation keys ("CE"). */
const LOCK_CLASS = 0x4345;
/** Expired events purged by one publish (see the SQLite side). */
const PURGE_PER_PUBLISH = 100;

export function hasEventWaits(c: ExecutionCommit): boolean {
  return c.eventWaits !== undefined;
}

/** The lock's second key for (name, key): computed here, so a publish can send it as a literal with its BEGIN. */
function lockKey(w: EventWait): number {
  return createHash('sha256').update(`${w.name}\u0000${w.key}`).digest().readInt32BE(0);
}

/** Takes the shared lock of every key the batch's commits wait on, in sorted order. */
export async function lockEventKeys(client: Pg.PoolClient, commits: readonly ExecutionCommit[]): Promise<void> {
  const keys = new Set<number>();
  for (const c of commits) for (const w of c.eventWaits?.waits ?? []) keys.add(lockKey(w));
  if (keys.size === 0) return;
  await client.query('SELECT pg_advisory_xact_lock_shared($1, k) FROM unnest($2::int[]) AS k ORDER BY k', [LOCK_CLASS, [...keys].sort((a, b) => a - b)]);
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

/** Deletes up to `limit` expired events no 'event' row needs; `now` and `limit` are SQL text (parameters or literals). */
function purgeSql(s: string, now: string, limit: string): string {
  return `
    WITH doomed AS (
      SELECT id FROM ${s}.correlated_events e WHERE expires_at <= ${now} AND NOT ${stillNeeded(s, 'e')} ORDER BY expires_at LIMIT ${limit}
    ),
    gone AS (DELETE FROM ${s}.correlated_events e USING doomed WHERE e.id = doomed.id RETURNING e.id),
    dd AS (DELETE FROM ${s}.event_deliveries d USING gone WHERE d.event_id = gone.id)
    SELECT count(*) AS n FROM gone`;
}

/** Purges up to `limit` expired events no 'event' row needs; returns how many. */
export async function purgeExpired(pool: Pg.Pool, s: string, now: number, limit: number): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(purgeSql(s, '$1::bigint', '$2::int'), [now, limit]);
  return Number(rows[0]?.n ?? 0);
}

/**
 * What opens a publish's transaction, in one round trip (simple protocol, literals only: two
 * integers and the quoted schema): BEGIN, the key's exclusive lock, then the purge, whose
 * statement (like every later one) reads after the lock is held.
 */
export function publishBegin(s: string, event: EventWait, now: number): string {
  return `BEGIN; SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${lockKey(event)}); ${purgeSql(s, `${Math.trunc(now)}::bigint`, String(PURGE_PER_PUBLISH))}`;
}

/** The publish, in the transaction `publishBegin` opened: keep the event and deliver it, in one statement. */
export async function publishIn(client: Pg.PoolClient, s: string, event: CorrelatedEvent, now: number, channel: string): Promise<PublishOutcome> {
  const { rows: [row] } = await client.query<{ created: string; delivered: string[] }>(`
    WITH
    ins AS (
      INSERT INTO ${s}.correlated_events (id, name, key, payload, received_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (id) DO NOTHING RETURNING id
    ),
    dl AS (
      INSERT INTO ${s}.event_deliveries (event_id, execution_id)
      SELECT ins.id, w.execution_id FROM ins, ${s}.event_waits w WHERE w.name = $2 AND w.key = $3 ORDER BY 2
      ON CONFLICT DO NOTHING
      RETURNING execution_id
    ),
    rows AS (
      INSERT INTO ${s}.work (execution_id, kind, key, attempt, due_at) SELECT execution_id, 'event', $1, 1, $7 FROM dl
      ON CONFLICT DO NOTHING
    ),
    note AS (SELECT pg_notify($8::text, '') WHERE EXISTS (SELECT 1 FROM dl))
    SELECT (SELECT count(*) FROM ins) AS created, (SELECT coalesce(json_agg(execution_id ORDER BY execution_id), '[]'::json) FROM dl) AS delivered,
      (SELECT count(*) FROM note) AS notified`,
  [event.id, event.name, event.key, JSON.stringify(event.payload ?? null), event.receivedAt, event.expiresAt, now, channel]);
  if (Number(row!.created) > 0) return { created: true, event, deliveredTo: row!.delivered };
  const { rows } = await client.query<EventRow>(`SELECT * FROM ${s}.correlated_events WHERE id = $1`, [event.id]);
  const { rows: to } = await client.query<{ execution_id: string }>(
    `SELECT execution_id FROM ${s}.event_deliveries WHERE event_id = $1 ORDER BY execution_id`, [event.id],
  );
  return { created: false, event: toEvent(rows[0]!), deliveredTo: to.map((r) => r.execution_id) };
}

export async function readEvents(pool: Pg.Pool, s: string, ids: readonly string[]): Promise<Map<string, CorrelatedEvent>> {
  const found = new Map<string, CorrelatedEvent>();
  if (ids.length === 0) return found;
  const { rows } = await pool.query<EventRow>(`SELECT * FROM ${s}.correlated_events WHERE id = ANY($1::text[])`, [[...new Set(ids)]]);
  for (const row of rows) found.set(row.id, toEvent(row));
  return found;
}
