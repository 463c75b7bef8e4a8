import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine, HistoryEventType as T, openStore, PostgresStore, workflow, type HistoryEvent, type Logger, type Store } from '../../src/index.js';
import { previousRunsIn } from '../../src/engine/previous-runs.js';
import { dropSchema, PG_URL, pgAvailable, throwawaySchema } from '../store/pg-helpers.js';

/**
 * A step that runs again because the process that ran it went away says so: its second
 * StepStarted for the same attempt carries data.rerun naming the previous worker and why.
 */

const quiet: Logger = { info() {}, warn() {}, error() {} };

/** A two-step workflow whose first step waits for the test to let it go (or never returns). */
function rig() {
  const calls: Array<{ worker: string; attempt: number }> = [];
  let called!: () => void;
  const firstCall = new Promise<void>((resolve) => { called = resolve; });
  const make = (worker: string, hang: boolean) => workflow('twice')
    .task('work', async (_input: unknown, ctx) => {
      calls.push({ worker, attempt: ctx.attempt });
      called();
      if (hang) await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
      return 'done';
    })
    .task('after', async () => 'after')
    .build();
  return { calls, firstCall, make };
}

function started(history: HistoryEvent[], step: string): HistoryEvent[] {
  return history.filter((e) => e.type === T.StepStarted && e.step === step);
}

describe('previousRunsIn', () => {
  const base = { timestamp: 0 };
  const events: HistoryEvent[] = [
    { ...base, seq: 1, type: T.StepStarted, step: 'a', attempt: 1, data: { key: 'a', worker: 'w0' } },
    { ...base, seq: 2, type: T.StepFailed, step: 'a', attempt: 1, data: { key: 'a', error: { code: 'X', message: 'x' } } },
    { ...base, seq: 3, type: T.RetryScheduled, step: 'a', attempt: 2, data: { key: 'a', dueAt: 5, delayMs: 5 } },
    { ...base, seq: 4, type: T.StepStarted, step: 'b', attempt: 1, data: { key: 'b', worker: 'w0' } },
    { ...base, seq: 5, type: T.StepStarted, step: 'b', attempt: 1, data: { key: 'b', worker: 'w1' } },
    { ...base, seq: 6, type: T.CompensationStarted, step: 'undoC', attempt: 1, data: { for: 'c', key: 'c', worker: 'w2' } },
  ];
  const row = (kind: 'task' | 'compensation', key: string, attempt: number) => ({ executionId: 'e', kind, key, attempt, dueAt: 0 });

  it("names the last worker that started the claimed attempt, and nothing for an attempt that never started", () => {
    const found = previousRunsIn(events, [row('task', 'a', 2), row('task', 'b', 1), row('compensation', 'c', 1), row('task', 'c', 1)], 'lease-expired');
    expect([...found.values()]).toEqual([
      { previousWorker: 'w1', reason: 'lease-expired' },
      { previousWorker: 'w2', reason: 'lease-expired' },
    ]);
  });
});

describe('a step run again after its process went away', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-rerun-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('on SQLite: the next process runs it with data.rerun { previousWorker, reason: process-restarted }', async () => {
    const file = join(dir, 'rerun.db');
    const { calls, firstCall, make } = rig();
    let store: Store = await openStore(file);
    const first = new Engine({ store, workerId: 'first', logger: quiet }).register(make('first', true));
    await first.start();
    await first.startExecution('twice', {}, { id: 'x' });
    await firstCall;
    // The handler never returns; the process goes away with the step started and no result.
    await first.stop({ graceMs: 0 });
    await store.close();

    store = await openStore(file);
    const second = new Engine({ store, workerId: 'second', logger: quiet }).register(make('second', false));
    await second.start();
    try {
      expect((await second.waitForEnd('x', 10_000)).status).toBe('SUCCEEDED');
      const history = await store.readHistory('x', 0, 100);
      const work = started(history, 'work');
      expect(work.map((e) => e.data)).toEqual([
        { key: 'work', worker: 'first' },
        { key: 'work', worker: 'second', rerun: { previousWorker: 'first', reason: 'process-restarted' } },
      ]);
      expect(work.map((e) => e.attempt)).toEqual([1, 1]);
      // A step that had not run before says nothing of the kind.
      expect(started(history, 'after').map((e) => e.data)).toEqual([{ key: 'after', worker: 'second' }]);
      expect(calls).toEqual([{ worker: 'first', attempt: 1 }, { worker: 'second', attempt: 1 }]);
    } finally {
      await second.stop({ graceMs: 0 });
      await store.close();
    }
  }, 20_000);
});

const pgEnabled = await pgAvailable();

describe.skipIf(!pgEnabled)('a step run again after its lease expired (PostgreSQL)', () => {
  const schema = throwawaySchema('sw_rerun');
  afterAll(() => dropSchema(schema));

  it('another worker takes it over with data.rerun { previousWorker, reason: lease-expired }', async () => {
    const { firstCall, make } = rig();
    const store = await PostgresStore.open(PG_URL, { schema });
    // Worker A freezes after its handler starts: it can no longer renew its lease.
    let frozen = false;
    const freezing: Store = Object.assign(Object.create(store) as Store, {
      renewLeases: (owner: string, refs: Parameters<Store['renewLeases']>[1], until: number) =>
        (frozen ? Promise.reject(new Error('frozen')) : store.renewLeases(owner, refs, until)),
      onWorkAvailable: undefined,
    });
    const a = new Engine({ store: freezing, workerId: 'A', leaseMs: 300, pollIntervalMs: 50, logger: quiet }).register(make('A', true));
    const b = new Engine({ store, workerId: 'B', leaseMs: 300, pollIntervalMs: 50, logger: quiet }).register(make('B', false));
    await a.start();
    try {
      await a.startExecution('twice', {}, { id: 'y' });
      await firstCall;
      frozen = true;
      await b.start();
      expect((await b.waitForEnd('y', 10_000)).status).toBe('SUCCEEDED');
      const work = started(await store.readHistory('y', 0, 100), 'work');
      expect(work.map((e) => e.data)).toEqual([
        { key: 'work', worker: 'A' },
        { key: 'work', worker: 'B', rerun: { previousWorker: 'A', reason: 'lease-expired' } },
      ]);
    } finally {
      await b.stop({ graceMs: 0 });
      await a.stop({ graceMs: 0 });
      await store.close();
    }
  }, 20_000);
});
