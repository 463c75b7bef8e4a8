/**
 * Storage faults on a REAL SQLite file (WAL mode), with the engine on the system clock:
 *
 * (a) the database is locked: another connection holds BEGIN EXCLUSIVE while executions run; with
 *     busyTimeoutMs 50 every commit meets SQLITE_BUSY (STORE_UNAVAILABLE), the engine backs off
 *     and retries, and everything completes once the lock is released;
 * (b) the disk is full: max_page_count on the engine's own connection is pinned to the current
 *     page count, so commits fail with SQLITE_FULL while handlers keep finishing; then it is raised
 *     and everything resumes;
 * (c) the engine reports nothing that was not committed: a start during the fault resolves only
 *     once its commit has landed (that is what Engine.startExecution does: it waits, retrying, and
 *     neither fails nor resolves early), and the engine's reads equal a separate read-only
 *     connection's throughout;
 * (d) a handler that hangs past its timeout and then returns or throws changes nothing after its
 *     StepFailed (Stepwise.Timeout) was recorded;
 * (e) Engine.stop() during a fault returns (it used to wait for the commit retry loop, which waited
 *     for stop() to abort it), a start still waiting is told ENGINE_STOPPING, and the next engine on
 *     the file runs the uncommitted step again.
 *
 * Every handler checks, from a separate read-only connection, that its own StepStarted and the
 * previous step's StepSucceeded are committed before it does anything. Each fault lasts until the
 * engine has been seen to meet it (its commits refused, counted at the store), with the handlers
 * that must be running held at a gate the test opens: no outcome depends on how fast the machine is.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import type { ExecutionCommit } from '../../src/core/store.js';
import { HandlerGate } from '../fixtures/handler-gate.js';
import { until } from '../helpers/until.js';
import {
  Engine, ExecutionStatus, SqliteStore, StepwiseError, workflow, type HistoryEvent, type Logger, type StepContext,
} from '../../src/index.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let dir: string;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stepwise-faults-'));
  process.on('unhandledRejection', onUnhandled);
});

afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  // The engine runs in this process: a crash would surface here as an unhandled rejection.
  expect(unhandled).toEqual([]);
});

interface CommittedEvent { seq: number; type: string; step: string | null; attempt: number | null }

/** A read-only connection to the same file: what is committed, and nothing else. */
class Committed {
  readonly db: Database.Database;
  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
  }
  events(id: string): CommittedEvent[] {
    return this.db.prepare('SELECT seq, type, step, attempt FROM history WHERE execution_id = ? ORDER BY seq').all(id) as CommittedEvent[];
  }
  has(id: string, type: string, step?: string): boolean {
    return this.events(id).some((e) => e.type === type && (step === undefined || e.step === step));
  }
  status(id: string): string | undefined {
    return this.db.prepare('SELECT status FROM executions WHERE id = ?').pluck().get(id) as string | undefined;
  }
  close(): void {
    this.db.close();
  }
}

interface Rig {
  file: string;
  store: SqliteStore;
  engine: Engine;
  committed: Committed;
  /** Handler calls, in order: `${executionId}:${step}#${attempt}`. */
  calls: string[];
  /** Handler calls that have returned, in order, named as in `calls`. */
  returned: string[];
  /** Holds a step's handler (after it has checked what is committed) until the test opens it. */
  gate: HandlerGate;
  /** Invariant violations seen from inside handlers. */
  problems: string[];
  /** Store commits that failed with STORE_UNAVAILABLE, by SQLite code. */
  faults: Map<string, number>;
  warnings: string[];
  errors: string[];
  close(): Promise<void>;
}

const STEPS = ['a', 'b', 'c'] as const;
const UNLIMITED_PAGES = 1_073_741_823;

/**
 * a → b → c. Each handler checks from the read-only connection that its StepStarted and the
 * previous step's StepSucceeded are committed, waits `delayMs`, and returns `outputBytes` of data.
 */
