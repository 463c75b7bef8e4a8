/**
 * The history page's status derivation, without a browser: what colour and detail each state
 * gets from a history. Hand-written histories pin each rule; real checkout histories from the
 * engine prove the rules read the events the engine actually writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkout, shipping } from '../../examples/checkout/workflow.js';
import { presentEvent } from '../../src/api/present.js';
import { allStates } from '../../src/api/page/client/transitions.js';
import { computeStatuses, edgeTaken, nodeDetail, stepInfo, type NodeStatus } from '../../src/api/page/client/status.js';
import type { ApiHistoryEvent, StateDescription } from '../../src/api/page/client/types.js';
import { StepErrorCodes } from '../../src/core/errors.js';
import { HistoryEventType as E } from '../../src/core/events.js';
import { ExecutionStatus as X } from '../../src/core/status.js';
import { Engine, openStore, worker, workflow } from '../../src/index.js';
import { until } from '../helpers/until.js';

const T0 = Date.parse('2025-03-01T10:00:00.000Z');

/** A history from [type, step?, extra] triples; seq and timestamps (100 ms apart) are filled in. */
function history(...rows: Array<[string, string?, Partial<ApiHistoryEvent>?]>): ApiHistoryEvent[] {
  return rows.map(([type, step, extra], i) => ({
    seq: i + 1,
    type,
    timestamp: new Date(T0 + i * 100).toISOString(),
    ...(step !== undefined ? { step } : {}),
    ...extra,
  }));
}

const states: StateDescription[] = [
  { name: 'charge', type: 'task', next: 'route', compensation: 'refund' },
  { name: 'route', type: 'choice', choices: [{ next: 'ship', label: 'ok' }], default: 'Rejected' },
  { name: 'Rejected', type: 'fail', error: 'Rejected' },
  {
    name: 'ship',
    type: 'parallel',
    next: 'pause',
    branches: [[{ name: 'pack', type: 'task', end: true }], [{ name: 'label', type: 'task', end: true }]],
  },
  { name: 'pause', type: 'wait', next: 'done' },
  { name: 'done', type: 'succeed' },
];

function statuses(events: ApiHistoryEvent[], exec: string): Record<string, NodeStatus> {
  return Object.fromEntries(computeStatuses(states, events, exec).statuses);
}

function detail(events: ApiHistoryEvent[], exec: string, name: string): string {
  const { statuses: s, info } = computeStatuses(states, events, exec);
  return nodeDetail(allStates(states).find((st) => st.name === name)!, s.get(name)!, info.get(name));
}

const started: Array<[string, string?, Partial<ApiHistoryEvent>?]> = [[E.ExecutionStarted], [E.StepStarted, 'charge', { attempt: 1 }]];

