import { once } from 'node:events';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StepwiseError } from '../../src/core/errors.js';
import type { ExecutionCommit } from '../../src/core/store.js';
import { LATEST_VERSION } from '../../src/persistence/postgres/migrations.js';
import { PostgresStore } from '../../src/persistence/postgres/postgres-store.js';
import { until } from '../helpers/until.js';
import { describeStoreContract, T0 } from './contract.js';
import { dropSchema, PG_URL, pgAvailable, throwawaySchema, truncateSchema, withAdmin } from './pg-helpers.js';

const available = await pgAvailable();
const schema = throwawaySchema();

/** Resolves once the backend `pid` is blocked waiting for a lock (the server says so, not a guess about timing). */
function waitingForLock(admin: pg.Client, pid: number): Promise<void> {
  return until(`backend ${pid} waits for a lock`, async () =>
    (await admin.query<{ w: string | null }>('SELECT wait_event_type AS w FROM pg_stat_activity WHERE pid = $1', [pid])).rows[0]?.w === 'Lock');
}

/**
 * A connection of the test's own that LISTENs on the channel `store` listens on (read from the
 * server; the store must be listening already), to count notifications exactly: `countUpTo()` sends a marker NOTIFY on a channel of its
 * own, waits for it, and returns how many notifications on the store's channel arrived since the
 * last marker. PostgreSQL delivers a session's notifications in commit order, so every one committed
 * before the marker has arrived by then, and no time window decides whether one "did not come".
 */
async function markerListener(store: PostgresStore) {
  await store.listening();
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const [{ query }] = (await admin.query<{ query: string }>(
    `SELECT query FROM pg_stat_activity WHERE application_name = 'stepwise-listen' AND query ILIKE 'LISTEN%${store.schema}%' LIMIT 1`)).rows;
  const channel = /^LISTEN\s+"([^"]+)"/i.exec(query)![1]!;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  const markerChannel = `${channel}_test_marker`;
  let counted = 0;
  let onMarker: ((payload: string) => void) | undefined;
  client.on('notification', (n) => {
    if (n.channel === channel) counted++;
    else if (n.channel === markerChannel) onMarker?.(n.payload ?? '');
  });
  await client.query(`LISTEN "${channel}"`);
  await client.query(`LISTEN "${markerChannel}"`);
  let markers = 0;
  return {
    async countUpTo(): Promise<number> {
      const marker = String(++markers);
      const seen = new Promise<void>((resolve) => {
        onMarker = (payload) => { if (payload === marker) resolve(); };
      });
      await admin.query('SELECT pg_notify($1, $2)', [markerChannel, marker]);
      await seen;
      const n = counted;
      counted = 0;
      return n;
    },
    async close() {
      await client.end();
      await admin.end();
    },
  };
}

