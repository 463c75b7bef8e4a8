import { describe, expect, it } from 'vitest';
import { HistoryEventType as T, VirtualClock, workflow } from '../../src/index.js';
import type { NewHistoryEvent } from '../../src/core/events.js';
import type { ExecutionSummary, WorkItem } from '../../src/core/store.js';
import { persist } from '../../src/engine/decide.js';
import { draftStep } from '../../src/engine/draft-step.js';
import type { Draft, Live, StepEnv } from '../../src/engine/draft.js';
import { deferred, type Input } from '../../src/engine/inputs.js';
import { refKey } from '../../src/core/work-ref.js';

/**
 * The draft step, pure: live state and inputs in, a Draft out. No store, no handler, no timer;
 * the time comes from a virtual clock that never moves.
 */

const clock = new VirtualClock();
const NOW = clock.now();
const order = workflow<{ total: number }>('order')
  .task('charge', async () => null, {
    retry: [{ errors: ['Gateway'], maxAttempts: 3, intervalMs: 1000, backoffRate: 2, jitter: 'none' }],
    compensate: { name: 'refund', handler: async () => null },
  })
  .parallel('ship', [(b) => b.task('pack', async () => 'packed'), (b) => b.wait('cool', { durationMs: 500 })])
  .succeed('done')
  .build();

function env(over: Partial<StepEnv> = {}): StepEnv {
  return { now: NOW, freeCapacity: 10, workerId: 'w1', leaseMs: 30_000, random: () => 0.5, stopping: false, ...over };
}

const unborn: Live = { id: 'e1', wf: order, snapshot: undefined, lastSeq: 0, status: 'RUNNING' };

function start(): Input & { kind: 'create' } {
  return { kind: 'create', wf: order, input: { total: 10 }, done: deferred<ExecutionSummary | undefined>() };
}

/** The live state once a draft's commit has landed (what the commit loop does, as data). */
function landed(draft: Draft): Live {
  return { ...draft.base, snapshot: draft.snapshot, lastSeq: draft.base.lastSeq + draft.commit!.events.length, status: draft.commit!.status };
}

function leased(key: string, attempt = 1, kind: WorkItem['kind'] = 'task'): WorkItem {
  return { executionId: 'e1', kind, key, attempt, dueAt: NOW, leaseOwner: 'w1', leaseUntil: NOW + 30_000 };
}

function types(events: NewHistoryEvent[]): string[] {
  return events.map((e) => (e.step ? `${e.type}:${e.step}` : e.type));
}

/** An execution whose charge succeeded: pack runs, the cool timer waits. */
function shipping(): Live {
  const started = landed(draftStep(unborn, [start()], env()));
  return landed(draftStep(started, [{ kind: 'result', work: leased('charge'), outcome: { ok: true, output: 'paid' } }], env()));
}

