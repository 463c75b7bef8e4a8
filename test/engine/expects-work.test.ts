import { describe, expect, it } from 'vitest';
import { begin, decide, expectsWork, restore, persist, type Snapshot } from '../../src/engine/decide.js';
import { workflow } from '../../src/index.js';

/** Whether a claimed work row is still wanted: read from the snapshot through xstate's public API only. */

const noop = async () => null;

const flow = workflow<any>('expects')
  .task('first', noop, { resultPath: 'first', compensate: { name: 'undoFirst', handler: noop } })
  .map('each', { itemsPath: 'items', handler: noop, concurrency: 2, resultPath: 'each', catch: [{ errors: ['Stop'], next: 'after' }] })
  .wait('pause', { durationMs: 100 })
  .task('after', noop, { resultPath: 'after' })
  .choice('again', { choices: [{ when: (d) => d.after === 'loop', next: 'first' }], default: 'boom' })
  .fail('boom', { error: 'Boom' })
  .build();

const task = (key: string) => ({ kind: 'task' as const, key });

describe('expectsWork', () => {
  it('wants the active task on its visit, and nothing else', () => {
    const { snapshot } = begin(flow, { items: [1, 2, 3] });
    expect(expectsWork(snapshot, task('first'))).toBe(true);
    expect(expectsWork(snapshot, task('after'))).toBe(false);
    expect(expectsWork(snapshot, task('first#2'))).toBe(false);
    const next = decide(flow, snapshot, { type: 'STEP_SUCCEEDED', key: 'first', output: 1 }).snapshot;
    expect(expectsWork(next, task('first'))).toBe(false);
  });

  it('wants running map items only, and none once the map is left by a catch', () => {
    let s: Snapshot = decide(flow, begin(flow, { items: [1, 2, 3] }).snapshot, { type: 'STEP_SUCCEEDED', key: 'first', output: 1 }).snapshot;
    expect([0, 1, 2].map((i) => expectsWork(s, task(`each[${i}]`)))).toEqual([true, true, false]);
    s = decide(flow, s, { type: 'STEP_SUCCEEDED', key: 'each[0]', output: 'a' }).snapshot;
    expect([0, 1, 2].map((i) => expectsWork(s, task(`each[${i}]`)))).toEqual([false, true, true]);
    s = decide(flow, s, { type: 'STEP_FAILED', key: 'each[1]', error: { code: 'Stop', message: 'stop' } }).snapshot;
    // 'each[2]' is still marked running in the context, but its state is no longer active.
    expect(s.context.maps.each?.progress[2]).toBe('r');
    expect(expectsWork(s, task('each[2]'))).toBe(false);
    expect(expectsWork(s, task('after'))).toBe(true);
  });

  it('wants an armed timer until it fires, also on a snapshot restored from JSON', () => {
    let s: Snapshot = begin(flow, { items: [] }).snapshot;
    s = decide(flow, s, { type: 'STEP_SUCCEEDED', key: 'first', output: 1 }).snapshot;
    const timer = { kind: 'timer' as const, key: 'pause' };
    expect(expectsWork(s, timer)).toBe(true);
    expect(expectsWork(restore(flow, JSON.parse(JSON.stringify(persist(s)))), timer)).toBe(true);
    s = decide(flow, s, { type: 'TIMER_FIRED', key: 'pause' }).snapshot;
    expect(expectsWork(s, timer)).toBe(false);
  });

  it('wants the second visit of a loop, not the first, and the compensation on top of the stack', () => {
    let s: Snapshot = begin(flow, { items: [] }).snapshot;
    s = decide(flow, s, { type: 'STEP_SUCCEEDED', key: 'first', output: 1 }).snapshot;
    s = decide(flow, s, { type: 'TIMER_FIRED', key: 'pause' }).snapshot;
    s = decide(flow, s, { type: 'STEP_SUCCEEDED', key: 'after', output: 'loop' }).snapshot;
    expect(expectsWork(s, task('first#2'))).toBe(true);
    expect(expectsWork(s, task('first'))).toBe(false);
    s = decide(flow, s, { type: 'STEP_SUCCEEDED', key: 'first#2', output: 2 }).snapshot;
    s = decide(flow, s, { type: 'TIMER_FIRED', key: 'pause#2' }).snapshot;
    s = decide(flow, s, { type: 'STEP_SUCCEEDED', key: 'after#2', output: 'end' }).snapshot;
    // 'boom' failed the execution: the compensations run, last completed first.
    expect(expectsWork(s, { kind: 'compensation', key: 'first#2' })).toBe(true);
    expect(expectsWork(s, { kind: 'compensation', key: 'first' })).toBe(false);
  });
});