function chain(rig: () => Rig, opts: { delayMs: number; outputBytes: number }) {
  const handler = (step: (typeof STEPS)[number], previous?: string) => async (input: unknown, ctx: StepContext) => {
    const r = rig();
    r.calls.push(`${ctx.executionId}:${step}#${ctx.attempt}`);
    const events = r.committed.events(ctx.executionId);
    if (!events.some((e) => e.type === 'StepStarted' && e.step === step && e.attempt === ctx.attempt)) {
      r.problems.push(`${ctx.executionId}:${step} started before its StepStarted was committed`);
    }
    if (previous && !events.some((e) => e.type === 'StepSucceeded' && e.step === previous)) {
      r.problems.push(`${ctx.executionId}:${step} started before ${previous}'s StepSucceeded was committed`);
    }
    await r.gate.pass(ctx);
    if (opts.delayMs > 0) await sleep(opts.delayMs);
    r.returned.push(`${ctx.executionId}:${step}#${ctx.attempt}`);
    return { step, pad: 'x'.repeat(opts.outputBytes), from: (input as { step?: string } | null)?.step ?? null };
  };
  return workflow<unknown>('chain')
    .task('a', handler('a'))
    .task('b', handler('b', 'a'))
    .task('c', handler('c', 'b'))
    .build();
}

async function rig(name: string, opts: { busyTimeoutMs?: number; delayMs?: number; outputBytes?: number } = {}): Promise<Rig> {
  const file = join(dir, `${name}.db`);
  const store = await SqliteStore.open(file, { busyTimeoutMs: opts.busyTimeoutMs ?? 5000 });
  const faults = new Map<string, number>();
  // Count the commits the store refuses (the engine sees exactly these errors).
  const commit = store.commit.bind(store);
  store.commit = (commits: ExecutionCommit[]) =>
    commit(commits).catch((error: unknown) => {
      if (error instanceof StepwiseError && error.code === 'STORE_UNAVAILABLE') {
        const cause = String((error.details as { cause?: string } | undefined)?.cause ?? 'unknown');
        const code = /^SQLITE_[A-Z]+/.exec(cause)?.[0] ?? cause;
        faults.set(code, (faults.get(code) ?? 0) + 1);
      }
      throw error;
    });
  const warnings: string[] = [];
  const errors: string[] = [];
  const logger: Logger = {
    info() {},
    warn: (_o, m) => { warnings.push(m ?? ''); },
    error: (o, m) => { errors.push(`${m ?? ''} ${JSON.stringify(o)}`); },
  };
  const engine = new Engine({ store, logger });
  let self!: Rig;
  engine.register(chain(() => self, { delayMs: opts.delayMs ?? 0, outputBytes: opts.outputBytes ?? 100 }));
  await engine.start();
  const committed = new Committed(file);
  self = {
    file, store, engine, committed, calls: [], returned: [], gate: new HandlerGate(), problems: [], faults, warnings, errors,
    async close() {
      await engine.stop({ graceMs: 2000 });
      committed.close();
      await store.close();
    },
  };
  return self;
}

const busy = (r: Rig, code: string) => r.faults.get(code) ?? 0;

/** The engine's view (its API) of an execution, in the read-only connection's shape. */
async function engineView(r: Rig, id: string): Promise<{ status?: string; events: CommittedEvent[] }> {
  let status: string | undefined;
  try {
    status = (await r.engine.getExecution(id)).status;
  } catch (error) {
    if (!(error instanceof StepwiseError && error.code === 'EXECUTION_NOT_FOUND')) throw error;
    return { events: [] };
  }
  const events: HistoryEvent[] = (await r.engine.getHistory(id, { limit: 1000 })).events;
  return { status, events: events.map((e) => ({ seq: e.seq, type: e.type, step: e.step ?? null, attempt: e.attempt ?? null })) };
}

/** Asserts the engine reports exactly what is committed, for every id. */
async function expectEngineMatchesDisk(r: Rig, ids: string[]): Promise<void> {
  for (const id of ids) {
    const view = await engineView(r, id);
    expect(view.status, id).toBe(r.committed.status(id));
    expect(view.events, id).toEqual(r.committed.events(id));
  }
}

/** Each execution SUCCEEDED, with exactly one StepSucceeded per step and each handler called once. */
async function expectAllCompleted(r: Rig, ids: string[]): Promise<void> {
  for (const id of ids) {
    const execution = await r.engine.waitForEnd(id, 20_000);
    expect(execution.status, id).toBe(ExecutionStatus.SUCCEEDED);
    const events = r.committed.events(id);
    for (const step of STEPS) {
      expect(events.filter((e) => e.type === 'StepSucceeded' && e.step === step), `${id}:${step}`).toHaveLength(1);
      expect(r.calls.filter((c) => c === `${id}:${step}#1`), `${id}:${step} handler calls`).toHaveLength(1);
    }
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(await r.store.listWork(id)).toEqual([]);
  }
  expect(r.problems).toEqual([]);
  expect(r.errors).toEqual([]);
}

