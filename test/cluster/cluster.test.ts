import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/index.js';
import type { PostgresStore } from '../../src/persistence/postgres/postgres-store.js';
import { ClusterWorker, checkoutInput, loadCompiled, sleep, type Simulate } from '../fixtures/cluster-harness.js';
import { PgProxy, setupNetns, type Netns } from '../fixtures/cluster-net.js';
import { until as waitFor } from '../helpers/until.js';
import { dropSchema, PG_URL, pgAvailable, throwawaySchema } from '../store/pg-helpers.js';

/**
 * Scaling out: three engine processes ("hosts", each in its own network namespace when the test
 * runs as root) share one PostgreSQL schema. 500 checkouts of every flavour are started from a
 * fourth engine that runs no work; one worker is SIGKILLed when ~30% have ended. From the
 * database alone the test shows that every execution ended as its input says it must, each
 * completed step has exactly one StepSucceeded, all three processes did work, and every row the
 * killed process held was taken over by the others, each only after its lease had expired. Before
 * that, a worker whose poll interval is an hour picks up executions started elsewhere (so only
 * LISTEN/NOTIFY can have woken it); after it, a worker holding hour-long leases is SIGTERMed
 * mid-run and its work goes on at the others before any of those leases could expire. Every
 * outcome is decided by what the database records, not by how fast a loaded machine is; the
 * timings are printed (docs/scaling.md quotes them).
 *
 * Set STEPWISE_CLUSTER_NETNS=0 to run the workers as plain processes.
 * Workers are compiled JS (dist/test/fixtures/cluster-worker.js): `npm run build` first.
 */

const available = await pgAvailable();

const WORKERS = 3;
const EXECUTIONS = 500;
const LEASE_MS = 3000;
const POLL_MS = 500;
/** The pickup worker's poll interval and the SIGTERMed worker's lease: longer than the whole test. */
const HOUR_MS = 3_600_000;
/** Per worker: enough that nothing waits for capacity, so takeover time measures the lease alone. */
const CONCURRENCY = 400;
const KILL_AT_FRACTION = 0.3;

type Kind = 'valid' | 'transient' | 'outOfStock' | 'declined' | 'shipping' | 'invalidCart';
interface Planned { id: string; kind: Kind; simulate: Simulate; emptyCart: boolean }

/** A deterministic mix: 50% plain, 10% transient payment failures, 10% out of stock, 5% declined, 20% with a shipping wait, 5% empty carts; handlers take 20-50 ms. */
function plan(n: number): Planned[] {
  const kinds: Kind[] = [
    'valid', 'valid', 'valid', 'valid', 'valid', 'valid', 'valid', 'valid', 'valid',
    'transient', 'transient', 'outOfStock', 'outOfStock', 'declined',
    'shipping', 'shipping', 'shipping', 'shipping', 'invalidCart', 'valid',
  ];
  return Array.from({ length: n }, (_, i) => {
    const kind = kinds[i % kinds.length];
    const simulate: Simulate = { stepDelayMs: 20 + ((i * 7) % 31) };
    if (kind === 'transient') simulate.paymentTransientFailures = 1 + (i % 2);
    if (kind === 'outOfStock') simulate.outOfStock = true;
    if (kind === 'declined') simulate.paymentDeclined = true;
    if (kind === 'shipping') simulate.shippingDelayMs = 300 + ((i * 97) % 1200);
    return { id: `c-${String(i).padStart(3, '0')}`, kind, simulate, emptyCart: kind === 'invalidCart' };
  });
}

const ALL_STEPS = ['validateCart', 'processPayment', 'createOrder', 'sendReceipt', 'reserveInventory', 'scheduleShipping', 'sendConfirmation'];

interface Ev { execution_id: string; seq: number; type: string; ts: number; step: string | null; attempt: number | null; data: Record<string, any> | null }

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { n: s.length, min: s[0], p50: at(0.5), p90: at(0.9), max: s[s.length - 1] };
};