describe('draftStep', () => {
  it('writes a start with its first StepStarted, the row leased to this worker, and launches it once the commit lands', () => {
    const create = start();
    const draft = draftStep(unborn, [create], env());
    expect(types(draft.commit!.events)).toEqual(['ExecutionStarted', 'StepStarted:charge']);
    expect(draft.commit).toMatchObject({ executionId: 'e1', expectedSeq: 0, status: 'RUNNING', create: { workflow: 'order', input: { total: 10 }, startedAt: NOW } });
    expect(draft.commit!.schedule).toEqual([{ executionId: 'e1', kind: 'task', key: 'charge', attempt: 1, dueAt: NOW, leaseOwner: 'w1', leaseUntil: NOW + 30_000 }]);
    expect(draft.launches).toEqual([leased('charge')]);
    expect(draft.reserve).toEqual([refKey(leased('charge'))]);
    expect(draft.settle).toEqual([{ kind: 'created', input: create, summary: expect.objectContaining({ id: 'e1', status: 'RUNNING', startedAt: NOW }) }]);
    // Nothing in memory changed: the live state is the one passed in.
    expect(unborn.snapshot).toBeUndefined();
  });

  it('without free capacity writes the row unleased and asks the claimer to come back', () => {
    const draft = draftStep(unborn, [start()], env({ freeCapacity: 0 }));
    expect(types(draft.commit!.events)).toEqual(['ExecutionStarted']);
    expect(draft.commit!.schedule).toEqual([{ executionId: 'e1', kind: 'task', key: 'charge', attempt: 1, dueAt: NOW }]);
    expect(draft.launches).toEqual([]);
    expect(draft.backlog).toBe(true);
  });

  it('shares free capacity between the launches of one draft', () => {
    const wide = workflow('wide').parallel('p', [(b) => b.task('a', async () => 1), (b) => b.task('b', async () => 2)]).build();
    const draft = draftStep({ ...unborn, wf: wide }, [{ kind: 'create', wf: wide, input: {}, done: deferred() }], env({ freeCapacity: 1 }));
    expect(draft.launches.map((w) => w.key)).toEqual(['a']);
    expect(draft.commit!.schedule!.find((w) => w.key === 'b')).not.toHaveProperty('leaseOwner');
    expect(draft.backlog).toBe(true);
  });

  it('applies a result: consumes its row, records it, starts what the machine asks for next, leaves the live state alone', () => {
    const live = landed(draftStep(unborn, [start()], env()));
    const before = JSON.stringify(persist(live.snapshot!));
    const draft = draftStep(live, [{ kind: 'result', work: leased('charge'), outcome: { ok: true, output: 'paid' } }], env());
    expect(types(draft.commit!.events)).toEqual(['StepSucceeded:charge', 'StateEntered:ship', 'StepStarted:pack', 'TimerStarted:cool']);
    expect(draft.commit!.consume).toEqual([{ executionId: 'e1', kind: 'task', key: 'charge', owner: 'w1' }]);
    expect(draft.unhold).toEqual([refKey(leased('charge'))]);
    expect(draft.launches.map((w) => w.key)).toEqual(['pack']);
    expect(draft.wakeAt).toBe(NOW + 500);
    expect(JSON.stringify(persist(live.snapshot!))).toBe(before);
  });

  it('schedules the next attempt of a failed step later, with the delay its policy gives', () => {
    const live = landed(draftStep(unborn, [start()], env()));
    const draft = draftStep(live, [{ kind: 'result', work: leased('charge'), outcome: { ok: false, error: { code: 'Gateway', message: 'down' } } }], env());
    expect(types(draft.commit!.events)).toEqual(['StepFailed:charge', 'RetryScheduled:charge']);
    expect(draft.commit!.events[1]).toMatchObject({ attempt: 2, data: { key: 'charge', dueAt: NOW + 1000, delayMs: 1000 } });
    expect(draft.commit!.schedule).toEqual([{ executionId: 'e1', kind: 'task', key: 'charge', attempt: 2, dueAt: NOW + 1000 }]);
    expect(draft.launches).toEqual([]);
    expect(draft.wakeAt).toBe(NOW + 1000);
  });

  it("starts a claimed row on the claim's reservation, and says in data.rerun when it ran before", () => {
    const live = landed(draftStep(unborn, [start()], env({ freeCapacity: 0 })));
    const rerun = { previousWorker: 'w0', reason: 'process-restarted' as const };
    const draft = draftStep(live, [{ kind: 'claimed', work: leased('charge'), rerun }], env({ freeCapacity: 0 }));
    expect(draft.commit!.events).toEqual([{ type: T.StepStarted, timestamp: NOW, step: 'charge', attempt: 1, data: { key: 'charge', worker: 'w1', rerun } }]);
    expect(draft.launches).toEqual([leased('charge')]);
    expect(draft.reserve).toEqual([]);
    expect(draft.release).toEqual([]);
    const fresh = draftStep(live, [{ kind: 'claimed', work: leased('charge') }], env());
    expect(fresh.commit!.events[0].data).toEqual({ key: 'charge', worker: 'w1' });
  });

  it('drops a claim for a step whose result is committed, and gives its capacity back', () => {
    const draft = draftStep(shipping(), [{ kind: 'claimed', work: leased('charge') }], env());
    expect(draft.commit!.events).toEqual([]);
    expect(draft.commit!.drop).toEqual([{ executionId: 'e1', kind: 'task', key: 'charge' }]);
    expect(draft.release).toEqual([refKey(leased('charge'))]);
    expect(draft.launches).toEqual([]);
  });

  it('while stopping gives a claim back unrun and writes nothing for it', () => {
    const live = landed(draftStep(unborn, [start()], env({ freeCapacity: 0 })));
    const draft = draftStep(live, [{ kind: 'claimed', work: leased('charge') }], env({ stopping: true }));
    expect(draft.commit).toBeUndefined();
    expect(draft.release).toEqual([refKey(leased('charge'))]);
    expect(draft.launches).toEqual([]);
  });

  it('refuses a cancel of an ended execution without writing', () => {
    const ended: Live = { ...shipping(), status: 'SUCCEEDED' };
    const cancel: Input & { kind: 'cancel' } = { kind: 'cancel', done: deferred<void>() };
    const draft = draftStep(ended, [cancel], env());
    expect(draft.commit).toBeUndefined();
    expect(draft.settle).toEqual([{ kind: 'refused', input: cancel, error: expect.objectContaining({ code: 'EXECUTION_ENDED' }) }]);
  });

  it('answers a start of an id that exists with undefined, and two starts in one batch create it once', () => {
    const again = start();
    expect(draftStep(shipping(), [again], env())).toMatchObject({ commit: undefined, settle: [{ kind: 'created', input: again, summary: undefined }] });
    const [first, second] = [start(), start()];
    const draft = draftStep(unborn, [first, second], env());
    expect(draft.commit!.events.filter((e) => e.type === T.ExecutionStarted)).toHaveLength(1);
    expect(draft.settle.map((s) => s.kind === 'created' && s.summary !== undefined)).toEqual([true, false]);
  });

  it('on cancel aborts the running branch, drops its rows and starts the compensation of the completed step', () => {
    const cancel: Input & { kind: 'cancel' } = { kind: 'cancel', done: deferred<void>() };
    const draft = draftStep(shipping(), [cancel], env());
    expect(types(draft.commit!.events)).toEqual(['CancelRequested', 'CompensationStarted:refund']);
    expect(draft.aborts).toEqual([refKey({ executionId: 'e1', kind: 'timer', key: 'cool' }), refKey(leased('pack'))]);
    expect(draft.commit!.drop).toEqual([{ executionId: 'e1', kind: 'timer', key: 'cool' }, { executionId: 'e1', kind: 'task', key: 'pack' }]);
    expect(draft.launches).toEqual([leased('charge', 1, 'compensation')]);
    expect(draft.settle).toEqual([{ kind: 'cancelled', input: cancel }]);
  });

  it('neither records nor counts a step entered and left within one batch', () => {
    const live = landed(draftStep(unborn, [start()], env()));
    const draft = draftStep(live, [
      { kind: 'result', work: leased('charge'), outcome: { ok: true, output: 'paid' } },
      { kind: 'cancel', done: deferred() },
    ], env({ freeCapacity: 1 }));
    expect(types(draft.commit!.events)).toEqual([
      'StepSucceeded:charge', 'StateEntered:ship', 'TimerStarted:cool', 'CancelRequested', 'CompensationStarted:refund',
    ]);
    // One handler may start: pack took it, then gave it back when cancel left its step.
    expect(draft.launches.map((w) => `${w.kind}:${w.key}`)).toEqual(['compensation:charge']);
    expect(draft.reserve).toEqual([refKey(leased('charge', 1, 'compensation'))]);
  });

  it('is a function of its arguments: the same inputs give the same draft', () => {
    const live = shipping();
    const input: Input = { kind: 'result', work: leased('pack'), outcome: { ok: true, output: 'packed' } };
    const a = draftStep(live, [input], env());
    const b = draftStep(live, [input], env());
    expect(a.commit).toEqual(b.commit);
    expect(a.launches).toEqual(b.launches);
  });
});