describe('status derivation', () => {
  it('a running step is running and everything after it not reached', () => {
    const s = statuses(history(...started), X.RUNNING);
    expect(s).toEqual({ charge: 'running', route: 'not-reached', Rejected: 'not-reached', ship: 'not-reached', pack: 'not-reached', label: 'not-reached', pause: 'not-reached', done: 'not-reached' });
    expect(detail(history(...started), X.RUNNING, 'done')).toBe('not reached');
    expect(detail(history(...started), X.RUNNING, 'charge')).toBe('running');
  });

  it('a failed attempt with a retry pending is running, then failed once the execution ended', () => {
    const h = history(...started, [E.StepFailed, 'charge', { attempt: 1, data: { error: { code: 'Gateway', message: 'down' } } }], [E.RetryScheduled, 'charge', { attempt: 2 }]);
    expect(statuses(h, X.RUNNING).charge).toBe('running');
    expect(detail(h, X.RUNNING, 'charge')).toBe('retrying · attempt 2 next');
    expect(statuses(h, X.FAILED).charge).toBe('failed');
    expect(detail(h, X.FAILED, 'charge')).toBe('failed · Gateway');
  });

  it('counts attempts and times the last run', () => {
    const h = history(
      ...started,
      [E.StepFailed, 'charge', { attempt: 1, data: { error: { code: 'Gateway', message: 'down' } } }],
      [E.RetryScheduled, 'charge', { attempt: 2 }],
      [E.StepStarted, 'charge', { attempt: 2 }],
      [E.StepSucceeded, 'charge', { attempt: 2 }],
    );
    expect(statuses(h, X.RUNNING).charge).toBe('succeeded');
    expect(stepInfo(h).get('charge')).toMatchObject({ attempts: 2, duration: 100, outcome: 'ok' });
    expect(detail(h, X.RUNNING, 'charge')).toBe('succeeded · 100 ms · 2 attempts');
  });

  it('a choice that was passed succeeded; the branch not taken stays not reached', () => {
    const h = history(...started, [E.StepSucceeded, 'charge', { attempt: 1 }], [E.StateEntered, 'route'], [E.StateEntered, 'ship'], [E.StepStarted, 'pack', { attempt: 1 }]);
    const s = statuses(h, X.RUNNING);
    expect(s.route).toBe('succeeded');
    expect(s.Rejected).toBe('not-reached');
    expect(s.ship).toBe('running');
    expect(s.pack).toBe('running');
    expect(s.label).toBe('not-reached');
  });

  it('a fail state that was entered is failed', () => {
    const h = history(...started, [E.StepSucceeded, 'charge', { attempt: 1 }], [E.StateEntered, 'route'], [E.StateEntered, 'Rejected'], [E.ExecutionFailed]);
    expect(statuses(h, X.FAILED).Rejected).toBe('failed');
  });

  it('a parallel state fails with a branch; a sibling cut short is cancelled; the compensated step says by what', () => {
    const h = history(
      ...started,
      [E.StepSucceeded, 'charge', { attempt: 1 }],
      [E.StateEntered, 'route'],
      [E.StateEntered, 'ship'],
      [E.StepStarted, 'pack', { attempt: 1 }],
      [E.StepStarted, 'label', { attempt: 1 }],
      [E.StepFailed, 'label', { attempt: 1, data: { error: { code: 'NoPrinter', message: 'x' } } }],
      [E.CompensationStarted, 'refund', { data: { for: 'charge' } }],
    );
    expect(statuses(h, X.RUNNING).charge).toBe('running');
    expect(detail(h, X.RUNNING, 'charge')).toBe('compensating (refund)');
    const ended = history(...h.map((e): [string, string?, Partial<ApiHistoryEvent>?] => [e.type, e.step, e]), [E.CompensationSucceeded, 'refund'], [E.ExecutionFailed]);
    const s = statuses(ended, X.FAILED);
    expect(s).toMatchObject({ charge: 'compensated', ship: 'failed', label: 'failed', pack: 'cancelled', pause: 'not-reached' });
    expect(detail(ended, X.FAILED, 'charge')).toBe('compensated by refund');
    expect(detail(ended, X.FAILED, 'pack')).toBe('cancelled · interrupted');
  });

  it('a parallel state whose branch failed is failed at once, while compensations still run', () => {
    const h = history(
      ...started,
      [E.StepSucceeded, 'charge', { attempt: 1 }],
      [E.StateEntered, 'route'],
      [E.StateEntered, 'ship'],
      [E.StepStarted, 'pack', { attempt: 1 }],
      [E.StepSucceeded, 'pack', { attempt: 1 }],
      [E.StepStarted, 'label', { attempt: 1 }],
      [E.StepFailed, 'label', { attempt: 1, data: { error: { code: 'NoPrinter', message: 'x' } } }],
      [E.CompensationStarted, 'refund', { data: { for: 'charge' } }],
    );
    expect(statuses(h, X.RUNNING)).toMatchObject({ ship: 'failed', pack: 'succeeded', label: 'failed', charge: 'running' });
  });

  it('a compensation that failed marks its step failed', () => {
    const h = history(...started, [E.StepSucceeded, 'charge', { attempt: 1 }], [E.CompensationStarted, 'refund', { data: { for: 'charge' } }], [E.CompensationFailed, 'refund', { data: { error: { code: 'E', message: 'm' } } }]);
    expect(statuses(h, X.FAILED).charge).toBe('failed');
    expect(detail(h, X.FAILED, 'charge')).toBe('compensation failed');
    expect(stepInfo(h).get('charge')!.compError).toEqual({ code: 'E', message: 'm' });
  });

  it(`a step failed with ${StepErrorCodes.Cancelled} is cancelled, not failed`, () => {
    const h = history(...started, [E.CancelRequested], [E.StepFailed, 'charge', { attempt: 1, data: { error: { code: StepErrorCodes.Cancelled, message: 'cancelled' } } }], [E.ExecutionCancelled]);
    expect(statuses(h, X.CANCELLED).charge).toBe('cancelled');
    const other = history(...started, [E.StepFailed, 'charge', { attempt: 1, data: { error: { code: StepErrorCodes.Timeout, message: 't' } } }], [E.ExecutionFailed]);
    expect(statuses(other, X.FAILED).charge).toBe('failed');
  });

  it('a wait is running until its timer fires, and cancelled when the execution ends first', () => {
    const dueAt = new Date(T0 + 60_000).toISOString();
    const waiting = history(...started, [E.StepSucceeded, 'charge'], [E.StateEntered, 'route'], [E.StateEntered, 'ship'], [E.StepStarted, 'pack'], [E.StepSucceeded, 'pack'], [E.StepStarted, 'label'], [E.StepSucceeded, 'label'], [E.TimerStarted, 'pause', { data: { dueAt } }]);
    expect(statuses(waiting, X.RUNNING)).toMatchObject({ ship: 'succeeded', pause: 'running', done: 'not-reached' });
    expect(detail(waiting, X.RUNNING, 'pause')).toMatch(/^waiting until \d\d:\d\d:\d\d$/);
    expect(statuses(waiting, X.CANCELLED).pause).toBe('cancelled');
    const fired = history(...waiting.map((e): [string, string?, Partial<ApiHistoryEvent>?] => [e.type, e.step, e]), [E.TimerFired, 'pause'], [E.StateEntered, 'done'], [E.ExecutionSucceeded]);
    expect(statuses(fired, X.SUCCEEDED)).toMatchObject({ pause: 'succeeded', done: 'succeeded' });
    // TimerStarted and TimerFired are 100 ms apart.
    expect(detail(fired, X.SUCCEEDED, 'pause')).toBe('succeeded · 100 ms');
  });

  it('an edge is taken when both ends were reached, a catch edge only from a failure', () => {
    expect(edgeTaken('next', 'succeeded', 'running')).toBe(true);
    expect(edgeTaken('next', 'succeeded', 'not-reached')).toBe(false);
    expect(edgeTaken('catch', 'succeeded', 'succeeded')).toBe(false);
    expect(edgeTaken('catch', 'failed', 'running')).toBe(true);
    expect(edgeTaken('catch', 'compensated', 'running')).toBe(true);
  });
});

