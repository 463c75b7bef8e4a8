/**
 * A budget per execution (`workflow(name, { budget: { maxTransitions } })`): a workflow that loops
 * for ever is stopped once it goes past its budget, ends FAILED with Stepwise.BudgetExceeded, no
 * catch rule takes it, its compensations run in reverse order, and the count it was stopped at is
 * the count GET /v1/executions/:id/usage reports. The count lives with the execution in the store,
 * so a restart in the middle of the loop stops it at the same point.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import {
  DefinitionError, Engine, ExecutionStatus, HistoryEventType as T, openStore, replay, VirtualClock, workflow, type HistoryEvent, type Store, type Workflow,
} from '../../src/index.js';
import { virtualEngine } from '../helpers/virtual-engine.js';
import { dropSchema, PG_URL, pgAvailable, throwawaySchema } from '../store/pg-helpers.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

/**
 * reserve and charge (each with a compensation), then poll → [nap →] again → poll … for ever: the
 * choice never leaves the loop. A catch '*' on poll would end it SUCCEEDED if it took the budget's
 * failure. Transitions: reserve 1, charge 2, poll#k at 2k+1 (3k with the nap, which adds one per lap).
 */
function looping(name: string, options: { maxTransitions: number; napMs?: number }) {
  const calls: string[] = [];
  let b = workflow<{ polls?: number }>(name, { budget: { maxTransitions: options.maxTransitions } })
    .task('reserve', async (d) => { calls.push('reserve'); return d; }, { compensate: { name: 'release', handler: async () => { calls.push('release'); } } })
    .task('charge', async (d) => { calls.push('charge'); return d; }, { compensate: { name: 'refund', handler: async () => { calls.push('refund'); } } })
    .task('poll', async (d) => { calls.push('poll'); return { polls: (d.polls ?? 0) + 1 }; }, { catch: [{ errors: ['*'], next: 'caught' }] });
  if (options.napMs !== undefined) b = b.wait('nap', { durationMs: options.napMs });
  const wf = b
    .choice('again', { choices: [{ when: (d) => d.polls! < 0, next: 'caught' }], default: 'poll' })
    .succeed('caught')
    .build();
  return { wf, calls };
}

async function historyOf(engine: Engine, id: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let after: string | undefined;
  do {
    const page = await engine.getHistory(id, { limit: 1000, ...(after ? { after } : {}) });
    events.push(...page.events);
    after = page.nextCursor;
  } while (after);
  return events;
}

async function usageOf(engine: Engine, id: string) {
  const app = buildServer({ engine });
  await app.ready();
  try {
    const res = await app.inject({ method: 'GET', url: `/v1/executions/${id}/usage` });
    expect(res.statusCode, res.body).toBe(200);
    return JSON.parse(res.body) as { status: string; usage: { stateTransitions: number } };
  } finally {
    await app.close();
  }
}

/** What every budget stop must show: the failure, the compensations, and counts that agree. */
async function expectStopped(engine: Engine, store: Store, wf: Workflow<any>, id: string, calls: string[], expected: { transitions: number; polls: number }) {
  const execution = await engine.getExecution(id);
  expect(execution.status).toBe(ExecutionStatus.FAILED);
  expect(execution.error).toMatchObject({ code: 'Stepwise.BudgetExceeded' });
  const events = await historyOf(engine, id);
  const budget = events.filter((e) => e.type === T.BudgetExceeded);
  expect(budget).toHaveLength(1);
  expect(budget[0]!.data).toMatchObject({ maxTransitions: 20, transitions: expected.transitions, error: { code: 'Stepwise.BudgetExceeded' } });
  // The loop ran until the budget, the step that would have gone past it never ran, and the
  // compensations ran last completed first, each once.
  expect(calls).toEqual(['reserve', 'charge', ...Array<string>(expected.polls).fill('poll'), 'refund', 'release']);
  const after = events.slice(events.indexOf(budget[0]!));
  expect(after.filter((e) => e.type === T.CompensationStarted).map((e) => e.step)).toEqual(['refund', 'release']);
  expect(after.some((e) => e.type === T.StepStarted)).toBe(false);
  expect(events.at(-1)!.type).toBe(T.ExecutionFailed);
  // The usage endpoint counts what the budget counted, plus the two compensation attempts.
  const { usage, status } = await usageOf(engine, id);
  expect(status).toBe('FAILED');
  expect(usage.stateTransitions).toBe(expected.transitions + 2);
  // Invariant 5: the history replays to the stored snapshot.
  const replayed = replay(wf, events);
  const stored = (await store.getExecution(id))!.snapshot as Record<string, unknown>;
  expect({ value: replayed.value, context: replayed.context }).toEqual({ value: stored.value, context: stored.context });
}

