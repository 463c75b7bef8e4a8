/**
 * Hand-written workflows that between them use every kind of state and every option the compiler
 * turns into machine logic: task (retries, catch, compensation with retries, timeouts as
 * Stepwise.Timeout), choice, parallel (nested, with catch), map (concurrency, retries, catch,
 * compensation), wait (fixed, computed, until a time, one that throws), pass (transform, one that
 * throws or returns what JSON cannot hold), succeed (with output), fail (with a computed cause),
 * loops (second visits) and a loop that never waits. Each comes with inputs that steer it down
 * different paths. Handlers never run here: a machine only asks for them.
 */
import { workflow, type Workflow } from '../../src/index.js';

const noop = async () => null;
const undo = { name: 'undo', handler: noop, retry: [{ errors: ['C1'], maxAttempts: 3 }] };

export interface StateKindCase {
  wf: Workflow<any>;
  inputs: unknown[];
}

export function stateKindCases(): StateKindCase[] {
  const saga = workflow<any>('kinds-saga')
    .task('charge', noop, {
      resultPath: 'payment',
      retry: [{ errors: ['E1'], maxAttempts: 3 }, { errors: ['Stepwise.Timeout'], maxAttempts: 2 }],
      catch: [{ errors: ['T1'], next: 'review' }, { errors: ['F1'], next: 'declined', resultPath: null }],
      compensate: { ...undo, name: 'refund' },
      timeoutMs: 1000,
    })
    .task('reserve', noop, { resultPath: 'reservation', compensate: { ...undo, name: 'release' }, retry: [{ errors: ['*'], maxAttempts: 2 }] })
    .task('ship', noop, { resultPath: null, catch: [{ errors: ['E2'], next: 'declined', resultPath: 'why' }] })
    .succeed('done', { output: (d) => ({ shipped: d }) })
    .task('review', noop, { next: 'done' })
    .fail('declined', { error: 'Declined', cause: (d) => `declined: ${JSON.stringify(d).length}` })
    .build();

  const branches = workflow<any>('kinds-parallel')
    .parallel('fanout', [
      (b) => b.task('left', noop, { retry: [{ errors: ['E1'], maxAttempts: 2 }] }).wait('pause', { durationMs: 500 }),
      (b) => b.parallel('inner', [
        (c) => c.task('deep', noop, { compensate: { ...undo, name: 'undoDeep' } }),
        (c) => c.pass('shape', { transform: (d) => ({ shaped: d }) }).succeed('innerDone'),
      ], { catch: [{ errors: ['E2'], next: 'recover' }] }).pass('recover', {}),
      (b) => b.choice('pick', { choices: [{ when: (d) => Array.isArray(d?.items), next: 'many' }], default: 'none' })
        .map('many', { itemsPath: 'items', handler: noop, concurrency: 2 }).succeed('branchDone')
        .fail('none', { error: 'NoItems', cause: 'no items' }),
    ], { resultPath: 'branches', catch: [{ errors: ['*'], next: 'caught' }] })
    .succeed('ok')
    .pass('caught', { transform: (d) => ({ caught: d?.error ?? null }) })
    .build();

  const items = workflow<any>('kinds-map')
    .map('each', {
      itemsPath: 'items', handler: noop, concurrency: 2, resultPath: 'results',
      retry: [{ errors: ['E1', 'Stepwise.Timeout'], maxAttempts: 3 }],
      catch: [{ errors: ['Stepwise.MapItemsNotArray'], next: 'notArray' }, { errors: ['T1'], next: 'itemFailed' }],
      compensate: { ...undo, name: 'undoItem' },
    })
    .task('after', noop, { compensate: { ...undo, name: 'undoAfter' } })
    .succeed('mapped')
    .pass('notArray', { transform: () => ({ items: [] }), next: 'mapped' })
    .fail('itemFailed', { error: 'ItemFailed' })
    .build();

  const waits = workflow<any>('kinds-wait')
    .wait('fixed', { durationMs: 1000 })
    .wait('computed', { durationMs: (d) => (typeof d?.ms === 'number' ? d.ms : 5) })
    .wait('until', { until: (d) => d?.at ?? '2030-01-01T00:00:00Z' })
    .wait('broken', { until: (d) => (d?.badTime ? 'not a time' : 0) })
    .pass('notJson', { transform: (d) => (d?.bigint ? { n: 1n } : d) })
    .pass('throws', { transform: (d) => { if (d?.throwAt === 'pass') throw new Error('transform broke'); return d; } })
    .succeed('waited')
    .build();

  const loops = workflow<any>('kinds-loop')
    .pass('count', { transform: (d) => ({ ...d, n: (d?.n ?? 0) + 1 }) })
    .task('work', noop, { resultPath: 'last', retry: [{ errors: ['*'], maxAttempts: 2 }], compensate: { ...undo, name: 'undoWork' } })
    .choice('again', {
      choices: [{ when: (d) => d.n < 3, next: 'count' }, { when: (d) => { if (d.n > 50) throw new Error('rule broke'); return false; }, next: 'end' }],
      default: 'end',
    })
    .succeed('end')
    .build();

  const spinning = workflow<any>('kinds-spin')
    .pass('same', { transform: (d) => d })
    .choice('forever', { choices: [{ when: (d) => d?.spin === true, next: 'same' }], default: 'stop' })
    .wait('stop', { durationMs: 0, next: 'after' })
    .task('after', noop)
    .build();

  return [
    { wf: saga, inputs: [{ total: 10 }, null] },
    { wf: branches, inputs: [{ items: [1, 2, 3] }, { items: 'x' }, {}] },
    { wf: items, inputs: [{ items: [1, 2, 3, 4, 5] }, { items: 'nope' }, { items: [] }] },
    { wf: waits, inputs: [{}, { ms: 0, at: 0 }, { badTime: true }, { bigint: true }, { throwAt: 'pass' }, { ms: -1 }] },
    { wf: loops, inputs: [{ n: 0 }, { n: 60 }] },
    { wf: spinning, inputs: [{ spin: true }, { spin: false }] },
  ];
}
