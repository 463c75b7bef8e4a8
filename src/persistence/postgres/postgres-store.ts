import type * as Pg from 'pg';
import { decodeListCursor, encodeListCursor } from '../../core/cursor.js';
import { StepwiseError } from '../../core/errors.js';
import type { HistoryEvent } from '../../core/events.js';
import type {
  ClaimRequest, CommitOutcome, CorrelatedEvent, ExecutionCommit, ExecutionSummary, ListQuery, PublishOutcome, StepState, Store, StoreStats,
  StoredExecution, WorkItem, WorkKind, WorkRef,
} from '../../core/store.js';
import { postgresStatsSql, toStoreStats, type StatsRow } from './stats.js';
import { refKey, WORK_KINDS } from '../../core/work-ref.js';

/** Kinds whose due time wakes the engine: 'queued' rows wait for a poll, not for the claimer. */
const DUE_KINDS = WORK_KINDS.filter((kind) => kind !== 'queued');
import { toEvent, toStepState, toStored, toSummary, toWork, type ExecutionRow, type HistoryRow, type StepStateRow, type WorkRow } from '../rows.js';
import { asStorageError, isConnectionError } from '../storage-error.js';
import { applyQueueWrites, hasQueueWrites, lockScopes } from './queue-ops.js';
import { childWritesParams, childWritesSql, hasChildWrites } from './child-sql.js';
import { applyEventWaits, hasEventWaits, lockEventKeys, publishBegin, publishIn, purgeExpired, readEvents } from './event-ops.js';
import { decodeRound, encodeRound, planRounds, type RoundRow } from './commit-batch.js';
import { loadPg, statementName, typeParsers, type PgModule } from './driver.js';
import { migrate } from './migrations.js';
import { buildSql, type Sql } from './sql.js';
import { WorkListener } from './work-listener.js';
import { ReadCoalescer } from './read-coalescer.js';

