import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine, HistoryEventType as T, openStore, PostgresStore, workflow, type HistoryEvent, type Logger, type Store } from '../../src/index.js';
import { dropSchema, PG_URL, pgAvailable, throwawaySchema } from '../store/pg-helpers.js';

/**
 * A step due now when no handler slot is free is still leased to this process, with its
 * StepStarted, and waits here for a slot: no claim, no reload. Its lease is renewed while it
 * waits, a graceful stop hands it back, on a shared store it goes back to the table after
 * WAIT_HAND_BACK_MS, and nothing runs past `concurrency` at once.
 */

const quiet: Logger = { info() {}, warn() {}, error() {} };

/** The store, with the task rows its claims hand out counted. */
function countingClaims(store: Store): { store: Store; claimed: () => number } {
  let claimed = 0;
  const counted: Store = Object.assign(Object.create(store) as Store, {
    claimWork: async (r: Parameters<Store['claimWork']>[0]) => {
      const rows = await store.claimWork(r);
      claimed += rows.filter((w) => w.kind === 'task').length;
      return rows;
    },
  });
  return { store: counted, claimed: () => claimed };
}

function startedBy(history: HistoryEvent[], step: string): unknown[] {
  return history.filter((e) => e.type === T.StepStarted && e.step === step).map((e) => e.data);
}

/** A release the test controls, for handlers that hold their slot until it is given. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => { open = resolve; });
  return { open, opened };
}

/**
 * A one-task workflow per worker name: the execution started with `first` holds its handler slot
 * until `hold` opens (`busy` resolves once it does); every call is noted as `worker:executionId`.
 */
function slotHolder(name: string, hold: ReturnType<typeof gate>) {
  const calls: string[] = [];
  let entered!: () => void;
  const busy = new Promise<void>((resolve) => { entered = resolve; });
  const make = (worker: string) => workflow<{ first?: boolean }>(name)
    .task('work', async (input, ctx) => {
      calls.push(`${worker}:${ctx.executionId}`);
      if (input.first) {
        entered();
        await hold.opened;
      }
      return 'done';
    }, { timeoutMs: 30_000 })
    .build();
  return { calls, busy, make };
}

describe('steps waiting here for a handler slot (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-waiting-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('run every step of a chain without a claim, never more than concurrency at once', async () => {
    const base = await openStore(join(dir, 'chain.db'));
    const { store, claimed } = countingClaims(base);
    let running = 0;
    let most = 0;
    const step = async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 2));
      running--;
      return 'ok';
    };
    const chain = workflow('chain').task('a', step).task('b', step).task('c', step).build();
    const engine = new Engine({ store, workerId: 'w', concurrency: 2, logger: quiet }).register(chain);
    await engine.start();
    try {
      const ids = ['x1', 'x2', 'x3', 'x4'];
      await Promise.all(ids.map((id) => engine.startExecution('chain', {}, { id })));
      for (const id of ids) expect((await engine.waitForEnd(id, 10_000)).status).toBe('SUCCEEDED');
      expect(most).toBeLessThanOrEqual(2);
      // Every step was leased here by the commit before it (inline or to wait): none was claimed.
      expect(claimed()).toBe(0);
      for (const id of ids) {
        const history = await base.readHistory(id, 0, 100);
        for (const s of ['a', 'b', 'c']) expect(startedBy(history, s)).toEqual([{ key: s, worker: 'w' }]);
      }
    } finally {
      await engine.stop({ graceMs: 0 });
      await base.close();
    }
  }, 20_000);

  it('a graceful stop hands a waiting step back; the next process runs it, once', async () => {
    const file = join(dir, 'stop.db');
    const calls: string[] = [];
    const hold = gate();
    const make = (worker: string) => workflow<{ hang?: boolean }>('held')
      .task('work', async (input, ctx) => {
        calls.push(`${worker}:${ctx.executionId}`);
        if (input.hang) await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
        else await hold.opened;
        return 'done';
      })
      .build();
    let store: Store = await openStore(file);
    const first = new Engine({ store, workerId: 'first', concurrency: 1, logger: quiet }).register(make('first'));
    await first.start();
    await first.startExecution('held', { hang: true }, { id: 'busy' });
    await first.startExecution('held', {}, { id: 'queued' });
    // 'queued' is leased to the first process with its StepStarted, waiting for the one slot.
    const waiting = await store.listWork('queued');
    expect(waiting.map((w) => [w.kind, w.leaseOwner])).toEqual([['task', 'first']]);
    expect(startedBy(await store.readHistory('queued', 0, 100), 'work')).toEqual([{ key: 'work', worker: 'first' }]);
    await first.stop({ graceMs: 0 });
    expect((await store.listWork('queued')).map((w) => w.leaseOwner)).toEqual([undefined]);
    await store.close();

    hold.open();
    store = await openStore(file);
    const second = new Engine({ store, workerId: 'second', logger: quiet }).register(make('second'));
    await second.start();
    try {
      expect((await second.waitForEnd('queued', 10_000)).status).toBe('SUCCEEDED');
      // Its handler ran once, in the second process; the history says the first had it (it may have run there).
      expect(calls.filter((c) => c.endsWith(':queued'))).toEqual(['second:queued']);
      expect(startedBy(await store.readHistory('queued', 0, 100), 'work')).toEqual([
        { key: 'work', worker: 'first' },
        { key: 'work', worker: 'second', rerun: { previousWorker: 'first', reason: 'process-restarted' } },
      ]);
    } finally {
      await second.stop({ graceMs: 0 });
      await store.close();
    }
  }, 20_000);
});