describe.skipIf(!available)('PostgresStore', () => {
  afterAll(async () => {
    await dropSchema(schema);
  });

  describeStoreContract(
    'postgres',
    () => PostgresStore.open(PG_URL, { schema, poolSize: 4 }),
    async (store) => {
      await store.close();
      await truncateSchema(schema);
    },
    { openPeer: () => PostgresStore.open(PG_URL, { schema, poolSize: 4 }) },
  );

  describe('postgres specifics', () => {
    let store: PostgresStore;
    const own: string[] = [];
    beforeAll(async () => {
      store = await PostgresStore.open(PG_URL, { schema, poolSize: 4 });
    });
    afterAll(async () => {
      await store?.close();
      for (const s of own) await dropSchema(s);
    });

    const create = (id: string, extra: Partial<ExecutionCommit> = {}): ExecutionCommit => ({
      executionId: id,
      create: { workflow: 'wf', version: 'v1', input: null, startedAt: T0 },
      expectedSeq: 0,
      events: [{ type: 'ExecutionStarted', timestamp: T0 }],
      snapshot: {},
      status: 'RUNNING',
      ...extra,
    });

    it('is a shared store', () => {
      expect(store.kind).toBe('postgres');
      expect(store.exclusive).toBe(false);
    });

    it('migrates a fresh schema once when several processes open it at the same time', async () => {
      const fresh = throwawaySchema('sw_mig');
      own.push(fresh);
      const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open(PG_URL, { schema: fresh, poolSize: 2 })));
      try {
        const rows = await withAdmin(async (c) => (await c.query(`SELECT version FROM "${fresh}".schema_migrations ORDER BY version`)).rows);
        expect(rows.map((r) => r.version)).toEqual(Array.from({ length: LATEST_VERSION }, (_, i) => i + 1));
        const outcomes = await Promise.all(stores.map((s, i) => s.commit([create(`mig-${i}`)])));
        expect(outcomes.flat().every((o) => o.ok)).toBe(true);
        expect((await stores[0].listExecutions({ limit: 10 })).items).toHaveLength(4);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
      // reopening an up-to-date schema changes nothing
      const again = await PostgresStore.open(PG_URL, { schema: fresh });
      await again.close();
    });

    it('refuses a schema newer than it knows', async () => {
      const fresh = throwawaySchema('sw_new');
      own.push(fresh);
      await (await PostgresStore.open(PG_URL, { schema: fresh })).close();
      await withAdmin((c) => c.query(`INSERT INTO "${fresh}".schema_migrations (version, name) VALUES ($1, 'from the future')`, [LATEST_VERSION + 1]));
      await expect(PostgresStore.open(PG_URL, { schema: fresh })).rejects.toThrow(/newer than this Stepwise knows/);
    });

    it('runs as a role without DDL rights once the schema is migrated', async () => {
      const role = `sw_app_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      await withAdmin(async (c) => {
        await c.query(`CREATE ROLE "${role}" LOGIN`);
        await c.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`);
        await c.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${schema}" TO "${role}"`);
      });
      const appUrl = new URL(PG_URL);
      appUrl.username = role;
      try {
        const app = await PostgresStore.open(appUrl.toString(), { schema });
        try {
          expect(await app.commit([create('least-privilege')])).toEqual([{ ok: true, lastSeq: 1 }]);
          expect(await app.getExecution('least-privilege')).toMatchObject({ id: 'least-privilege' });
        } finally {
          await app.close();
        }
        const fresh = throwawaySchema('sw_denied');
        own.push(fresh);
        await expect(PostgresStore.open(appUrl.toString(), { schema: fresh })).rejects.toThrow(/permission denied/);
      } finally {
        await withAdmin(async (c) => {
          await c.query(`DROP OWNED BY "${role}"`);
          await c.query(`DROP ROLE "${role}"`);
        });
      }
    });

    it('refuses a schema name that is not a plain identifier', async () => {
      await expect(PostgresStore.open(PG_URL, { schema: 'x"; DROP TABLE y; --' })).rejects.toBeInstanceOf(StepwiseError);
    });

    it('reports an unreachable server as STORE_UNAVAILABLE', async () => {
      const error = await PostgresStore.open('postgres://postgres@127.0.0.1:1/test', { schema }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StepwiseError);
      expect((error as StepwiseError).code).toBe('STORE_UNAVAILABLE');
    });

    it('replaces a pooled connection the server killed while it was idle', async () => {
      const s = await PostgresStore.open(PG_URL, { schema, poolSize: 1 });
      try {
        await s.commit([create('killed-1')]);
        const pid = (await s.connection.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        // The pool hears of the death (its idle connection errors) and drops the connection.
        const dropped = once(s.connection, 'error');
        await withAdmin((c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
        await dropped;
        expect(await s.getExecution('killed-1')).toMatchObject({ id: 'killed-1' });
      } finally {
        await s.close();
      }
    });

    it('reports a connection killed during a query as STORE_UNAVAILABLE, then recovers', async () => {
      const s = await PostgresStore.open(PG_URL, { schema, poolSize: 1 });
      try {
        await s.commit([create('killed-2')]);
        const pid = (await s.commitConnection.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        const error = await withAdmin(async (admin) => {
          await admin.query('BEGIN');
          await admin.query(`SELECT 1 FROM "${schema}".executions WHERE id = 'killed-2' FOR UPDATE`);
          // The handler is attached at creation: the rejection may land before the awaits below finish.
          const pending = s.commit([{ ...create('killed-2'), create: undefined, expectedSeq: 1 }]).catch((e: unknown) => e);
          await waitingForLock(admin, pid);
          await admin.query('SELECT pg_terminate_backend($1)', [pid]);
          const caught = await pending;
          await admin.query('ROLLBACK');
          return caught;
        });
        expect(error).toBeInstanceOf(StepwiseError);
        expect((error as StepwiseError).code).toBe('STORE_UNAVAILABLE');
        expect(await s.getExecution('killed-2')).toMatchObject({ lastSeq: 1 });
        // the next commit gets a new connection
        expect(await s.commit([{ ...create('killed-2'), create: undefined, expectedSeq: 1 }])).toEqual([{ ok: true, lastSeq: 2 }]);
      } finally {
        await s.close();
      }
    });

    it('rolls back a whole batch when the connection dies inside it', async () => {
      const s = await PostgresStore.open(PG_URL, { schema, poolSize: 1 });
      try {
        const pid = (await s.commitConnection.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        // an admin transaction holds a row lock the batch's second commit waits on; the batch's
        // connection is killed while it waits, after its first commit was applied
        await withAdmin(async (admin) => {
          await admin.query('BEGIN');
          await s.commit([create('batch-lock')]);
          await admin.query(`SELECT 1 FROM "${schema}".executions WHERE id = 'batch-lock' FOR UPDATE`);
          // The handler is attached at creation: the rejection may land before the awaits below finish.
          const pending = s.commit([create('batch-first'), { ...create('batch-lock'), create: undefined, expectedSeq: 1 }]).catch((e: unknown) => e);
          // Waiting on the lock means the batch's first commit has been applied inside its transaction.
          await waitingForLock(admin, pid);
          await admin.query('SELECT pg_terminate_backend($1)', [pid]);
          const error = await pending;
          await admin.query('ROLLBACK');
          expect(error).toBeInstanceOf(StepwiseError);
          expect((error as StepwiseError).code).toBe('STORE_UNAVAILABLE');
        });
        expect(await s.getExecution('batch-first')).toBeUndefined();
        expect(await s.getExecution('batch-lock')).toMatchObject({ lastSeq: 1 });
      } finally {
        await s.close();
      }
    });

    it('lets exactly one of many concurrent commits from several processes land per version', async () => {
      const peers = await Promise.all([1, 2, 3].map(() => PostgresStore.open(PG_URL, { schema, poolSize: 4 })));
      try {
        const id = 'race-1';
        await store.commit([create(id)]);
        let seq = 1;
        for (let round = 0; round < 10; round++) {
          const attempts = [store, ...peers].flatMap((s, i) =>
            [0, 1].map((j) =>
              s.commit([{ executionId: id, expectedSeq: seq, events: [{ type: 'StateEntered', timestamp: T0, step: `r${round}-${i}-${j}` }], snapshot: { round, i, j }, status: 'RUNNING' }]),
            ),
          );
          const outcomes = (await Promise.all(attempts)).flat();
          expect(outcomes.filter((o) => o.ok)).toEqual([{ ok: true, lastSeq: seq + 1 }]);
          expect(outcomes.filter((o) => !o.ok).every((o) => !o.ok && o.reason === 'conflict')).toBe(true);
          seq++;
        }
        const history = await store.readHistory(id, 0, 100);
        expect(history.map((e) => e.seq)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
      } finally {
        await Promise.all(peers.map((p) => p.close()));
      }
    });

    it('never applies a result whose lease another process took over', async () => {
      const peer = await PostgresStore.open(PG_URL, { schema, poolSize: 4 });
      try {
        for (let i = 0; i < 20; i++) {
          const id = `takeover-${i}`;
          await store.commit([create(id, { schedule: [{ executionId: id, kind: 'task', key: 'A', attempt: 1, dueAt: T0, leaseOwner: 'old', leaseUntil: T0 + 10 }] })]);
          // the old owner's lease expired: it commits its result while the peer claims the row
          const [outcome, claimed] = await Promise.all([
            store.commit([{ executionId: id, expectedSeq: 1, events: [{ type: 'StepSucceeded', timestamp: T0 + 20, step: 'A' }], snapshot: {}, status: 'RUNNING', consume: [{ executionId: id, kind: 'task', key: 'A', owner: 'old' }] }]),
            peer.claimWork({ owner: 'new', now: T0 + 20, leaseUntil: T0 + 100, limit: 1000 }),
          ]);
          const mine = claimed.filter((w) => w.executionId === id);
          if (outcome[0].ok) {
            expect(mine).toEqual([]);
            expect(await store.listWork(id)).toEqual([]);
          } else {
            expect(outcome[0]).toEqual({ ok: false, reason: 'lease-lost', work: { executionId: id, kind: 'task', key: 'A' } });
            expect(mine).toHaveLength(1);
            expect(await store.readHistory(id, 0, 10)).toHaveLength(1);
          }
        }
      } finally {
        await peer.close();
      }
    });

    it('notifies listeners in other processes when unleased work is committed', async () => {
      const listenerStore = await PostgresStore.open(PG_URL, { schema, poolSize: 2 });
      let marks: Awaited<ReturnType<typeof markerListener>> | undefined;
      try {
        let calls = 0;
        const off = listenerStore.onWorkAvailable(() => calls++);
        await listenerStore.listening();
        marks = await markerListener(listenerStore);
        // work the committer leases for itself wakes no one
        await store.commit([create('notify-1', { schedule: [{ executionId: 'notify-1', kind: 'task', key: 'A', attempt: 1, dueAt: T0, leaseOwner: 'me', leaseUntil: T0 + 10 }] })]);
        // a refused commit notifies no one either
        await store.commit([create('notify-1', { schedule: [{ executionId: 'notify-1', kind: 'task', key: 'B', attempt: 1, dueAt: T0 }] })]);
        expect(await marks.countUpTo()).toBe(0);
        expect(calls).toBe(0);
        // unleased work does (once per transaction, however many commits the batch has)
        await store.commit([
          create('notify-2', { schedule: [{ executionId: 'notify-2', kind: 'task', key: 'A', attempt: 1, dueAt: T0 }] }),
          create('notify-3', { schedule: [{ executionId: 'notify-3', kind: 'timer', key: 'W', attempt: 1, dueAt: T0 + 5 }] }),
        ]);
        expect(await marks.countUpTo()).toBe(1);
        await until('the listener is called', () => calls >= 1);
        expect(calls).toBe(1);
        // handing leases back makes work available too
        await store.releaseLeases('me');
        expect(await marks.countUpTo()).toBe(1);
        await until('the listener is called again', () => calls >= 2);
        expect(calls).toBe(2);
        // an unsubscribed listener hears nothing more (the notification was sent, and another listener got it)
        off();
        let other = 0;
        listenerStore.onWorkAvailable(() => other++);
        await store.commit([create('notify-4', { schedule: [{ executionId: 'notify-4', kind: 'task', key: 'A', attempt: 1, dueAt: T0 }] })]);
        expect(await marks.countUpTo()).toBe(1);
        await until('the other listener is called', () => other >= 1);
        expect(calls).toBe(2);
      } finally {
        await marks?.close();
        await listenerStore.close();
        await truncateSchema(schema);
      }
    });

    it('re-listens after its LISTEN connection is killed, and calls listeners on reconnect', async () => {
      const listenerStore = await PostgresStore.open(PG_URL, { schema, poolSize: 2 });
      try {
        let calls = 0;
        listenerStore.onWorkAvailable(() => calls++);
        await listenerStore.listening();
        await withAdmin((c) => c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'stepwise-listen' AND query ILIKE 'LISTEN%${schema}%'`));
        await until('the listener reconnects', () => calls >= 1);
        expect(calls).toBe(1); // the reconnect itself
        await listenerStore.listening();
        await store.commit([create('relisten', { schedule: [{ executionId: 'relisten', kind: 'task', key: 'A', attempt: 1, dueAt: T0 }] })]);
        await until('the notification after the reconnect', () => calls >= 2);
        expect(calls).toBe(2);
      } finally {
        await listenerStore.close();
        await truncateSchema(schema);
      }
    });

    /** Counts what reaches the server from every pg client in this process while `fn` runs. */
    async function sentWhile<T>(fn: () => Promise<T>): Promise<{ result: T; sent: string[] }> {
      const spy = vi.spyOn(pg.Client.prototype, 'query');
      try {
        const result = await fn();
        const sent = spy.mock.calls.map(([q]) => (typeof q === 'string' ? q : (q as { text: string }).text).trim().split(/\s+/)[0]);
        return { result, sent };
      } finally {
        spy.mockRestore();
      }
    }

    it('commits a batch of many executions in one statement: one round trip, no BEGIN/COMMIT', async () => {
      const ids = Array.from({ length: 120 }, (_, i) => `one-trip-${i}`);
      const leased = (id: string, key: string) => ({ executionId: id, kind: 'task' as const, key, attempt: 1, dueAt: T0, leaseOwner: 'me', leaseUntil: T0 + 100 });
      const created = await sentWhile(() => store.commit(ids.map((id) => create(id, { schedule: [leased(id, 'A')] }))));
      expect(created.result.every((o) => o.ok)).toBe(true);
      expect(created.sent).toEqual(['WITH']);
      const steps = await sentWhile(() =>
        store.commit(ids.map((id, i) => ({
          executionId: id, expectedSeq: i === 7 ? 0 : 1, events: [{ type: 'StepSucceeded', timestamp: T0 + 1, step: 'A' }, { type: 'StepStarted', timestamp: T0 + 1, step: 'B' }],
          snapshot: { i }, status: 'RUNNING', consume: [{ executionId: id, kind: 'task', key: 'A', owner: 'me' }], schedule: [leased(id, 'B')],
        }))),
      );
      expect(steps.sent).toEqual(['WITH']);
      expect(steps.result.filter((o) => !o.ok)).toEqual([{ ok: false, reason: 'conflict' }]);
      expect(steps.result[7]).toEqual({ ok: false, reason: 'conflict' });
      expect((await store.listWork('one-trip-3')).map((w) => w.key)).toEqual(['B']);
      expect((await store.listWork('one-trip-7')).map((w) => w.key)).toEqual(['A']);
      // Two commits of one execution in a batch: one statement per round, in one transaction.
      const twice = await sentWhile(() => store.commit([
        { executionId: 'one-trip-0', expectedSeq: 3, events: [{ type: 'StateEntered', timestamp: T0 + 2 }], snapshot: 1, status: 'RUNNING' },
        { executionId: 'one-trip-1', expectedSeq: 3, events: [{ type: 'StateEntered', timestamp: T0 + 2 }], snapshot: 1, status: 'RUNNING' },
        { executionId: 'one-trip-0', expectedSeq: 4, events: [{ type: 'StateEntered', timestamp: T0 + 3 }], snapshot: 2, status: 'RUNNING' },
      ]));
      expect(twice.result).toEqual([{ ok: true, lastSeq: 4 }, { ok: true, lastSeq: 4 }, { ok: true, lastSeq: 5 }]);
      expect(twice.sent).toEqual(['BEGIN', 'WITH', 'WITH', 'COMMIT']);
    });

    it('reads many executions in one query', async () => {
      const ids = Array.from({ length: 50 }, (_, i) => `many-${i}`);
      await store.commit(ids.map((id) => create(id)));
      const { result, sent } = await sentWhile(() => store.getExecutions([...ids, 'missing']));
      expect(result.size).toBe(50);
      expect(sent).toEqual(['SELECT']);
    });

    it('claims from a (kind, due_at) index', async () => {
      const indexes = await withAdmin(async (c) =>
        (await c.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'work' ORDER BY indexname`, [schema])).rows);
      expect(indexes.map((r) => r.indexname)).toEqual(['work_claim_idx', 'work_lease_owner_idx', 'work_pkey', 'work_queued_idx', 'work_token_idx']);
      expect(indexes[0].indexdef).toMatch(/\(kind, due_at\)$/);
    });

    it('wakes other processes for work due soon, and not for work due later than notifyWithinMs', async () => {
      // A raw listener on the store's channel sees each NOTIFY in commit order; the test sends its
      // own marker after the commits that must not notify, so "nothing came before the marker" is exact.
      const channel = `${schema}_work`;
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      const heard: string[] = [];
      let onHeard = () => undefined as void;
      client.on('notification', (m) => {
        heard.push(m.payload || 'commit');
        onHeard();
      });
      const until = (n: number) => new Promise<void>((resolve) => {
        onHeard = () => heard.length >= n && resolve();
        onHeard();
      });
      try {
        await client.query(`LISTEN "${channel}"`);
        const timer = (id: string, dueAt: number, extra = {}) => ({ executionId: id, kind: 'timer' as const, key: 'W', attempt: 1, dueAt, ...extra });
        const at = (ts: number) => [{ type: 'ExecutionStarted' as const, timestamp: ts }];
        // Due an hour after the commit, or 1001 ms after: found by polling, no NOTIFY.
        await store.commit([create('wake-far', { events: at(T0), schedule: [timer('wake-far', T0 + 3_600_000)] })]);
        await store.commit([create('wake-edge', { events: at(T0), schedule: [timer('wake-edge', T0 + 1001)] })]);
        await client.query(`SELECT pg_notify($1, 'marker')`, [channel]);
        await until(1);
        expect(heard).toEqual(['marker']);
        // Due within 1000 ms of the commit's own time (its last event), or already due: NOTIFY.
        await store.commit([create('wake-near', { events: at(T0), schedule: [timer('wake-near', T0 + 1000)] })]);
        await until(2);
        await store.commit([create('wake-now', { events: at(T0 + 50_000), schedule: [timer('wake-now', T0)] })]);
        await until(3);
        // A wider window, per store.
        const patient = await PostgresStore.open(PG_URL, { schema, poolSize: 1, notifyWithinMs: 3_600_000 });
        try {
          await patient.commit([create('wake-hour', { events: at(T0), schedule: [timer('wake-hour', T0 + 3_600_000)] })]);
        } finally {
          await patient.close();
        }
        await until(4);
        expect(heard).toEqual(['marker', 'commit', 'commit', 'commit']);
      } finally {
        await client.end();
      }
    });

    it('stores JSON as text, keeping it byte-for-byte', async () => {
      const raw = '{"b":1,"a":[1.5,"\\u0000"],"aa":{}}';
      await store.commit([create('as-text', { create: { workflow: 'wf', version: 'v1', input: JSON.parse(raw), startedAt: T0 } })]);
      const row = await withAdmin(async (c) => (await c.query(`SELECT input, pg_typeof(input)::text AS t FROM "${schema}".executions WHERE id = 'as-text'`)).rows[0]);
      expect(row).toEqual({ input: raw, t: 'text' });
    });
  });
});
