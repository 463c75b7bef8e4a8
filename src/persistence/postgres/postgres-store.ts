import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import { decodeListCursor, encodeListCursor } from '../../core/cursor.js';
import { StepwiseError } from '../../core/errors.js';
import type { HistoryEvent } from '../../core/events.js';
import type {
  ClaimRequest, CommitOutcome, ExecutionCommit, ExecutionSummary, ListQuery, NewWork, Store, StoredExecution, WorkItem, WorkKind,
  WorkRef,
} from '../../core/store.js';
import { toEvent, toSummary, toWork, type ExecutionRow, type HistoryRow, type WorkRow } from '../rows.js';
import { asStorageError, isStorageFault } from '../storage-error.js';
import { migrate } from './migrations.js';

export interface PostgresStoreOptions {
  /** The schema holding Stepwise's tables; created (and migrated) on open. @default 'stepwise' */
  schema?: string;
  /** Connections in the pool (plus one for LISTEN once `onWorkAvailable` is used). @default 10 */
  poolSize?: number;
  /** How long to wait for a pooled connection before failing with STORE_UNAVAILABLE. @default 10000 */
  connectTimeoutMs?: number;
}

interface CommitRow { last_seq: number | null; seen_seq: number | null; lost_execution_id: string | null; lost_kind: string | null; lost_key: string | null }

const ALL_KINDS: WorkKind[] = ['task', 'timer', 'compensation'];
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;
const INT8_OID = 20;