describe('storage faults on a real SQLite file', () => {
  it('(a) a locked database: commits back off and retry; everything completes after the lock is released', async () => {
    const r = await rig('locked', { busyTimeoutMs: 50 });
    try {
      // Executions in flight when the lock is taken: their first handlers are running (held at the gate).
      const held = [0, 1, 2].map((i) => r.gate.hold(`pre-${i}`, 'a'));
      const before = await Promise.all([0, 1, 2].map(async (i) => (await r.engine.startExecution('chain', { i }, { id: `pre-${i}` })).execution.id));
      await Promise.all(held.map((x) => x.reached));

      const locker = new Database(r.file);
      locker.exec('BEGIN EXCLUSIVE');
      // Starts during the lock: each resolves only once its create commit has landed.
      const resolvedAt = new Map<string, number>();
      const seenAtResolve = new Map<string, string | undefined>();
      const during = [0, 1, 2].map((i) => {
        const id = `locked-${i}`;
        return r.engine.startExecution('chain', { i }, { id }).then(({ execution, created }) => {
          resolvedAt.set(id, Date.now());
          seenAtResolve.set(id, r.committed.status(id));
          expect(created).toBe(true);
          expect(execution.id).toBe(id);
          return id;
        });
      });
      // The handlers of step a finish during the lock; their results wait in memory, uncommitted.
      const committedAtLock = new Map(before.map((id) => [id, r.committed.events(id).length]));
      for (const x of held) x.open();

      // While locked: nothing new is committed, no next step starts, and the engine reports only
      // what is on disk; until a's three handlers have returned and the engine has met the lock
      // on two more commit attempts since.
      let busyWhenReturned: number | undefined;
      await until('step a returned and two more commits refused', async () => {
        for (const id of before) expect(r.committed.events(id).length, id).toBe(committedAtLock.get(id));
        for (const i of [0, 1, 2]) expect(r.committed.status(`locked-${i}`)).toBeUndefined();
        expect(resolvedAt.size).toBe(0);
        expect(r.calls.filter((c) => c.includes(':b#') || c.includes(':c#'))).toEqual([]);
        await expectEngineMatchesDisk(r, [...before, 'locked-0']);
        if (busyWhenReturned === undefined && before.every((id) => r.returned.includes(`${id}:a#1`))) busyWhenReturned = busy(r, 'SQLITE_BUSY');
        return busyWhenReturned !== undefined && busy(r, 'SQLITE_BUSY') >= busyWhenReturned + 2;
      });
      for (const id of before) expect(r.committed.has(id, 'StepSucceeded', 'a')).toBe(false);

      locker.exec('COMMIT');
      const releasedAt = Date.now();
      locker.close();

      const ids = [...before, ...(await Promise.all(during))];
      for (const id of ids.filter((x) => x.startsWith('locked-'))) {
        expect(resolvedAt.get(id)!).toBeGreaterThanOrEqual(releasedAt);
        expect(seenAtResolve.get(id), `${id} was not committed when its start resolved`).toBe(ExecutionStatus.RUNNING);
      }
      await expectAllCompleted(r, ids);
      await expectEngineMatchesDisk(r, ids);
      // The fault was real and the engine said it was backing off.
      expect(busy(r, 'SQLITE_BUSY')).toBeGreaterThan(1);
      expect(r.warnings.some((w) => /backing off/.test(w))).toBe(true);
    } finally {
      await r.close();
    }
  });

  it('(b) a full disk: commits fail with SQLITE_FULL while handlers finish; raising the limit resumes everything', async () => {
    // Outputs of 64 KiB need new pages for every result, so no commit fits in the free list.
    const r = await rig('full', { outputBytes: 64 * 1024 });
    try {
      // Warm up the file, then start executions whose first handlers are running (held at the gate) when the disk fills.
      const warm = (await r.engine.startExecution('chain', { warm: true }, { id: 'warm' })).execution.id;
      await expectAllCompleted(r, [warm]);
      const held = [0, 1, 2].map((i) => r.gate.hold(`pre-${i}`, 'a'));
      const before = await Promise.all([0, 1, 2].map(async (i) => (await r.engine.startExecution('chain', { i }, { id: `pre-${i}` })).execution.id));
      await Promise.all(held.map((x) => x.reached));

      const db = r.store.connection;
      const pages = db.pragma('page_count', { simple: true }) as number;
      db.pragma(`max_page_count = ${pages}`);
      expect(db.pragma('max_page_count', { simple: true })).toBe(pages);

      let resolved: number | undefined;
      let committedWhenResolved: string | undefined;
      // A big input, so that its create commit needs new pages too (a small one may fit in a page's slack).
      const late = r.engine.startExecution('chain', { late: true, pad: 'p'.repeat(64 * 1024) }, { id: 'during-full' }).then(({ created }) => {
        resolved = Date.now();
        committedWhenResolved = r.committed.status('during-full');
        expect(created).toBe(true);
        return 'during-full';
      });

      // Hold the fault: handlers of step a finish, nothing of it is committed; until the three
      // have returned and the engine has met the full disk on two more commit attempts since.
      for (const x of held) x.open();
      let fullWhenReturned: number | undefined;
      await until('step a returned and two more commits refused', async () => {
        for (const id of before) {
          expect(r.committed.has(id, 'StepSucceeded', 'a'), `${id}: a committed on a full disk`).toBe(false);
          expect(r.calls.filter((c) => c.startsWith(`${id}:b`)), `${id}: b started before a's result was committed`).toEqual([]);
        }
        expect(r.committed.status('during-full')).toBeUndefined();
        expect(resolved).toBeUndefined();
        await expectEngineMatchesDisk(r, [...before, 'during-full']);
        if (fullWhenReturned === undefined && before.every((id) => r.returned.includes(`${id}:a#1`))) fullWhenReturned = busy(r, 'SQLITE_FULL');
        return fullWhenReturned !== undefined && busy(r, 'SQLITE_FULL') >= fullWhenReturned + 2;
      });
      expect(r.calls.filter((c) => c.endsWith(':a#1') && c.startsWith('pre-'))).toHaveLength(3);
      expect(busy(r, 'SQLITE_FULL')).toBeGreaterThan(1);
      // The engine is alive and serves reads on a full disk.
      expect((await r.engine.listExecutions({ limit: 10 })).items.length).toBeGreaterThanOrEqual(4);

      db.pragma(`max_page_count = ${UNLIMITED_PAGES}`);
      const raisedAt = Date.now();

      const ids = [...before, await late];
      expect(resolved!).toBeGreaterThanOrEqual(raisedAt);
      expect(committedWhenResolved).toBe(ExecutionStatus.RUNNING);
      await expectAllCompleted(r, ids);
      await expectEngineMatchesDisk(r, ids);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      r.store.connection.pragma(`max_page_count = ${UNLIMITED_PAGES}`);
      await r.close();
    }
  });

  it('(c) a start on a locked database neither fails nor resolves early: it waits for its commit', async () => {
    const r = await rig('start-waits', { busyTimeoutMs: 50 });
    try {
      const locker = new Database(r.file);
      locker.exec('BEGIN EXCLUSIVE');
      let settled: 'resolved' | 'rejected' | undefined;
      const start = r.engine.startExecution('chain', { n: 1 }, { id: 'waits' }).then(
        (v) => { settled = 'resolved'; expect(r.committed.status('waits')).toBe(ExecutionStatus.RUNNING); return v; },
        (e) => { settled = 'rejected'; throw e; },
      );
      // A second start of the same id, also during the fault, joins the same outcome.
      const again = r.engine.startExecution('chain', { n: 1 }, { id: 'waits' });
      // Over HTTP the same: the request is held until the commit lands (no 503 on a lock that clears).
      const app = buildServer({ engine: r.engine });
      await app.ready();
      let answered: number | undefined;
      const viaHttp = app.inject({ method: 'POST', url: '/v1/workflows/chain/executions', payload: { id: 'waits-http', input: { n: 2 } } })
        .then((res) => { answered = res.statusCode; return res; });
      // The engine tries the create commit, meets the lock, and tries again, three times over.
      await until('three commit attempts refused', () => busy(r, 'SQLITE_BUSY') >= 3);
      expect(settled).toBeUndefined();
      expect(answered).toBeUndefined();
      expect(r.committed.status('waits')).toBeUndefined();
      // Reads are not blocked by the writer's lock (WAL): the engine says, truthfully, it does not exist yet.
      await expect(r.engine.getExecution('waits')).rejects.toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
      locker.exec('ROLLBACK');
      locker.close();
      const [first, second] = await Promise.all([start, again]);
      expect(settled).toBe('resolved');
      expect([first.created, second.created].sort()).toEqual([false, true]);
      expect(first.execution.id).toBe('waits');
      expect(second.execution.id).toBe('waits');
      expect((await viaHttp).statusCode).toBe(201);
      expect(r.committed.status('waits-http')).toBeDefined();
      await app.close();
      await expectAllCompleted(r, ['waits', 'waits-http']);
      expect(r.faults.get('SQLITE_BUSY') ?? 0).toBeGreaterThan(0);
    } finally {
      await r.close();
    }
  });
});

