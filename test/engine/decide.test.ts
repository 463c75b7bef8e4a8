import { describe, expect, it } from 'vitest';
import { workflow } from '../../src/index.js';
import { begin, decide, outcomeOf, persist, replay, restore } from '../../src/engine/decide.js';
import { HistoryEventType as T, type HistoryEvent } from '../../src/core/events.js';

/** Pure decisions: snapshot and event in, snapshot and commands out. No store, no clock, no handler. */

const order = workflow<{ total: number }>('order')
  .task('charge', async (d) => ({ paid: d.total }), {
    resultPath: 'payment',
    retry: [{ errors: ['Gateway'], maxAttempts: 2 }],
    compensate: { name: 'refund', handler: async () => null },
    catch: [{ errors: ['Fraud'], next: 'review' }],
  })
  .parallel('ship', [(b) => b.task('pack', async () => 'packed'), (b) => b.wait('cool', { durationMs: 500 })], { resultPath: 'shipping' })
  .succeed('done')
  .task('review', async () => 'reviewed')
  .build();

describe('decide', () => {
  it('asks for the first task when an execution begins', () => {
    const { snapshot, commands } = begin(order, { total: 10 });
    expect(commands).toEqual([{ type: 'runTask', params: { key: 'charge', step: 'charge' } }]);
    expect(outcomeOf(snapshot).status).toBe('RUNNING');
  });

  it('on success stores the result and starts every branch of the parallel', () => {
    const { snapshot } = begin(order, { total: 10 });
    const next = decide(order, snapshot, { type: 'STEP_SUCCEEDED', key: 'charge', output: { paid: 10 } });
    expect(next.commands).toEqual([
      { type: 'cancelWork', params: { kind: 'task', keys: ['charge'] } },
      { type: 'entered', params: { step: 'ship' } },
      { type: 'runTask', params: { key: 'pack', step: 'pack' } },
      { type: 'startTimer', params: { key: 'cool', step: 'cool', durationMs: 500 } },
    ]);
    expect(next.snapshot.context.data['ship/0']).toEqual({ total: 10, payment: { paid: 10 } });
    expect(next.snapshot.context.completed).toEqual([{ key: 'charge', step: 'charge', compensation: 'refund', input: { total: 10 }, output: { paid: 10 } }]);
  });

  it('asks for a retry while attempts remain, then fails and compensates nothing that did not complete', () => {
    const { snapshot } = begin(order, { total: 10 });
    const failed = { type: 'STEP_FAILED' as const, key: 'charge', error: { code: 'Gateway', message: 'down' } };
    const first = decide(order, snapshot, failed);
    expect(first.commands).toEqual([{ type: 'retryTask', params: { key: 'charge', step: 'charge', attempt: 2, policy: 0 } }]);
    const second = decide(order, first.snapshot, failed);
    expect(outcomeOf(second.snapshot)).toEqual({ status: 'FAILED', error: { code: 'Gateway', message: 'down' } });
  });

  it('follows a catch route with the error in the data', () => {
    const { snapshot } = begin(order, { total: 10 });
    const next = decide(order, snapshot, { type: 'STEP_FAILED', key: 'charge', error: { code: 'Fraud', message: 'suspicious', terminal: true } });
    expect(next.commands.at(-1)).toEqual({ type: 'runTask', params: { key: 'review', step: 'review' } });
    expect(next.snapshot.context.data['']).toEqual({ total: 10, error: { code: 'Fraud', message: 'suspicious' } });
  });

  it('joins the parallel only when every branch has finished', () => {
    let s = decide(order, begin(order, { total: 1 }).snapshot, { type: 'STEP_SUCCEEDED', key: 'charge', output: 1 }).snapshot;
    s = decide(order, s, { type: 'TIMER_FIRED', key: 'cool' }).snapshot;
    expect(outcomeOf(s).status).toBe('RUNNING');
    s = decide(order, s, { type: 'STEP_SUCCEEDED', key: 'pack', output: 'packed' }).snapshot;
    expect(outcomeOf(s)).toEqual({ status: 'SUCCEEDED', output: { total: 1, payment: 1, shipping: ['packed', { total: 1, payment: 1 }] } });
  });

  it('on cancel leaves the running steps and runs the compensations of completed ones', () => {
    let s = decide(order, begin(order, { total: 1 }).snapshot, { type: 'STEP_SUCCEEDED', key: 'charge', output: 1 }).snapshot;
    const cancel = decide(order, s, { type: 'CANCEL' });
    expect(cancel.commands).toEqual([
      { type: 'cancelWork', params: { kind: 'timer', keys: ['cool'] } },
      { type: 'cancelWork', params: { kind: 'task', keys: ['pack'] } },
      { type: 'runCompensation', params: { key: 'charge', step: 'charge', compensation: 'refund' } },
    ]);
    s = decide(order, cancel.snapshot, { type: 'COMPENSATION_SUCCEEDED', key: 'charge' }).snapshot;
    expect(outcomeOf(s).status).toBe('CANCELLED');
  });

  it('ignores an event for a step that is not active (a late or duplicate result)', () => {
    const { snapshot } = begin(order, { total: 1 });
    const next = decide(order, snapshot, { type: 'STEP_SUCCEEDED', key: 'pack', output: 'early' });
    expect(next.commands).toEqual([]);
    expect(persist(next.snapshot)).toEqual(persist(snapshot));
  });

  it('restores a persisted snapshot that decides exactly like the live one', () => {
    const live = decide(order, begin(order, { total: 1 }).snapshot, { type: 'STEP_SUCCEEDED', key: 'charge', output: 1 }).snapshot;
    const restored = restore(order, JSON.parse(JSON.stringify(persist(live))));
    const event = { type: 'STEP_SUCCEEDED' as const, key: 'pack', output: 'p' };
    expect(persist(decide(order, restored, event).snapshot)).toEqual(persist(decide(order, live, event).snapshot));
  });

  it('replays a history to the same snapshot', () => {
    const events: HistoryEvent[] = [
      { seq: 1, type: T.ExecutionStarted, timestamp: 0, data: { input: { total: 3 } } },
      { seq: 2, type: T.StepStarted, timestamp: 0, step: 'charge', data: { key: 'charge' } },
      { seq: 3, type: T.StepSucceeded, timestamp: 0, step: 'charge', data: { key: 'charge', output: 3 } },
      { seq: 4, type: T.TimerFired, timestamp: 0, step: 'cool', data: { key: 'cool' } },
    ];
    let s = begin(order, { total: 3 }).snapshot;
    s = decide(order, s, { type: 'STEP_SUCCEEDED', key: 'charge', output: 3 }).snapshot;
    s = decide(order, s, { type: 'TIMER_FIRED', key: 'cool' }).snapshot;
    expect(persist(replay(order, events))).toEqual(persist(s));
  });
});