/** bigint columns (times in ms) come back as JS numbers: every value Stepwise stores is below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/**
 * The shared store: PostgreSQL, for several Stepwise processes at once (`exclusive` is false, so
 * leases of a dead process expire rather than being voided at start-up).
 *
 * Every `commit` in a batch is ONE statement (a data-modifying CTE) whose writes are all
 * conditional on its preconditions, so a refused commit writes nothing without needing a
 * savepoint; a batch of one runs as a single autocommitted statement (one round trip), a larger
 * batch as BEGIN + one statement per commit + COMMIT.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly exclusive = false;

  private readonly q: string;
  private readonly sql: ReturnType<typeof buildSql>;
  private readonly channel: string;
  private readonly listeners = new Set<() => void>();
  private listenClient: pg.Client | undefined;
  private listenStarting = false;
  private listenRetryTimer: ReturnType<typeof setTimeout> | undefined;
  private listenBackoffMs = 100;
  private closed = false;

  /** Connects, creates the schema if needed and brings it up to date (concurrent openers migrate once). */
  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const schema = opts.schema ?? 'stepwise';
    if (!IDENTIFIER.test(schema)) {
      throw new StepwiseError('VALIDATION_FAILED', `schema name ${JSON.stringify(schema)} must be letters, digits and _ (at most 48)`, {
        field: 'schema',
      });
    }
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
      application_name: 'stepwise',
      types,
    });
    // An idle pooled connection that dies (server restart) emits 'error'; the pool drops it and the
    // next query opens a new one. Without a listener Node would crash the process.
    pool.on('error', () => undefined);
    const store = new PostgresStore(url, pool, schema);
    try {
      const client = await pool.connect();
      try {
        await migrate(client, schema, store.q);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw pgError(error);
    }
    return store;
  }

  private constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
    readonly schema: string,
  ) {
    this.q = `"${schema}"`;
    this.sql = buildSql(this.q);
    this.channel = `${schema}_work`;
  }

  /** The pool, for tests and benchmarks that need raw SQL. */
  get connection(): pg.Pool {
    return this.pool;
  }

  // ---------------------------------------------------------------------------------------------
  // commit

  async commit(commits: ExecutionCommit[]): Promise<CommitOutcome[]> {
    if (commits.length === 0) return [];
    for (const c of commits) {
      if (c.create && c.consume && c.consume.length > 0) throw new Error('a creating commit cannot consume work');
    }
    // Lock executions in id order (a stable sort keeps one execution's commits in their order), so
    // two processes committing overlapping batches cannot deadlock on execution rows.
    const order = commits.map((_, i) => i);
    if (commits.length > 1) {
      order.sort((a, b) => {
        const x = commits[a].executionId;
        const y = commits[b].executionId;
        return x < y ? -1 : x > y ? 1 : a - b;
      });
    }
    const outcomes = new Array<CommitOutcome>(commits.length);
    if (commits.length === 1) {
      // One statement is atomic on its own: no BEGIN/COMMIT round trips.
      outcomes[0] = await this.run(async () => this.applyCommit(this.pool, commits[0]));
      return outcomes;
    }
    const client = await this.connect();
    // pg-pool listens for errors only on idle clients: a connection that dies while checked out
    // would otherwise emit an unhandled 'error'. The failed query rejects on its own.
    let broken: unknown;
    const onError = (error: Error) => {
      broken ??= error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      for (const i of order) outcomes[i] = await this.applyCommit(client, commits[i]);
      await client.query('COMMIT');
      return outcomes;
    } catch (error) {
      broken = error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw pgError(error);
    } finally {
      client.off('error', onError);
      client.release(broken !== undefined && isConnectionError(broken) ? (broken as Error) : undefined);
    }
  }

  private async applyCommit(db: pg.Pool | PoolClient, c: ExecutionCommit): Promise<CommitOutcome> {
    const now = c.events.length > 0 ? c.events[c.events.length - 1].timestamp : Date.now();
    const events = c.events;
    const consume = c.consume ?? [];
    const drop = c.drop ?? [];
    const schedule = dedupeSchedule(c.schedule ?? []);
    const ended = c.endedAt !== undefined;
    const values: unknown[] = [
      c.executionId, // $1
      c.expectedSeq, // $2
      events.length, // $3
      JSON.stringify(c.snapshot), // $4
      c.status, // $5
      ended && c.output !== undefined ? JSON.stringify(c.output) : null, // $6
      ended && c.error ? JSON.stringify(c.error) : null, // $7
      ended ? c.endedAt : null, // $8
      now, // $9
      events.map((e) => e.type), // $10
      events.map((e) => e.timestamp), // $11
      events.map((e) => e.step ?? null), // $12
      events.map((e) => e.attempt ?? null), // $13
      events.map((e) => (e.data === undefined ? null : JSON.stringify(e.data))), // $14
      consume.map((r) => r.executionId), // $15
      consume.map((r) => r.kind), // $16
      consume.map((r) => r.key), // $17
      consume.map((r) => r.owner), // $18
      schedule.map((w) => w.executionId), // $19
      schedule.map((w) => w.kind), // $20
      schedule.map((w) => w.key), // $21
      schedule.map((w) => w.attempt), // $22
      schedule.map((w) => w.dueAt), // $23
      schedule.map((w) => w.leaseOwner ?? null), // $24
      schedule.map((w) => w.leaseUntil ?? null), // $25
      drop.map((r) => r.executionId), // $26
      drop.map((r) => r.kind), // $27
      drop.map((r) => r.key), // $28
      this.channel, // $29
      schedule.some((w) => w.leaseOwner === undefined), // $30: wake other processes
    ];
    if (c.create) {
      values.push(c.create.workflow, c.create.version, JSON.stringify(c.create.input ?? null), c.create.startedAt); // $31..$34
    }
    const { rows } = await db.query<CommitRow>({
      name: c.create ? `${this.schema}.commit.create` : `${this.schema}.commit.update`,
      text: c.create ? this.sql.commitCreate : this.sql.commitUpdate,
      values,
    });
    const row = rows[0];
    if (row.last_seq !== null) return { ok: true, lastSeq: row.last_seq };
    if (c.create) return { ok: false, reason: 'exists' };
    if (row.seen_seq === c.expectedSeq && row.lost_kind !== null) {
      return { ok: false, reason: 'lease-lost', work: { executionId: row.lost_execution_id!, kind: row.lost_kind as WorkKind, key: row.lost_key! } };
    }
    return { ok: false, reason: 'conflict' };
  }

  // ---------------------------------------------------------------------------------------------
  // reads

  async getExecution(id: string): Promise<StoredExecution | undefined> {
    const { rows } = await this.query<ExecutionRow>(`${this.schema}.get`, this.sql.getExecution, [id]);
    const row = rows[0];
    if (!row) return undefined;
    return { ...toSummary(row), snapshot: JSON.parse(row.snapshot!), lastSeq: row.last_seq! };
  }

  async listExecutions(query: ListQuery): Promise<{ items: ExecutionSummary[]; nextCursor?: string }> {
    const after = query.cursor === undefined ? undefined : decodeListCursor(query.cursor);
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.workflow !== undefined) where.push(`workflow = $${params.push(query.workflow)}`);
    if (query.status !== undefined) where.push(`status = $${params.push(query.status)}`);
    if (after) where.push(`(started_at, id) < ($${params.push(after.startedAt)}::bigint, $${params.push(after.id)}::text)`);
    const limit = Math.max(0, Math.floor(query.limit));
    const text = `SELECT id, workflow, version, status, input, output, error, started_at, ended_at FROM ${this.q}.executions
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT $${params.push(limit + 1)}`;
    const { rows } = await this.run(() => this.pool.query<ExecutionRow>(text, params));
    const items = rows.slice(0, limit).map(toSummary);
    const last = items[items.length - 1];
    return rows.length > limit && last ? { items, nextCursor: encodeListCursor(last) } : { items };
  }

  async readHistory(executionId: string, afterSeq: number, limit: number): Promise<HistoryEvent[]> {
    const { rows } = await this.query<HistoryRow>(`${this.schema}.history`, this.sql.readHistory, [
      executionId,
      afterSeq,
      Math.max(0, Math.floor(limit)),
    ]);
    return rows.map(toEvent);
  }

  // ---------------------------------------------------------------------------------------------
  // work

  async claimWork(r: ClaimRequest): Promise<WorkItem[]> {
    if (r.limit <= 0) return [];
    const kinds = r.kinds ?? ALL_KINDS;
    if (kinds.length === 0) return [];
    const { rows } = await this.query<WorkRow>(`${this.schema}.claim`, this.sql.claim, [r.owner, r.leaseUntil, r.now, r.limit, kinds]);
    return rows.map(toWork).sort(byDue);
  }

  async renewLeases(owner: string, refs: WorkRef[], leaseUntil: number): Promise<WorkRef[]> {
    if (refs.length === 0) return [];
    const sorted = [...refs].sort(byRef); // one lock order everywhere
    const { rows } = await this.query<{ execution_id: string; kind: string; key: string }>(`${this.schema}.renew`, this.sql.renew, [
      owner,
      leaseUntil,
      sorted.map((r) => r.executionId),
      sorted.map((r) => r.kind),
      sorted.map((r) => r.key),
    ]);
    const held = new Set(rows.map((row) => refKey(row.execution_id, row.kind, row.key)));
    return refs.filter((r) => !held.has(refKey(r.executionId, r.kind, r.key)));
  }

  async releaseLeases(owner: string): Promise<void> {
    await this.query(`${this.schema}.release`, this.sql.release, [owner, this.channel]);
  }

  async releaseAllLeases(): Promise<void> {
    await this.query(`${this.schema}.releaseAll`, this.sql.releaseAll, [this.channel]);
  }

  async nextDueAt(now: number): Promise<number | undefined> {
    const { rows } = await this.query<{ due_at: number | null }>(`${this.schema}.nextDue`, this.sql.nextDue, [now]);
    return rows[0]?.due_at ?? undefined;
  }

  async listWork(executionId: string): Promise<WorkItem[]> {
    const { rows } = await this.query<WorkRow>(`${this.schema}.listWork`, this.sql.listWork, [executionId]);
    return rows.map(toWork);
  }

  // ---------------------------------------------------------------------------------------------
  // LISTEN/NOTIFY

  /**
   * Calls `listener` when any process (this one included) commits work that no one holds (a
   * commit that schedules an unleased row, or `releaseLeases`), and after the listening connection
   * is re-established (notifications may have been missed meanwhile). A call means "claim again
   * now"; it says nothing about how many rows or when they are due. Returns the unsubscribe function.
   */
  onWorkAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.listenClient && !this.listenStarting && !this.closed) void this.startListening();
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Resolves once the LISTEN connection is up (tests use it to avoid racing the first NOTIFY). */
  async listening(): Promise<void> {
    for (let i = 0; i < 500 && !this.closed; i++) {
      if (this.listenClient) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private async startListening(): Promise<void> {
    this.listenStarting = true;
    const client = new pg.Client({ connectionString: this.url, application_name: 'stepwise-listen' });
    let reconnecting = false;
    const reconnect = () => {
      if (reconnecting) return;
      reconnecting = true;
      if (this.listenClient === client) this.listenClient = undefined;
      client.end().catch(() => undefined);
      if (this.closed || this.listeners.size === 0) return;
      const delay = this.listenBackoffMs;
      this.listenBackoffMs = Math.min(this.listenBackoffMs * 2, 10_000);
      this.listenRetryTimer = setTimeout(() => {
        this.listenRetryTimer = undefined;
        if (!this.closed && !this.listenClient && !this.listenStarting) void this.startListening();
      }, delay);
      this.listenRetryTimer.unref?.();
    };
    client.on('error', reconnect);
    client.on('end', reconnect);
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.notify();
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch {
      this.listenStarting = false;
      reconnect();
      return;
    }
    this.listenStarting = false;
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    const wasReconnect = this.listenBackoffMs > 100;
    this.listenBackoffMs = 100;
    this.listenClient = client;
    if (wasReconnect) this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch {
        // a listener's failure is its own business
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    if (this.listenRetryTimer) clearTimeout(this.listenRetryTimer);
    const listen = this.listenClient;
    this.listenClient = undefined;
    await Promise.all([listen?.end().catch(() => undefined), this.pool.end().catch(() => undefined)]);
  }

  private async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw pgError(error);
    }
  }

  private query<R extends QueryResultRow>(name: string, text: string, values: unknown[]) {
    return this.run(() => this.pool.query<R>({ name, text, values }));
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw pgError(error);
    }
  }
}