describe('(e) stopping the engine while the store is unavailable', () => {
  it('stop() returns within its grace period plus a bounded drain; the uncommitted step runs again on the next start', async () => {
    const r = await rig('stop-during-fault', { busyTimeoutMs: 50 });
    const locker = new Database(r.file);
    let stopped = false;
    try {
      const held = r.gate.hold('stuck', 'a');
      await r.engine.startExecution('chain', { n: 1 }, { id: 'stuck' });
      await held.reached;
      locker.exec('BEGIN EXCLUSIVE');
      // a's handler finishes during the lock; its result cannot be committed.
      held.open();
      await until("a's result refused by the lock", () => r.returned.includes('stuck:a#1') && busy(r, 'SQLITE_BUSY') >= 1);
      expect(r.committed.has('stuck', 'StepSucceeded', 'a')).toBe(false);
      // A start that cannot commit before the engine stops is told so (it neither hangs nor resolves).
      const pending = r.engine.startExecution('chain', { n: 2 }, { id: 'never' }).then(() => 'resolved', (e: unknown) => e);
      const t0 = Date.now();
      const stop = r.engine.stop({ graceMs: 200 }).then(() => { stopped = true; });
      await Promise.race([stop, sleep(10_000)]);
      // Before the fix, stop() waited for the commit retry loop, which waited for stop() to abort it.
      expect(stopped, 'engine.stop() hung while the store was locked').toBe(true);
      // grace 200 ms, at least 1 s for the commit, then the abort: ~1.2 s; slack for a loaded machine.
      expect(Date.now() - t0).toBeLessThan(6000);
      expect(await pending).toMatchObject({ code: 'ENGINE_STOPPING' });
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
      if (!stopped) await r.engine.stop();
      r.committed.close();
      await r.store.close();
    }
    // Nothing of a's result was committed, so a new engine on the file runs a again and completes.
    const again = await rig('stop-during-fault');
    try {
      expect(again.committed.has('stuck', 'StepSucceeded', 'a')).toBe(false);
      expect(again.committed.status('never')).toBeUndefined();
      await expectAllCompleted(again, ['stuck']);
    } finally {
      await again.close();
    }
  });
});