describe('status derivation on the engine\'s own histories', () => {
  let store: Awaited<ReturnType<typeof openStore>>;
  let engine: Engine;
  const order = (id: string, simulate: Record<string, unknown>) => ({
    orderId: id,
    customer: { id: 'c-1', email: 'ada@example.com' },
    items: [{ sku: 'BOOK-1', qty: 1, price: 25 }],
    simulate,
  });
  const derive = async (id: string) => {
    const ended = await engine.waitForEnd(id, 15_000);
    const { events } = await engine.getHistory(id, { limit: 1000 });
    return { status: ended.status, statuses: Object.fromEntries(computeStatuses(checkout.describe().states, events.map(presentEvent), ended.status).statuses) };
  };

  beforeAll(async () => {
    store = await openStore(':memory:');
    engine = new Engine({ store });
    engine.register(checkout, shipping);
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop({ graceMs: 2000 });
    await store?.close();
  });

  it('a successful checkout is green along its path, the invalid-cart branch not reached', async () => {
    await engine.startExecution('checkout', order('s-ok', {}), { id: 's-ok' });
    const { status, statuses: s } = await derive('s-ok');
    expect(status).toBe(X.SUCCEEDED);
    const path = ['validateCart', 'cartValid', 'processPayment', 'fulfil', 'createOrder', 'sendReceipt', 'reserveInventory', 'waitForShipping', 'scheduleShipping', 'sendConfirmation', 'done'];
    for (const name of path) expect(s[name], name).toBe('succeeded');
    expect(s.InvalidCart).toBe('not-reached');
  });

  it('out of stock: inventory failed, payment compensated, the rest not reached', async () => {
    await engine.startExecution('checkout', order('s-oos', { outOfStock: true }), { id: 's-oos' });
    const { status, statuses: s } = await derive('s-oos');
    expect(status).toBe(X.FAILED);
    expect(s).toMatchObject({ reserveInventory: 'failed', processPayment: 'compensated', fulfil: 'failed', createOrder: 'succeeded', waitForShipping: 'not-reached', done: 'not-reached' });
  });

  it('retried payment: succeeded after its transient failures, counted as attempts', async () => {
    await engine.startExecution('checkout', order('s-retry', { paymentTransientFailures: 2 }), { id: 's-retry' });
    const ended = await engine.waitForEnd('s-retry', 15_000);
    const { events } = await engine.getHistory('s-retry', { limit: 1000 });
    const api = events.map(presentEvent);
    const { statuses: s, info } = computeStatuses(checkout.describe().states, api, ended.status);
    expect(s.get('processPayment')).toBe('succeeded');
    expect(info.get('processPayment')!.attempts).toBe(3);
  });

  it('a waitForEvent state that was entered waits, and succeeds once its event is consumed', () => {
    const waits: StateDescription[] = [
      { name: 'awaitReview', type: 'waitForEvent', event: 'review', next: 'done' },
      { name: 'done', type: 'succeed' },
    ];
    const entered = history([E.ExecutionStarted], [E.StateEntered, 'awaitReview']);
    const waiting = computeStatuses(waits, entered, X.RUNNING);
    expect(waiting.statuses.get('awaitReview')).toBe('running');
    expect(nodeDetail(waits[0]!, 'running', waiting.info.get('awaitReview'))).toBe('waiting for event review');
    const consumed = history([E.ExecutionStarted], [E.StateEntered, 'awaitReview'], [E.EventConsumed, 'awaitReview'], [E.StateEntered, 'done']);
    expect(computeStatuses(waits, consumed, X.RUNNING).statuses.get('awaitReview')).toBe('succeeded');
  });
});