export interface PostgresStoreOptions {
  /** The schema holding Stepwise's tables; created (and migrated) on open. @default 'stepwise' */
  schema?: string;
  /**
   * Connections for reads and claims. Commits have one more connection of their own, and
   * `onWorkAvailable` one for LISTEN. @default 10
   */
  poolSize?: number;
  /** How long to wait for a pooled connection before failing with STORE_UNAVAILABLE. @default 10000 */
  connectTimeoutMs?: number;
  /**
   * A commit wakes the other processes at once (NOTIFY) only for unleased work due within this
   * many ms of the commit; work due later (a long wait, a retry backoff) is found by their poll
   * loop, which looks at least every `pollIntervalMs` (1000 by default). Keep it at least the
   * engines' `pollIntervalMs`, so every process sees such work before it is due. @default 1000
   */
  notifyWithinMs?: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/**
 * The shared store: PostgreSQL, for several Stepwise processes at once (`exclusive` is false, so
 * leases of a dead process expire rather than being voided at start-up).
 *
 * A batch of commits is one statement, one round trip, whatever its size (see sql.ts
 * `commitRound`): each commit's writes are conditional on its own preconditions, so a refused
 * commit writes nothing while the others land. Only a batch that commits one execution (or one
 * work row) twice needs more than one statement; those run in one transaction.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly exclusive = false;

  private readonly sql: Sql;
  private readonly channel: string;
  private readonly notifyWithinMs: number;
  private readonly listener: WorkListener;
  private readonly claimText = new Map<string, { name: string; text: string }>();
  private readonly reads = new ReadCoalescer<string, StoredExecution>((ids) => this.getExecutions(ids));
  private closed = false;

  /** Connects, creates the schema if needed and brings it up to date (concurrent openers migrate once). */
  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const schema = opts.schema ?? 'stepwise';
    if (!IDENTIFIER.test(schema)) {
      throw new StepwiseError('VALIDATION_FAILED', `schema name ${JSON.stringify(schema)} must be letters, digits and _ (at most 48)`, {
        field: 'schema',
      });
    }
    const pg = await loadPg();
    const newPool = (max: number) => {
      const pool = new pg.Pool({
        connectionString: url, max, connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000, application_name: 'stepwise', types: typeParsers(pg),
      });
      // An idle pooled connection that dies (server restart) emits 'error'; the pool drops it and
      // the next query opens a new one. Without a listener Node would crash the process.
      pool.on('error', () => undefined);
      return pool;
    };
    // Commits get a connection of their own: they are the engine's critical path (one batch at a
    // time), and queued behind reads (waitForEnd, the API, the page) they took twice as long at
    // 32 executions in flight (docs/performance.md).
    const store = new PostgresStore(pg, url, newPool(opts.poolSize ?? 10), newPool(1), schema, opts.notifyWithinMs ?? 1000);
    try {
      const client = await store.pool.connect();
      try {
        await migrate(client, schema, `"${schema}"`);
      } finally {
        client.release();
      }
    } catch (error) {
      await Promise.all([store.pool.end(), store.commits.end()]).catch(() => undefined);
      throw asStorageError(error);
    }
    return store;
  }

  private constructor(
    pg: PgModule,
    url: string,
    private readonly pool: Pg.Pool,
    private readonly commits: Pg.Pool,
    readonly schema: string,
    notifyWithinMs: number,
  ) {
    this.sql = buildSql(`"${schema}"`);
    this.channel = `${schema}_work`;
    this.notifyWithinMs = notifyWithinMs;
    this.listener = new WorkListener(pg, url, this.channel);
  }

  /** The pool for reads and claims, for tests and benchmarks that need raw SQL. */
  get connection(): Pg.Pool {
    return this.pool;
  }

  /** The one connection commits use (a pool of one), for tests that need to act on it. */
  get commitConnection(): Pg.Pool {
    return this.commits;
  }

  // ---------------------------------------------------------------------------------------------
  // commit

  async commit(commits: ExecutionCommit[]): Promise<CommitOutcome[]> {
    if (commits.length === 0) return [];
    const rounds = planRounds(commits).map((indexes) => encodeRound(commits, indexes, this.notifyWithinMs));
    const outcomes = new Array<CommitOutcome>(commits.length);
    const text = this.sql.commitRound;
    const name = statementName(`${this.schema}.commit`);
    const children = commits.some(hasChildWrites);
    const queues = commits.some(hasQueueWrites);
    const waits = commits.some(hasEventWaits);
    if (rounds.length === 1 && !children && !queues && !waits) {
      // One statement is atomic on its own: no BEGIN/COMMIT round trips.
      const { rows } = await this.run(() => this.commits.query<RoundRow>({ name, text, values: [...rounds[0].params, this.channel] }));
      decodeRound(commits, rounds[0], rows, outcomes);
      return outcomes;
    }
    await this.transaction(async (client) => {
      const scopesOf = queues ? await lockScopes(client, `"${this.schema}"`, commits) : undefined;
      if (waits) await lockEventKeys(client, commits);
      for (const round of rounds) {
        const { rows } = await client.query<RoundRow>({ name, text, values: [...round.params, this.channel] });
        decodeRound(commits, round, rows, outcomes);
      }
      if (children) {
        await client.query({ name: statementName(`${this.schema}.children`), text: childWritesSql(`"${this.schema}"`), values: childWritesParams(commits, outcomes, this.channel) });
      }
      if (scopesOf) await applyQueueWrites(client, `"${this.schema}"`, commits, outcomes, scopesOf, this.channel);
      if (waits) await applyEventWaits(client, `"${this.schema}"`, commits, outcomes, this.channel);
    });
    return outcomes;
  }

  // ---------------------------------------------------------------------------------------------
  // reads

  /** Reads asked for in the same turn share one query (read-coalescer.ts). */
  getExecution(id: string): Promise<StoredExecution | undefined> {
    return this.reads.read(id);
  }

  async getExecutions(ids: readonly string[]): Promise<Map<string, StoredExecution>> {
    const found = new Map<string, StoredExecution>();
    if (ids.length === 0) return found;
    const { rows } = await this.query<ExecutionRow>(`${this.schema}.getMany`, this.sql.getExecutions, [[...new Set(ids)]]);
    for (const row of rows) found.set(row.id, toStored(row));
    return found;
  }

  async getStepStates(ids: readonly string[]): Promise<Map<string, StepState>> {
    const found = new Map<string, StepState>();
    if (ids.length === 0) return found;
    const { rows } = await this.query<StepStateRow>(`${this.schema}.stepStates`, this.sql.getStepStates, [[...new Set(ids)]]);
    for (const row of rows) found.set(row.id, toStepState(row));
    return found;
  }

  async listExecutions(query: ListQuery): Promise<{ items: ExecutionSummary[]; nextCursor?: string }> {
    const after = query.cursor === undefined ? undefined : decodeListCursor(query.cursor);
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.workflow !== undefined) where.push(`workflow = $${params.push(query.workflow)}`);
    if (query.status !== undefined) where.push(`status = $${params.push(query.status)}`);
    if (query.parentId !== undefined) where.push(`parent_id = $${params.push(query.parentId)}`);
    if (after) where.push(`(started_at, id) < ($${params.push(after.startedAt)}::bigint, $${params.push(after.id)}::text)`);
    const limit = Math.max(0, Math.floor(query.limit));
    const text = `SELECT id, workflow, version, status, input, output, error, started_at, ended_at, parent_id FROM "${this.schema}".executions
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
    const kinds = kindSet(r.kinds);
    if (r.limit <= 0 || kinds.length === 0) return [];
    const key = kinds.join(',');
    let statement = this.claimText.get(key);
    if (!statement) {
      statement = { name: statementName(`${this.schema}.claim.${key}`), text: this.sql.claim(kinds) };
      this.claimText.set(key, statement);
    }
    const params: unknown[] = [r.owner, r.leaseUntil, r.now, r.limit];
    if (kinds.includes('queued')) params.push(r.queue ?? null);
    const { rows } = await this.query<WorkRow>(statement.name, statement.text, params);
    return rows.map(toWork).sort(byDue);
  }

  async renewLeases(owner: string, refs: WorkRef[], leaseUntil: number): Promise<WorkRef[]> {
    if (refs.length === 0) return [];
    const sorted = [...refs].sort(byRef); // one lock order everywhere
    const { rows } = await this.query<Pick<WorkRow, 'execution_id' | 'kind' | 'key'>>(`${this.schema}.renew`, this.sql.renew, [
      owner,
      leaseUntil,
      sorted.map((r) => r.executionId),
      sorted.map((r) => r.kind),
      sorted.map((r) => r.key),
    ]);
    const held = new Set(rows.map((row) => refKey({ executionId: row.execution_id, kind: row.kind as WorkKind, key: row.key })));
    return refs.filter((r) => !held.has(refKey(r)));
  }

  async releaseLeases(owner: string): Promise<void> {
    await this.query(`${this.schema}.release`, this.sql.release, [owner, this.channel]);
  }

  async releaseAllLeases(): Promise<void> {
    await this.query(`${this.schema}.releaseAll`, this.sql.releaseAll, [this.channel]);
  }

  async nextDueAt(now: number): Promise<number | undefined> {
    const { rows } = await this.query<{ due_at: number | null }>(`${this.schema}.nextDue`, this.sql.nextDue(DUE_KINDS), [now]);
    return rows[0]?.due_at ?? undefined;
  }

  async claimByToken(tokenHash: string, owner: string, now: number, leaseUntil: number): Promise<WorkItem | undefined> {
    const { rows } = await this.query<WorkRow>(`${this.schema}.claimByToken`, this.sql.claimByToken, [tokenHash, owner, now, leaseUntil]);
    return rows[0] ? toWork(rows[0]) : undefined;
  }

  async extendByToken(tokenHash: string, now: number): Promise<boolean> {
    const { rows } = await this.query(`${this.schema}.extendByToken`, this.sql.extendByToken, [tokenHash, now]);
    return rows.length > 0;
  }

  // ---------------------------------------------------------------------------------------------
  // correlated events (event-ops.ts); on the read pool, off the commits' connection

  async publishEvent(event: CorrelatedEvent, now: number): Promise<PublishOutcome> {
    let outcome: PublishOutcome | undefined;
    await this.transaction(async (client) => {
      outcome = await publishIn(client, `"${this.schema}"`, event, now, this.channel);
    }, this.pool, publishBegin(`"${this.schema}"`, event, now));
    return outcome!;
  }

  readCorrelatedEvents(ids: readonly string[]): Promise<Map<string, CorrelatedEvent>> {
    return this.run(() => readEvents(this.pool, `"${this.schema}"`, ids));
  }

  purgeCorrelatedEvents(now: number, limit: number): Promise<number> {
    return this.run(() => purgeExpired(this.pool, `"${this.schema}"`, now, limit));
  }

  async stats(now: number): Promise<StoreStats> {
    const { rows } = await this.query<StatsRow>(`${this.schema}.stats`, postgresStatsSql(`"${this.schema}"`), [now]);
    return toStoreStats(rows);
  }

  async listWork(executionId: string): Promise<WorkItem[]> {
    const { rows } = await this.query<WorkRow>(`${this.schema}.listWork`, this.sql.listWork, [executionId]);
    return rows.map(toWork);
  }

  /**
   * Calls `listener` when any process (this one included) commits unleased work due soon (see
   * `notifyWithinMs`) or hands leases back, and after the listening connection is re-established
   * (notifications may have been missed meanwhile). A call means "claim again now"; it says
   * nothing about how many rows or when they are due. Returns the unsubscribe function.
   */
  onWorkAvailable(listener: () => void): () => void {
    if (this.closed) return () => undefined;
    return this.listener.subscribe(listener);
  }

  /** Resolves once the LISTEN connection is up (tests use it to avoid racing the first NOTIFY). */
  listening(): Promise<void> {
    return this.listener.ready();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.listener.close(), this.pool.end().catch(() => undefined), this.commits.end().catch(() => undefined)]);
  }

  // ---------------------------------------------------------------------------------------------

  private query<R extends Pg.QueryResultRow>(name: string, text: string, values: unknown[]) {
    return this.run(() => this.pool.query<R>({ name: statementName(name), text, values }));
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw asStorageError(error);
    }
  }

  /** Runs `work` in one transaction (on the commit connection unless told); rolls back on any error. */
  private async transaction(work: (client: Pg.PoolClient) => Promise<void>, pool: Pg.Pool = this.commits, begin = 'BEGIN'): Promise<void> {
    const client = await this.run(() => pool.connect());
    // pg-pool listens for errors only on idle clients: a connection that dies while checked out
    // would otherwise emit an unhandled 'error'. The failed query rejects on its own.
    let broken: unknown;
    const onError = (error: Error) => {
      broken ??= error;
    };
    client.on('error', onError);
    try {
      await client.query(begin);
      await work(client);
      await client.query('COMMIT');
    } catch (error) {
      broken = error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw asStorageError(error);
    } finally {
      client.off('error', onError);
      client.release(broken !== undefined && isConnectionError(broken) ? (broken as Error) : undefined);
    }
  }
}

/** The requested kinds, deduplicated and in one order (one prepared claim statement per set). */
function kindSet(kinds: readonly WorkKind[] | undefined): WorkKind[] {
  return [...new Set(kinds ?? WORK_KINDS)].sort();
}

function byRef(a: WorkRef, b: WorkRef): number {
  const x = refKey(a);
  const y = refKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function byDue(a: WorkItem, b: WorkItem): number {
  return a.dueAt - b.dueAt || byRef(a, b);
}