describe('(d) a handler that hangs past its timeout, then returns or throws', () => {
  let store: SqliteStore;
  let engine: Engine;
  let committed: Committed;
  const late: Array<{ id: string; aborted: boolean }> = [];
  const hung: string[] = [];
  let comeBack!: () => void;
  const cameBack = new Promise<void>((resolve) => { comeBack = resolve; });

  /** Hangs, ignoring its AbortSignal, until the test lets every hung handler come back; then does `then`. */
  const hang = (then: 'return' | 'throw') => async (_: unknown, ctx: StepContext) => {
    hung.push(ctx.executionId);
    await cameBack;
    late.push({ id: ctx.executionId, aborted: ctx.signal.aborted });
    if (then === 'throw') throw Object.assign(new Error('late failure'), { code: 'LateFailure' });
    return { late: true };
  };

  const wfs = [
    workflow<unknown>('hangReturns').task('slow', hang('return'), { timeoutMs: 100 }).build(),
    workflow<unknown>('hangThrows').task('slow', hang('throw'), { timeoutMs: 100 }).build(),
    // The first attempt hangs and returns late; the retry succeeds at once with another output.
    workflow<unknown>('hangThenRetry')
      .task('slow', async (input: unknown, ctx: StepContext) => (ctx.attempt === 1 ? hang('return')(input, ctx) : { fresh: ctx.attempt }), {
        timeoutMs: 100, retry: [{ errors: ['Stepwise.Timeout'], maxAttempts: 2, intervalMs: 0 }],
      })
      .build(),
    // The timeout is caught; the next step runs while the late handler is still going.
    workflow<unknown>('hangThenCatch')
      .task('slow', hang('throw'), { timeoutMs: 100, catch: [{ errors: ['Stepwise.Timeout'], next: 'after' }] })
      .succeed('done')
      .task('after', async (d: unknown) => ({ recovered: d }), { resultPath: 'after' })
      .build(),
  ];

  beforeAll(async () => {
    store = await SqliteStore.open(join(dir, 'hang.db'));
    engine = new Engine({ store }).register(...wfs);
    await engine.start();
    committed = new Committed(join(dir, 'hang.db'));
  });

  afterAll(async () => {
    await engine.stop({ graceMs: 1000 });
    committed.close();
    await store.close();
  });

  it('records one StepFailed (Stepwise.Timeout) and nothing after it, whatever the handler does later', async () => {
    const ids = await Promise.all(wfs.map(async (wf) => (await engine.startExecution(wf.name, { go: true }, { id: wf.name })).execution.id));
    const ended = await Promise.all(ids.map((id) => engine.waitForEnd(id, 10_000)));
    const snapshot = new Map(ids.map((id) => [id, { events: committed.events(id), status: committed.status(id) }]));
    const stored = new Map(await Promise.all(ids.map(async (id) => [id, await store.getExecution(id)] as const)));

    expect(Object.fromEntries(ended.map((e) => [e.id, e.status]))).toEqual({
      hangReturns: 'FAILED', hangThrows: 'FAILED', hangThenRetry: 'SUCCEEDED', hangThenCatch: 'SUCCEEDED',
    });
    expect(ended[0]!.error?.code).toBe('Stepwise.Timeout');
    expect(ended[1]!.error?.code).toBe('Stepwise.Timeout');
    expect(ended[2]!.output).toEqual({ fresh: 2 });
    expect((ended[3]!.output as { after: unknown }).after).toEqual({ recovered: expect.objectContaining({ error: expect.objectContaining({ code: 'Stepwise.Timeout' }) }) });
    // Every execution ended while its hung handler was still out.
    expect([...hung].sort()).toEqual([...ids].sort());
    expect(late).toEqual([]);

    // Now let every hung handler come back, returning or throwing, long after its timeout.
    comeBack();
    await until('every hung handler came back', () => late.length === ids.length);
    expect(late.map((l) => l.id).sort()).toEqual([...ids].sort());
    expect(late.every((l) => l.aborted)).toBe(true);
    await engine.drain();

    for (const id of ids) {
      expect(committed.events(id), id).toEqual(snapshot.get(id)!.events);
      expect(committed.status(id), id).toBe(snapshot.get(id)!.status);
      expect(await store.getExecution(id), id).toEqual(stored.get(id));
      expect(await store.listWork(id), id).toEqual([]);
      const events = committed.events(id);
      const slow = events.filter((e) => e.step === 'slow');
      const timeouts = slow.filter((e) => e.type === 'StepFailed');
      // Exactly one StepFailed per hung attempt, and no result of the hung attempt ever.
      expect(timeouts.filter((e) => e.attempt === 1), id).toHaveLength(1);
      expect(slow.filter((e) => e.type === 'StepSucceeded' && e.attempt === 1), id).toEqual([]);
      expect(slow.filter((e) => e.type === 'StepResultRefused'), id).toEqual([]);
    }
    const retry = committed.events('hangThenRetry').filter((e) => e.step === 'slow').map((e) => `${e.type}#${e.attempt}`);
    expect(retry).toEqual(['StepStarted#1', 'StepFailed#1', 'RetryScheduled#2', 'StepStarted#2', 'StepSucceeded#2']);
  });
});