describe('steps finished outside the engine', () => {
  const remoteStates: StateDescription[] = [
    { name: 'prep', type: 'task', next: 'pack' },
    { name: 'pack', type: 'task', next: 'approve', awaits: { kind: 'worker', queue: 'shipping' } },
    { name: 'approve', type: 'task', next: 'done', awaits: { kind: 'callback' } },
    { name: 'done', type: 'succeed' },
  ];
  const view = (events: ApiHistoryEvent[], exec: string, name: string) => {
    const { statuses: s, info } = computeStatuses(remoteStates, events, exec);
    return [s.get(name), nodeDetail(remoteStates.find((st) => st.name === name)!, s.get(name)!, info.get(name))];
  };
  const prepDone: Array<[string, string?, Partial<ApiHistoryEvent>?]> = [
    [E.ExecutionStarted], [E.StepStarted, 'prep', { attempt: 1, data: { worker: 'engine-1' } }], [E.StepSucceeded, 'prep', { attempt: 1 }],
  ];

  it('a worker step no poll has taken yet is waiting for a worker, not "not reached"', () => {
    expect(view(history(...prepDone), X.RUNNING, 'pack')).toEqual(['running', 'waiting for a worker · queue shipping']);
    expect(view(history(...prepDone), X.RUNNING, 'approve')).toEqual(['not-reached', 'not reached']);
    // Before the step that leads to it has finished, it is not reached.
    expect(view(history([E.ExecutionStarted], [E.StepStarted, 'prep', { attempt: 1 }]), X.RUNNING, 'pack')[0]).toBe('not-reached');
    // An execution that ended never waits.
    expect(view(history(...prepDone), X.CANCELLED, 'pack')[0]).toBe('not-reached');
  });

  it('a worker step that is the first state waits from the start', () => {
    const first: StateDescription[] = [{ name: 'pack', type: 'task', next: 'done', awaits: { kind: 'worker', queue: 'q1' } }, { name: 'done', type: 'succeed' }];
    const { statuses: s, info } = computeStatuses(first, history([E.ExecutionStarted]), X.RUNNING);
    expect(s.get('pack')).toBe('running');
    expect(nodeDetail(first[0]!, 'running', info.get('pack'))).toBe('waiting for a worker · queue q1');
  });

  it('shows where a worker step runs and ran (data.worker of the attempt)', () => {
    const taken = [...prepDone, [E.StepStarted, 'pack', { attempt: 1, data: { worker: 'packer-1', queue: 'shipping' } }]] as Array<[string, string?, Partial<ApiHistoryEvent>?]>;
    expect(view(history(...taken), X.RUNNING, 'pack')).toEqual(['running', 'running · on packer-1']);
    const done = [...taken, [E.StepSucceeded, 'pack', { attempt: 1 }]] as Array<[string, string?, Partial<ApiHistoryEvent>?]>;
    expect(view(history(...done), X.RUNNING, 'pack')).toEqual(['succeeded', 'succeeded · 100 ms · on packer-1']);
  });

  it('a worker step whose heartbeat lapsed waits for its retry, then for a worker again', () => {
    const lapsed = [
      ...prepDone,
      [E.StepStarted, 'pack', { attempt: 1, data: { worker: 'packer-1' } }],
      [E.StepFailed, 'pack', { attempt: 1, data: { error: { code: StepErrorCodes.HeartbeatTimeout, message: 'no heartbeat' } } }],
    ] as Array<[string, string?, Partial<ApiHistoryEvent>?]>;
    expect(view(history(...lapsed, [E.RetryScheduled, 'pack', { attempt: 2, data: { dueAt: T0 + 5000 } }]), X.RUNNING, 'pack')).toEqual(['running', 'retrying · attempt 2 next']);
  });

  it('a callback step that handed out its token is waiting for a callback', () => {
    const waiting = [
      ...prepDone,
      [E.StepStarted, 'pack', { attempt: 1, data: { worker: 'packer-1' } }], [E.StepSucceeded, 'pack', { attempt: 1 }],
      [E.StepStarted, 'approve', { attempt: 1, data: { worker: 'engine-1' } }],
    ] as Array<[string, string?, Partial<ApiHistoryEvent>?]>;
    expect(view(history(...waiting), X.RUNNING, 'approve')).toEqual(['running', 'waiting for a callback']);
    expect(view(history(...waiting, [E.StepSucceeded, 'approve', { attempt: 1 }]), X.RUNNING, 'approve')[0]).toBe('succeeded');
  });

  it('reads the description and history a real engine writes for a worker step waiting for its poll', async () => {
    const wf = workflow('waitsForWorker').task('prep', async (d) => d).task('pack', worker('page-q'), { timeoutMs: 60_000 }).build();
    const described = wf.describe().states;
    expect(described.find((s) => s.name === 'pack')?.awaits).toEqual({ kind: 'worker', queue: 'page-q' });
    const store = await openStore(':memory:');
    const engine = new Engine({ store }).register(wf);
    await engine.start();
    try {
      const { execution } = await engine.startExecution('waitsForWorker', {});
      let events: ApiHistoryEvent[] = [];
      await until('prep succeeds', async () => {
        events = (await engine.getHistory(execution.id, { limit: 100 })).events.map(presentEvent);
        return events.some((e) => e.type === E.StepSucceeded);
      });
      const { statuses: s, info } = computeStatuses(described, events, X.RUNNING);
      expect(s.get('pack')).toBe('running');
      expect(nodeDetail(described.find((st) => st.name === 'pack')!, 'running', info.get('pack'))).toBe('waiting for a worker · queue page-q');
    } finally {
      await engine.stop({ graceMs: 0 });
      await store.close();
    }
  });
});