// -----------------------------------------------------------------------------------------------
// SQL

function buildSql(s: string) {
  /*
   * The tail shared by both commit statements. `ex` is the execution write (insert or guarded
   * update) returning the new last_seq; every other write runs only if `ex` returned a row, so a
   * refused commit writes nothing. Consumed and dropped rows that the same commit schedules again
   * are upserted rather than deleted-then-inserted (one statement may not modify a row twice);
   * the end state is the same as "consume, drop, then schedule".
   */
  const tail = `
    hist AS (
      INSERT INTO ${s}.history (execution_id, seq, type, ts, step, attempt, data)
      SELECT $1::text, $2::int + e.ord, e.type, e.ts, e.step, e.attempt, e.data
      FROM unnest($10::text[], $11::bigint[], $12::text[], $13::int[], $14::text[]) WITH ORDINALITY AS e(type, ts, step, attempt, data, ord)
      WHERE EXISTS (SELECT 1 FROM ex)
    ),
    sched_in AS (
      SELECT * FROM unnest($19::text[], $20::text[], $21::text[], $22::int[], $23::bigint[], $24::text[], $25::bigint[])
        AS w(execution_id, kind, key, attempt, due_at, lease_owner, lease_until)
    ),
    del AS (
      DELETE FROM ${s}.work w
      WHERE EXISTS (SELECT 1 FROM ex)
        AND (w.execution_id, w.kind, w.key) IN (
          SELECT execution_id, kind, key FROM consume
          UNION ALL
          SELECT * FROM unnest($26::text[], $27::text[], $28::text[]))
        AND (w.execution_id, w.kind, w.key) NOT IN (SELECT execution_id, kind, key FROM sched_in)
    ),
    sched AS (
      INSERT INTO ${s}.work (execution_id, kind, key, attempt, due_at, lease_owner, lease_until)
      SELECT execution_id, kind, key, attempt, due_at, lease_owner, lease_until FROM sched_in
      WHERE EXISTS (SELECT 1 FROM ex)
      ON CONFLICT (execution_id, kind, key) DO UPDATE SET attempt = excluded.attempt, due_at = excluded.due_at,
        lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
    ),
    note AS (
      SELECT pg_notify($29::text, '') FROM ex WHERE $30::boolean
    )
    SELECT (SELECT last_seq FROM ex) AS last_seq,
           (SELECT last_seq FROM cur) AS seen_seq,
           (SELECT execution_id FROM lost) AS lost_execution_id,
           (SELECT kind FROM lost) AS lost_kind,
           (SELECT key FROM lost) AS lost_key,
           (SELECT count(*) FROM note) AS notified`;

  /*
   * `cur` locks the execution row and reads its latest committed last_seq; `held` locks the
   * consumed work rows (waiting for, then re-reading, rows another transaction is changing), so
   * the lease check and the conflict check see the same state the writes act on.
   */
  const head = `
    consume AS (
      SELECT * FROM unnest($15::text[], $16::text[], $17::text[], $18::text[]) WITH ORDINALITY AS c(execution_id, kind, key, owner, ord)
    ),
    held AS (
      SELECT w.execution_id, w.kind, w.key, w.lease_owner FROM ${s}.work w
      WHERE (w.execution_id, w.kind, w.key) IN (SELECT execution_id, kind, key FROM consume)
      FOR UPDATE
    ),
    lost AS (
      SELECT c.execution_id, c.kind, c.key FROM consume c
      WHERE NOT EXISTS (
        SELECT 1 FROM held h WHERE h.execution_id = c.execution_id AND h.kind = c.kind AND h.key = c.key AND h.lease_owner = c.owner)
      ORDER BY c.ord LIMIT 1
    ),`;

  const commitUpdate = `
    WITH ${head}
    cur AS (
      SELECT last_seq FROM ${s}.executions WHERE id = $1::text FOR UPDATE
    ),
    ex AS (
      UPDATE ${s}.executions SET
        snapshot = $4::text, last_seq = $2::int + $3::int, updated_at = $9::bigint,
        status = CASE WHEN $8::bigint IS NULL THEN status ELSE $5::text END,
        output = CASE WHEN $8::bigint IS NULL THEN output ELSE $6::text END,
        error = CASE WHEN $8::bigint IS NULL THEN error ELSE $7::text END,
        ended_at = COALESCE($8::bigint, ended_at)
      WHERE id = $1::text AND last_seq = $2::int AND (SELECT last_seq FROM cur) = $2::int AND NOT EXISTS (SELECT 1 FROM lost)
      RETURNING last_seq
    ),${tail}`;

  const commitCreate = `
    WITH ${head}
    cur AS (SELECT NULL::integer AS last_seq),
    ex AS (
      INSERT INTO ${s}.executions (id, workflow, version, status, input, output, error, snapshot, last_seq, started_at, ended_at, updated_at)
      VALUES ($1::text, $31::text, $32::text, $5::text, $33::text, $6::text, $7::text, $4::text, $2::int + $3::int, $34::bigint, $8::bigint, $9::bigint)
      ON CONFLICT (id) DO NOTHING
      RETURNING last_seq
    ),${tail}`;

  return {
    commitUpdate,
    commitCreate,
    getExecution: `SELECT id, workflow, version, status, input, output, error, snapshot, last_seq, started_at, ended_at FROM ${s}.executions WHERE id = $1`,
    readHistory: `SELECT seq, type, ts, step, attempt, data FROM ${s}.history WHERE execution_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    // SKIP LOCKED: concurrent claimers (other processes) pass over rows one of them is taking,
    // so no two ever lease the same row, and nobody waits.
    claim: `
      UPDATE ${s}.work w SET lease_owner = $1::text, lease_until = $2::bigint
      FROM (
        SELECT execution_id, kind, key FROM ${s}.work
        WHERE due_at <= $3::bigint AND (lease_owner IS NULL OR lease_until < $3::bigint) AND kind = ANY($5::text[])
        ORDER BY due_at, execution_id, kind, key
        LIMIT $4::int
        FOR UPDATE SKIP LOCKED
      ) due
      WHERE w.execution_id = due.execution_id AND w.kind = due.kind AND w.key = due.key
      RETURNING w.execution_id, w.kind, w.key, w.attempt, w.due_at, w.lease_owner, w.lease_until`,
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
    nextDue: `SELECT min(due_at) AS due_at FROM ${s}.work WHERE lease_owner IS NULL OR lease_until < $1`,
    listWork: `SELECT execution_id, kind, key, attempt, due_at, lease_owner, lease_until FROM ${s}.work WHERE execution_id = $1 ORDER BY due_at, kind, key`,
  };
}

// -----------------------------------------------------------------------------------------------
// helpers

/** Same ref scheduled twice in one commit: the last one wins (as applying them in order would). */
function dedupeSchedule(schedule: NewWork[]): NewWork[] {
  if (schedule.length < 2) return schedule;
  const byRef = new Map<string, NewWork>();
  for (const w of schedule) {
    const k = refKey(w.executionId, w.kind, w.key);
    byRef.delete(k);
    byRef.set(k, w);
  }
  return byRef.size === schedule.length ? schedule : [...byRef.values()];
}

function refKey(executionId: string, kind: string, key: string): string {
  return JSON.stringify([executionId, kind, key]);
}

function byRef(a: WorkRef, b: WorkRef): number {
  const x = refKey(a.executionId, a.kind, a.key);
  const y = refKey(b.executionId, b.kind, b.key);
  return x < y ? -1 : x > y ? 1 : 0;
}

function byDue(a: WorkItem, b: WorkItem): number {
  return a.dueAt - b.dueAt || byRef(a, b);
}

/** pg reports a dropped or unreachable connection with an Error that has no SQLSTATE. */
function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code.startsWith('08') || isStorageFault(error);
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable|ECONN|socket/i.test(
    error.message,
  );
}

/** Storage faults become STORE_UNAVAILABLE (the engine backs off and retries); bugs pass through. */
function pgError(error: unknown): unknown {
  if (error instanceof StepwiseError) return error;
  if (isStorageFault(error)) return asStorageError(error);
  const code = (error as { code?: unknown } | null)?.code;
  const transientSqlState =
    typeof code === 'string' && (/^(08|53|58)/.test(code) || ['57P01', '57P02', '57P03', '57014', '55P03', '40001', '40P01'].includes(code));
  if (transientSqlState || isConnectionError(error)) {
    return new StepwiseError('STORE_UNAVAILABLE', `storage fault ${typeof code === 'string' ? code : 'connection'}: ${(error as Error).message}`, {
      cause: typeof code === 'string' ? code : 'connection',
    });
  }
  return error;
}