interface ExecRow { id: string; status: string; error: string | null; output: string | null; started_at: number; ended_at: number }

/**
 * Checks every execution against its plan, from its row and history alone; returns the problems
 * found (at most 50). Exactly-once: at most one StepSucceeded per step key, and each after a
 * StepStarted of its attempt; seq 1..n without gaps; one terminal event; the status, error and
 * compensations its input calls for.
 */
function verify(executions: ExecRow[], eventsOf: Map<string, Ev[]>, byId: Map<string, Planned>): string[] {
  const problems: string[] = [];
  const bad = (id: string, what: string) => problems.length < 50 && problems.push(`${id}: ${what}`);
  for (const x of executions) {
    const p = byId.get(x.id)!;
    const evs = eventsOf.get(x.id) ?? [];
    const error = x.error ? (JSON.parse(x.error) as { code: string }) : undefined;
    const of = (type: string, key?: string) => evs.filter((e) => e.type === type && (key === undefined || e.data?.key === key));

    // history: seq 1..n with no gap, one terminal event, last
    if (!evs.every((e, i) => e.seq === i + 1)) bad(x.id, 'history has a gap');
    const terminal = evs.filter((e) => ['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionCancelled'].includes(e.type));
    if (terminal.length !== 1 || evs[evs.length - 1] !== terminal[0]) bad(x.id, `terminal events: ${terminal.map((e) => e.type)}`);

    // exactly-once results: at most one StepSucceeded per step key, each after a StepStarted of its attempt
    const succeeded = of('StepSucceeded');
    const keys = succeeded.map((e) => e.data!.key as string);
    if (new Set(keys).size !== keys.length) bad(x.id, `duplicate StepSucceeded: ${keys}`);
    for (const s of succeeded) {
      if (!evs.some((e) => e.type === 'StepStarted' && e.data?.key === s.data!.key && e.attempt === s.attempt && e.seq < s.seq)) bad(x.id, `StepSucceeded ${s.data!.key} without its StepStarted`);
      // a completed step never runs again (checkout has no loops, so a key is never re-entered)
      const again = evs.filter((e) => e.type === 'StepStarted' && e.data?.key === s.data!.key && e.seq > s.seq);
      if (again.length > 0) bad(x.id, `${s.data!.key} started again after it succeeded (by ${again.map((e) => e.data?.worker)})`);
    }
    const compStarted = of('CompensationStarted');
    const compDone = of('CompensationSucceeded');
    const compKeys = compDone.map((e) => e.data!.key as string);
    if (new Set(compKeys).size !== compKeys.length) bad(x.id, `duplicate CompensationSucceeded: ${compKeys}`);
    for (const c of compDone) {
      if (compStarted.some((e) => e.data?.key === c.data!.key && e.seq > c.seq)) bad(x.id, `compensation ${c.step} started again after it succeeded`);
    }
    if (of('CompensationFailed').length > 0) bad(x.id, 'a compensation failed');

    // the outcome its input calls for
    const expectStatus = (status: string, code?: string) => {
      if (x.status !== status) bad(x.id, `${p.kind}: status ${x.status}, expected ${status} (${x.error ?? ''})`);
      if (code !== undefined && error?.code !== code) bad(x.id, `${p.kind}: error ${error?.code}, expected ${code}`);
    };
    switch (p.kind) {
      case 'valid':
      case 'transient':
      case 'shipping': {
        expectStatus('SUCCEEDED');
        if ([...keys].sort().join() !== [...ALL_STEPS].sort().join()) bad(x.id, `succeeded steps ${keys}`);
        if (compStarted.length + compDone.length > 0) bad(x.id, 'compensated a successful checkout');
        const out = JSON.parse(x.output ?? 'null') as { amount?: number } | null;
        if (out?.amount !== 24) bad(x.id, `output ${x.output}`);
        if (p.kind === 'transient') {
          const n = p.simulate.paymentTransientFailures!;
          const pay = succeeded.find((e) => e.data!.key === 'processPayment');
          if (pay?.attempt !== n + 1) bad(x.id, `processPayment succeeded on attempt ${pay?.attempt}, expected ${n + 1}`);
          const failedAttempts = new Set(of('StepFailed', 'processPayment').map((e) => e.attempt));
          if (failedAttempts.size !== n) bad(x.id, `processPayment failed on attempts ${[...failedAttempts]}, expected ${n}`);
        }
        if (p.kind === 'shipping') {
          const started = of('TimerStarted')[0];
          const fired = of('TimerFired')[0];
          if (!started || !fired || fired.ts < (started.data!.dueAt as number)) bad(x.id, 'timer fired early or never');
        }
        break;
      }
      case 'outOfStock': {
        expectStatus('FAILED', 'OutOfStock');
        if (!keys.includes('processPayment') || keys.includes('reserveInventory')) bad(x.id, `succeeded steps ${keys}`);
        // the payment is refunded exactly once
        const refunds = compDone.filter((e) => e.step === 'refundPayment');
        if (refunds.length !== 1 || compDone.length !== 1) bad(x.id, `compensations succeeded: ${compDone.map((e) => e.step)}`);
        break;
      }
      case 'declined':
        expectStatus('FAILED', 'PaymentDeclined');
        if (compStarted.length + compDone.length > 0) bad(x.id, 'compensated although nothing was charged');
        if (keys.join() !== 'validateCart') bad(x.id, `succeeded steps ${keys}`);
        break;
      case 'invalidCart':
        expectStatus('FAILED', 'InvalidCart');
        if (keys.join() !== 'validateCart') bad(x.id, `succeeded steps ${keys}`);
        break;
    }
  }
  return problems;
}