describe('a budget per execution', () => {
  it('a budget stopping a looping workflow: FAILED with Stepwise.BudgetExceeded, compensations in reverse order, counts matching the usage endpoint', async () => {
    const { wf, calls } = looping('spinner', { maxTransitions: 20 });
    const h = await virtualEngine([wf]);
    cleanup.push(() => h.close());
    const id = await h.start('spinner', {});
    await h.runToEnd(id);
    // poll#9 starts at transition 19; the next lap enters again (20) and would start poll#10 (21):
    // that draft goes past 20, so poll#10 does not start and the count stops at 20.
    await expectStopped(h.engine, h.store, wf, id, calls, { transitions: 20, polls: 9 });
    // Its budget is spent: a redrive is refused for that reason, not for its compensations.
    await expect(h.engine.redrive(id)).rejects.toMatchObject({ code: 'EXECUTION_OVER_BUDGET', message: expect.stringContaining('Stepwise.BudgetExceeded') });
  });

  const stores = [
    { kind: 'SQLite', available: async () => true, where: () => {
      const dir = mkdtempSync(join(tmpdir(), 'stepwise-budget-'));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      return { url: join(dir, 'stepwise.db'), options: {} };
    } },
    { kind: 'PostgreSQL', available: pgAvailable, where: () => {
      const schema = throwawaySchema('sw_budget');
      cleanup.push(() => dropSchema(schema));
      return { url: PG_URL, options: { postgres: { schema } } };
    } },
  ];
  it.each(stores)('counts across a restart ($kind): reopened mid-loop on the virtual clock, the execution stops where it would have', async ({ available, where }) => {
    if (!(await available())) return;
    const { url, options } = where();
    const clock = new VirtualClock();
    const { wf, calls } = looping('sleeper', { maxTransitions: 20, napMs: 60_000 });
    const polls = () => calls.filter((c) => c === 'poll').length;

    const open = async () => {
      const store = await openStore(url, options);
      const engine = new Engine({ store, clock, random: () => 0.5 }).register(wf);
      await engine.start();
      return { store, engine };
    };
    const nextTimer = async (engine: Engine) => {
      await engine.idle({ handlerGraceMs: 0 });
      const at = clock.nextTimerAt();
      if (at === undefined) return false;
      await clock.advance(Math.max(0, at - clock.now()));
      // What the timer set off runs to its end before the caller counts (a commit's WAL sync
      // is real I/O: the advance returns before the step it leads to has run).
      await engine.idle({ handlerGraceMs: 0 });
      return true;
    };

    let { store, engine } = await open();
    const { execution } = await engine.startExecution('sleeper', {});
    // Three laps (poll#3 at 9, its nap at 10), then the process goes away while the execution
    // sleeps. (On PostgreSQL the clock's next timer may be the engine's poll, not the nap.)
    while (polls() < 3) expect(await nextTimer(engine)).toBe(true);
    await engine.idle({ handlerGraceMs: 0 });
    expect(polls()).toBe(3);
    await engine.stop({ graceMs: 0 });
    await store.close();

    ({ store, engine } = await open());
    cleanup.push(async () => {
      await engine.stop({ graceMs: 0 });
      await store.close();
    });
    while ((await engine.getExecution(execution.id)).status === ExecutionStatus.RUNNING) {
      if (!(await nextTimer(engine))) throw new Error('stuck: RUNNING with no timer pending');
    }
    // poll#6 starts at 18, its nap at 19; the lap after enters again (20) and would start poll#7.
    // Counted from 0 after the restart, it would have run 20 more transitions.
    await expectStopped(engine, store, wf, execution.id, calls, { transitions: 20, polls: 6 });
  });

  it('an execution within its budget is not touched; a bad budget is refused when the workflow is built', async () => {
    const ok = workflow('small', { budget: { maxTransitions: 2 } }).task('one', async () => 1).task('two', async () => 2).build();
    const h = await virtualEngine([ok]);
    cleanup.push(() => h.close());
    const id = await h.start('small', {});
    expect((await h.runToEnd(id)).status).toBe(ExecutionStatus.SUCCEEDED);
    expect((await h.history(id)).some((e) => e.type === T.BudgetExceeded)).toBe(false);

    for (const maxTransitions of [0, 1.5, -1, Number.NaN]) {
      expect(() => workflow('bad', { budget: { maxTransitions } }).task('one', async () => 1).build()).toThrow(DefinitionError);
    }
  });
});