const pgEnabled = await pgAvailable();

describe.skipIf(!pgEnabled)('steps waiting here for a handler slot (PostgreSQL)', () => {
  const schema = throwawaySchema('sw_waiting');
  afterAll(() => dropSchema(schema));

  it('keep their lease while they wait: another process does not take them over', async () => {
    const store = await PostgresStore.open(PG_URL, { schema });
    // Resolves once A has renewed p2's lease four times: more than a lease's time has passed.
    let renewedP2 = 0;
    let renewed!: () => void;
    const leaseOutlived = new Promise<void>((resolve) => { renewed = resolve; });
    const renewing: Store = Object.assign(Object.create(store) as Store, {
      renewLeases: async (owner: string, refs: Parameters<Store['renewLeases']>[1], until: number) => {
        const lost = await store.renewLeases(owner, refs, until);
        if (refs.some((r) => r.executionId === 'p2') && ++renewedP2 === 4) renewed();
        return lost;
      },
    });
    const hold = gate();
    const { calls, busy, make } = slotHolder('slots', hold);
    const a = new Engine({ store: renewing, workerId: 'A', concurrency: 1, leaseMs: 300, pollIntervalMs: 50, logger: quiet }).register(make('A'));
    const b = new Engine({ store, workerId: 'B', concurrency: 1, leaseMs: 300, pollIntervalMs: 50, logger: quiet }).register(make('B'));
    await a.start();
    try {
      await a.startExecution('slots', { first: true }, { id: 'p1' });
      await busy;
      await a.startExecution('slots', {}, { id: 'p2' });
      await b.start();
      // B, idle and polling every 50 ms, would claim p2's row if its lease lapsed.
      await leaseOutlived;
      expect((await store.listWork('p2')).map((w) => w.leaseOwner)).toEqual(['A']);
      hold.open();
      expect((await a.waitForEnd('p2', 10_000)).status).toBe('SUCCEEDED');
      expect(calls.filter((c) => c.endsWith(':p2'))).toEqual(['A:p2']);
      expect(startedBy(await store.readHistory('p2', 0, 100), 'work')).toEqual([{ key: 'work', worker: 'A' }]);
    } finally {
      await b.stop({ graceMs: 0 });
      await a.stop({ graceMs: 0 });
      await store.close();
    }
  }, 20_000);

  it('are handed back after WAIT_HAND_BACK_MS, for an idle process to take', async () => {
    const store = await PostgresStore.open(PG_URL, { schema });
    const hold = gate();
    const { calls, busy, make } = slotHolder('slow', hold);
    const a = new Engine({ store, workerId: 'A', concurrency: 1, leaseMs: 3000, pollIntervalMs: 50, logger: quiet }).register(make('A'));
    const b = new Engine({ store, workerId: 'B', concurrency: 1, leaseMs: 3000, pollIntervalMs: 50, logger: quiet }).register(make('B'));
    await a.start();
    try {
      await a.startExecution('slow', { first: true }, { id: 'q1' });
      await busy;
      await a.startExecution('slow', {}, { id: 'q2' });
      await b.start();
      // A's one slot stays busy; q2 waited there, then went back to the table and B ran it.
      expect((await b.waitForEnd('q2', 10_000)).status).toBe('SUCCEEDED');
      expect(calls.filter((c) => c.endsWith(':q2'))).toEqual(['B:q2']);
      expect(startedBy(await store.readHistory('q2', 0, 100), 'work')).toEqual([
        { key: 'work', worker: 'A' },
        { key: 'work', worker: 'B', rerun: { previousWorker: 'A', reason: 'lease-expired' } },
      ]);
    } finally {
      hold.open();
      await b.stop({ graceMs: 0 });
      await a.stop({ graceMs: 0 });
      await store.close();
    }
  }, 20_000);
});