describe.skipIf(!available)('cluster: three engine processes on one PostgreSQL', () => {
  const schema = throwawaySchema('sw_cluster');
  const pickupSchema = throwawaySchema('sw_pickup');
  const workers: ClusterWorker[] = [];
  /** Workers of one test each (the pickup worker, the SIGTERMed one), not among the three. */
  const extra: ClusterWorker[] = [];
  let store: PostgresStore;
  let starter: Engine;
  let workerUrl: (workerId: string) => string;
  let netnsOf: (i: number) => string | undefined;
  let net: Netns | undefined;
  let proxy: PgProxy | undefined;
  let mode = 'plain processes';

  beforeAll(async () => {
    // The test process's own store creates and migrates the fresh schema; its engine is never
    // started and has concurrency 0, so startExecution commits each execution's first step
    // unleased (and NOTIFYs) for the workers to claim: it runs no work itself.
    // (The compiled build, as the workers run it: see loadCompiled.)
    const { Engine, PostgresStore, checkout, shipping } = await loadCompiled();
    store = await PostgresStore.open(PG_URL, { schema, poolSize: 6 });
    starter = new Engine({ store, concurrency: 0, workerId: 'starter' }).register(checkout, shipping);

    let url = PG_URL;
    if (process.env.STEPWISE_CLUSTER_NETNS !== '0') {
      const setup = setupNetns(WORKERS);
      if (typeof setup === 'string') {
        mode = `plain processes (no network namespaces: ${setup})`;
      } else {
        net = setup;
        const target = new URL(PG_URL);
        proxy = await PgProxy.start(net.gateway, { host: target.hostname || '127.0.0.1', port: Number(target.port || 5432) });
        url = proxy.rewrite(PG_URL);
        mode = `network namespaces ${net.namespaces.join(', ')} (${net.addresses.join(', ')}) via a veth bridge to ${proxy.host}:${proxy.port} → PostgreSQL`;
      }
    } else {
      mode = 'plain processes (STEPWISE_CLUSTER_NETNS=0)';
    }
    console.log(`cluster: ${WORKERS} workers as ${mode}`);
    // Each worker's connections carry its id as application_name, so the test can see them in pg_stat_activity.
    workerUrl = (workerId) => {
      const u = new URL(url);
      u.searchParams.set('application_name', `stepwise-${workerId}`);
      return u.toString();
    };
    netnsOf = (i) => net?.namespaces[i % WORKERS];
    for (let i = 0; i < WORKERS; i++) {
      workers.push(new ClusterWorker({
        workerId: `w${i}`, db: workerUrl(`w${i}`), schema, leaseMs: LEASE_MS, pollIntervalMs: POLL_MS, concurrency: CONCURRENCY, poolSize: 8,
        netns: netnsOf(i),
      }));
    }
    await Promise.all(workers.map((w) => w.ready(20_000)));
  }, 40_000);

  afterAll(async () => {
    for (const w of workers) w.resume(); // a paused worker would not hear its SIGTERM
    await Promise.all([...workers, ...extra].map((w) => w.stop(3000).catch(() => undefined)));
    await store?.close().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
    net?.cleanup();
    for (const sc of [schema, pickupSchema]) await dropSchema(sc).catch((e) => console.warn(`could not drop schema ${sc}: ${(e as Error).message}`));
  }, 30_000);

  const q = async <R extends Record<string, any>>(text: string, values: unknown[] = []) => (await store.connection.query<R>(text, values)).rows;
  const S = `"${schema}"`;

  /** The executions whose id starts with `prefix`, their histories, and every work row left. */
  const load = async (prefix: string) => {
    const executions = await q<ExecRow>(`SELECT id, status, error, output, started_at, ended_at FROM ${S}.executions WHERE starts_with(id, $1) AND workflow = 'checkout'`, [prefix]); // their shipping children apart
    const history = (await q<Omit<Ev, 'data'> & { data: string | null }>(
      `SELECT execution_id, seq, type, ts, step, attempt, data FROM ${S}.history WHERE starts_with(execution_id, $1) ORDER BY execution_id, seq`, [prefix]))
      .map((r) => ({ ...r, data: r.data === null ? null : JSON.parse(r.data) }) as Ev);
    const eventsOf = new Map<string, Ev[]>();
    for (const e of history) {
      const list = eventsOf.get(e.execution_id) ?? [];
      list.push(e);
      eventsOf.set(e.execution_id, list);
    }
    const leftover = await q(`SELECT * FROM ${S}.work`);
    // Every execution's status, the shipping children's too (a killed process may have held a child's work).
    const statusOf = new Map((await q<{ id: string; status: string }>(`SELECT id, status FROM ${S}.executions WHERE starts_with(id, $1)`, [prefix])).map((r) => [r.id, r.status]));
    return { executions, history, eventsOf, leftover, statusOf };
  };

  /** Waits until no execution is RUNNING. */
  const waitAllEnded = async (t0: number, limitMs: number) => {
    for (;;) {
      const [{ running }] = await q<{ running: number }>(`SELECT count(*)::int AS running FROM ${S}.executions WHERE status IN ('RUNNING', 'QUEUED')`);
      if (running === 0) return;
      if (Date.now() - t0 > limitMs) throw new Error(`${running} executions still RUNNING after ${limitMs} ms: ${await diagnose()}`);
      await sleep(50);
    }
  };

  /** `waitFor` from the helpers, with what the database says in its failure message. */
  const until = (what: string, check: () => Promise<boolean>, limitMs = 20_000) =>
    waitFor(what, check, limitMs).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${await diagnose()}`);
    });

  /** What the database and the workers say, for a failure message. */
  const diagnose = async () => JSON.stringify({
    statuses: await q(`SELECT status, count(*)::int AS n FROM ${S}.executions GROUP BY 1`),
    work: await q(`SELECT kind, lease_owner, count(*)::int AS n, min(due_at) - (extract(epoch from now()) * 1000)::bigint AS oldest_due_ms FROM ${S}.work GROUP BY 1, 2`),
    workers: [...workers, ...extra].map((w) => ({ id: w.workerId, alive: w.alive, exit: w.exitInfo, stderr: w.stderr.slice(-1500) })),
  }, null, 1);

  it('a new execution started elsewhere is picked up by a notification, not by a poll', async () => {
    // A worker of its own, on a schema of its own, that polls once an hour: whatever it picks up
    // within the test, a notification woke it for.
    const { Engine, PostgresStore, checkout, shipping } = await loadCompiled();
    const pickupStore = await PostgresStore.open(PG_URL, { schema: pickupSchema, poolSize: 2 });
    const pickupStarter = new Engine({ store: pickupStore, concurrency: 0, workerId: 'pickup-starter' }).register(checkout, shipping);
    const listener = new ClusterWorker({
      workerId: 'p0', db: workerUrl('p0'), schema: pickupSchema, leaseMs: LEASE_MS, pollIntervalMs: HOUR_MS, concurrency: 8, poolSize: 4,
      netns: netnsOf(0),
    });
    extra.push(listener);
    try {
      await listener.ready(20_000);
      const pickups: number[] = [];
      const pq = async <R extends Record<string, any>>(text: string, values: unknown[]) => (await pickupStore.connection.query<R>(text, values)).rows;
      for (let i = 0; i < 8; i++) {
        const id = `pickup-${i}`;
        await pickupStarter.startExecution('checkout', checkoutInput(id), { id });
        // One at a time, each to its end: the worker then has no due work of its own to wake it.
        let rows: Array<{ type: string; ts: number; worker: string | null }> = [];
        await until(`${id} picked up and ended`, async () => {
          rows = await pq(`SELECT type, ts, data::json->>'worker' AS worker FROM "${pickupSchema}".history WHERE execution_id = $1 AND type IN ('ExecutionStarted', 'StepStarted', 'ExecutionSucceeded') ORDER BY seq`, [id]);
          return rows.some((r) => r.type === 'ExecutionSucceeded');
        });
        const first = rows.find((r) => r.type === 'StepStarted')!;
        expect(first.worker).toBe('p0');
        pickups.push(first.ts - rows[0]!.ts);
      }
      const s = stats(pickups);
      console.log(`cluster: pickup latency of a new execution (ExecutionStarted → first StepStarted on a worker polling hourly), ms: ${JSON.stringify(s)}`);
      expect(pickups).toHaveLength(8);
    } finally {
      await listener.stop(3000).catch(() => undefined);
      await pickupStore.close();
    }
  }, 60_000);

  it('runs 500 checkouts on three processes, survives a SIGKILL of one, and applies every result exactly once', async () => {
    const planned = plan(EXECUTIONS);
    const byId = new Map(planned.map((p) => [p.id, p]));
    const t0 = Date.now();

    // Start in paced chunks (as clients would), so every worker gets to claim some.
    const starting = (async () => {
      for (let i = 0; i < planned.length; i += 20) {
        await Promise.all(planned.slice(i, i + 20).map((p) => starter.startExecution('checkout', checkoutInput(p.id, p.simulate, { emptyCart: p.emptyCart }), { id: p.id })));
        await sleep(30);
      }
    })();

    // Kill the worker holding the most leases once ~30% of the executions have ended.
    let ended = 0;
    for (;;) {
      [{ ended }] = await q<{ ended: number }>(`SELECT count(*)::int AS ended FROM ${S}.executions WHERE id LIKE 'c-%' AND workflow = 'checkout' AND status NOT IN ('RUNNING', 'QUEUED')`);
      if (ended >= EXECUTIONS * KILL_AT_FRACTION) break;
      if (Date.now() - t0 > 40_000) throw new Error(`only ${ended} executions ended in 40 s: ${await diagnose()}`);
      await sleep(10);
    }
    const holders = await q<{ owner: string; n: number }>(`SELECT lease_owner AS owner, count(*)::int AS n FROM ${S}.work WHERE lease_owner IS NOT NULL GROUP BY 1 ORDER BY 2 DESC`);
    const victim = workers.find((w) => w.workerId === holders[0]?.owner) ?? workers[1];
    const killAt = Date.now();
    await victim.kill();
    const heldQuery = `SELECT execution_id, kind, key, attempt, lease_until FROM ${S}.work WHERE lease_owner = $1`;
    const held = new Map<string, { execution_id: string; kind: string; key: string; attempt: number; lease_until: number }>();
    for (const r of await q<any>(heldQuery, [victim.workerId])) held.set(`${r.execution_id}|${r.kind}|${r.key}`, r);
    // A statement the victim sent just before it died may still commit (PostgreSQL finishes it,
    // then notices the client is gone): look again once the server has closed every one of the
    // victim's sessions, and take what it says then (a claim, or a renewal) as what the victim held.
    await until(`PostgreSQL closes ${victim.workerId}'s sessions`, async () =>
      (await q<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [`stepwise-${victim.workerId}`]))[0]!.n === 0);
    for (const r of await q<any>(heldQuery, [victim.workerId])) held.set(`${r.execution_id}|${r.kind}|${r.key}`, r);
    console.log(`cluster: killed ${victim.workerId} (SIGKILL) at +${killAt - t0} ms with ${ended}/${EXECUTIONS} ended; it held ${held.size} work rows; leases at that moment: ${JSON.stringify(holders)}`);

    await starting;
    await waitAllEnded(t0, 60_000);
    const allDoneAt = Date.now();
    expect(workers.filter((w) => w !== victim).every((w) => w.alive)).toBe(true);

    // ---- everything below comes from the database ----------------------------------------
    const { executions, history, eventsOf, leftover, statusOf } = await load('c-');
    expect(executions).toHaveLength(EXECUTIONS);
    expect(leftover).toEqual([]);

    expect(verify(executions, eventsOf, byId)).toEqual([]);

    // ---- the work was shared ----------------------------------------------------------------
    const starts = history.filter((e) => e.type === 'StepStarted' || e.type === 'CompensationStarted');
    const split: Record<string, number> = {};
    for (const e of starts) split[e.data!.worker] = (split[e.data!.worker] ?? 0) + 1;
    const execsPerWorker: Record<string, number> = {};
    let multiWorker = 0;
    for (const [, evs] of eventsOf) {
      const ws = new Set(evs.filter((e) => e.type === 'StepStarted' || e.type === 'CompensationStarted').map((e) => e.data!.worker as string));
      if (ws.size > 1) multiWorker++;
      for (const w of ws) execsPerWorker[w] = (execsPerWorker[w] ?? 0) + 1;
    }
    expect(Object.keys(split).sort()).toEqual(workers.map((w) => w.workerId).sort());
    for (const w of workers) expect(split[w.workerId]).toBeGreaterThan(0);
    // nothing is recorded by the dead process after it died
    expect(starts.filter((e) => e.data!.worker === victim.workerId && e.ts > killAt)).toEqual([]);

    // ---- the killed process's work was taken over within the lease --------------------------
    expect(held.size).toBeGreaterThan(0);
    const takeovers: number[] = [];
    const afterExpiry: number[] = [];
    let finishedByVictim = 0;
    let dropped = 0;
    const untaken: string[] = [];
    for (const h of held.values()) {
      const evs = eventsOf.get(h.execution_id) ?? [];
      const retaken = evs.find((e) => e.ts >= killAt && e.data?.key === h.key && (
        (h.kind === 'task' && e.type === 'StepStarted' && e.data?.worker !== victim.workerId)
        || (h.kind === 'compensation' && e.type === 'CompensationStarted' && e.data?.worker !== victim.workerId)
        || (h.kind === 'timer' && e.type === 'TimerFired')
        // A parent's wait for its shipping child: applied (by any process) when the child ends.
        || (h.kind === 'child' && (e.type === 'StepSucceeded' || e.type === 'StepFailed'))));
      if (retaken) {
        takeovers.push(retaken.ts - killAt);
        afterExpiry.push(retaken.ts - h.lease_until);
        continue;
      }
      // Not re-claimed: either the victim's last commit (in flight when it died) consumed it, or
      // the execution left that step (a parallel branch failed) and the row was dropped.
      const resolvedByVictim = evs.some((e) => e.data?.key === h.key && e.ts <= killAt && e.attempt === h.attempt
        && ['StepSucceeded', 'StepFailed', 'CompensationSucceeded', 'CompensationFailed', 'TimerFired'].includes(e.type));
      const executionEnded = statusOf.get(h.execution_id) !== 'RUNNING';
      if (resolvedByVictim) finishedByVictim++;
      else if (executionEnded && !evs.some((e) => e.data?.key === h.key && ['StepSucceeded', 'CompensationSucceeded'].includes(e.type) && e.ts > killAt)) dropped++;
      else untaken.push(`${h.execution_id}|${h.kind}|${h.key}`);
    }
    expect(untaken).toEqual([]);
    expect(takeovers.length).toBeGreaterThan(0);
    const t = stats(takeovers);
    const e = stats(afterExpiry);
    // How long after its start each step's result was drafted for commit: a handler's lease is
    // renewed only while it runs, so lag beyond leaseMs would let another claim a finished step.
    const resultLag: number[] = [];
    for (const [, evs] of eventsOf) {
      for (const e of evs) {
        if (e.type !== 'StepSucceeded' && e.type !== 'StepFailed') continue;
        const start = evs.filter((s) => s.type === 'StepStarted' && s.data?.key === e.data?.key && s.attempt === e.attempt && s.seq < e.seq).pop();
        if (start) resultLag.push(e.ts - start.ts);
      }
    }
    const durationMs = Math.max(...executions.map((x) => x.ended_at)) - Math.min(...executions.map((x) => x.started_at));
    const byKind: Record<string, number> = {};
    for (const x of executions) byKind[`${byId.get(x.id)!.kind}:${x.status}`] = (byKind[`${byId.get(x.id)!.kind}:${x.status}`] ?? 0) + 1;
    console.log([
      `cluster: ${EXECUTIONS} checkouts ended in ${durationMs} ms (first start → last end; all seen ended at +${allDoneAt - t0} ms): ${JSON.stringify(byKind)}`,
      `cluster: step/compensation starts per worker: ${JSON.stringify(split)}; executions touched per worker: ${JSON.stringify(execsPerWorker)}; ${multiWorker} executions ran on more than one worker`,
      `cluster: ${victim.workerId} held ${held.size} rows at the kill: ${takeovers.length} taken over, ${finishedByVictim} finished by its last in-flight commit, ${dropped} dropped (branch left)`,
      `cluster: takeover after SIGKILL (kill → StepStarted elsewhere), ms: ${JSON.stringify(t)}; after lease expiry: ${JSON.stringify(e)}; leaseMs ${LEASE_MS}, pollIntervalMs ${POLL_MS}`,
      `cluster: StepResultRefused events: ${history.filter((x) => x.type === 'StepResultRefused').length}; retries scheduled: ${history.filter((x) => x.type === 'RetryScheduled').length}`,
      `cluster: step start → result drafted for commit (handler 20-50 ms + commit-loop lag), ms: ${JSON.stringify(stats(resultLag))}; the lease (${LEASE_MS} ms) is renewed only while the handler runs`,
      ...(proxy ? [`cluster: connections through the veth bridge, by source address: ${JSON.stringify(Object.fromEntries(proxy.stats))}`] : []),
    ].join('\n'));
    // Taken over only once the dead process's lease had expired (never while it might still run).
    expect(afterExpiry.filter((ms) => ms < 0)).toEqual([]);

    if (proxy && net) {
      // every worker reached PostgreSQL across the bridge, from its own address
      for (const a of net.addresses) expect(proxy.stats.get(a)?.connections ?? 0).toBeGreaterThan(0);
    }
  }, 90_000);

  it('a SIGTERMed process hands its work back at once, without waiting for its leases to expire', async () => {
    // A worker of this test's own whose leases last an hour: its work can go on elsewhere within this test only
    // if it hands the leases back.
    const target = new ClusterWorker({
      workerId: 'w3', db: workerUrl('w3'), schema, leaseMs: HOUR_MS, pollIntervalMs: POLL_MS, concurrency: CONCURRENCY, poolSize: 8,
      netns: netnsOf(3),
    });
    extra.push(target);
    await target.ready(20_000);
    // The others hold still while the work is started, so the target (not a faster, warmer worker)
    // is the one that takes it: a handshake, not a race this test could lose on a loaded machine.
    const others = workers.filter((w) => w.alive);
    for (const w of others) w.pause();
    const planned: Planned[] = Array.from({ length: 80 }, (_, i) => ({ id: `g-${String(i).padStart(2, '0')}`, kind: 'valid', simulate: { stepDelayMs: 150 }, emptyCart: false }));
    const byId = new Map(planned.map((p) => [p.id, p]));
    const t0 = Date.now();
    for (let i = 0; i < planned.length; i += 10) {
      await Promise.all(planned.slice(i, i + 10).map((p) => starter.startExecution('checkout', checkoutInput(p.id, p.simulate), { id: p.id })));
      await sleep(20);
    }
    // Stop it once it has steps in flight.
    const heldQuery = `SELECT execution_id, key, lease_until FROM ${S}.work WHERE lease_owner = $1`;
    let inFlight: Array<{ execution_id: string; key: string; lease_until: number }> = [];
    await until('w3 holds leases', async () => (inFlight = await q(heldQuery, [target.workerId])).length >= 5);
    for (const w of others) w.resume(); // they wait on the target's hour-long leases, not take them
    const termAt = Date.now();
    const exit = await target.stop(10_000);
    const stoppedMs = Date.now() - termAt;
    expect(exit).toEqual({ code: 0, signal: null });
    // nothing is left leased to it: running handlers finished within the grace period and were committed, the rest was released
    expect(await q(`SELECT * FROM ${S}.work WHERE lease_owner = $1`, [target.workerId])).toEqual([]);
    await waitAllEnded(t0, 30_000);

    const { executions, eventsOf, leftover } = await load('g-');
    expect(leftover).toEqual([]);
    expect(executions).toHaveLength(planned.length);
    expect(verify(executions, eventsOf, byId)).toEqual([]);
    // each execution the target had in flight went on at another worker, before the lease it held could have expired
    const leaseEnd = new Map<string, number>();
    for (const r of inFlight) leaseEnd.set(r.execution_id, Math.min(leaseEnd.get(r.execution_id) ?? Infinity, r.lease_until));
    const handoffs: number[] = [];
    for (const [id, expiresAt] of leaseEnd) {
      const next = (eventsOf.get(id) ?? []).find((e) => e.ts >= termAt && (e.type === 'StepStarted' || e.type === 'TimerFired') && e.data?.worker !== target.workerId);
      if (!next) continue;
      handoffs.push(next.ts - termAt);
      expect(next.ts, `${id} went on only after ${target.workerId}'s lease expired`).toBeLessThan(expiresAt);
    }
    const h = stats(handoffs);
    console.log(`cluster: SIGTERM to ${target.workerId} with ${leaseEnd.size} executions in flight there: it exited 0 after ${stoppedMs} ms; ${handoffs.length} went on at the others after (ms) ${JSON.stringify(h)}; ${leaseEnd.size - handoffs.length} needed no other worker (ended, or their next step was a timer)`);
    expect(handoffs.length).toBeGreaterThan(0);
  }, 60_000);
});
