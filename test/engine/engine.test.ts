import { afterEach, describe, expect, it } from 'vitest';
import { HistoryEventType as T, TerminalError, VirtualClock, workflow, type StepContext } from '../../src/index.js';
import { trace, virtualEngine } from '../helpers/virtual-engine.js';

type Harness = Awaited<ReturnType<typeof virtualEngine>>;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

class Flaky extends Error {
  override readonly name = 'Flaky';
}

const DAY = 24 * 3600 * 1000;

describe('durable timers on a virtual clock', () => {
  it('runs a three-day wait in milliseconds, firing once and not early', async () => {
    const wf = workflow('sleepy').wait('nap', { durationMs: 3 * DAY }).task('after', async () => 'awake').build();
    h = await virtualEngine([wf]);
    const startedAt = h.clock.now();
    const id = await h.start('sleepy', {});
    const end = await h.runToEnd(id);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toBe('awake');
    const events = await h.history(id);
    const started = events.filter((e) => e.type === T.TimerStarted);
    const fired = events.filter((e) => e.type === T.TimerFired);
    expect(started).toHaveLength(1);
    expect(fired).toHaveLength(1);
    expect(started[0].data?.dueAt).toBe(startedAt + 3 * DAY);
    // On the virtual clock, at its time exactly: three real days cannot have passed.
    expect(fired[0].timestamp).toBe(startedAt + 3 * DAY);
  });

  it('waits until a timestamp taken from the data', async () => {
    const wf = workflow<{ at: string }>('until').wait('w', { until: (d) => d.at }).succeed('done').build();
    h = await virtualEngine([wf]);
    const at = new Date(h.clock.now() + 90_000).toISOString();
    const id = await h.start('until', { at });
    await h.runToEnd(id);
    const fired = (await h.history(id)).find((e) => e.type === T.TimerFired)!;
    expect(fired.timestamp).toBe(Date.parse(at));
  });
});

describe('retries', () => {
  it('retries a matching error with exponential backoff, one idempotency key across attempts', async () => {
    const seen: Array<{ attempt: number; key: string; at: number }> = [];
    let clockNow = () => 0;
    const wf = workflow('retrying')
      .task('call', async (_x: unknown, ctx: StepContext) => {
        seen.push({ attempt: ctx.attempt, key: ctx.idempotencyKey, at: clockNow() });
        if (ctx.attempt < 3) throw new Flaky('try again');
        return 'ok';
      }, { retry: [{ errors: ['Flaky'], intervalMs: 1000, backoffRate: 3, maxAttempts: 3, jitter: 'none' }] })
      .build();
    h = await virtualEngine([wf]);
    clockNow = () => h!.clock.now();
    const id = await h.start('retrying', {});
    expect((await h.runToEnd(id)).status).toBe('SUCCEEDED');
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    expect(new Set(seen.map((s) => s.key)).size).toBe(1);
    expect(seen[1].at - seen[0].at).toBe(1000);
    expect(seen[2].at - seen[1].at).toBe(3000);
    const events = await h.history(id);
    expect(trace(events, [T.StepFailed, T.RetryScheduled, T.StepSucceeded])).toEqual([
      'StepFailed:call', 'RetryScheduled:call', 'StepFailed:call', 'RetryScheduled:call', 'StepSucceeded:call',
    ]);
    expect(events.filter((e) => e.type === T.RetryScheduled).map((e) => e.data?.delayMs)).toEqual([1000, 3000]);
  });

  it('gives up after maxAttempts and fails with the last error', async () => {
    let calls = 0;
    const wf = workflow('exhaust').task('call', async () => { calls++; throw new Flaky(`failure ${calls}`); }, { retry: [{ maxAttempts: 4, intervalMs: 10 }] }).build();
    h = await virtualEngine([wf]);
    const end = await h.runToEnd(await h.start('exhaust', {}));
    expect(calls).toBe(4);
    expect(end.status).toBe('FAILED');
    expect(end.error).toEqual({ code: 'Flaky', message: 'failure 4' });
  });

  it('never retries a terminal error, but a catch route still applies', async () => {
    let calls = 0;
    const wf = workflow('terminal')
      .task('charge', async () => { calls++; throw new TerminalError('Declined', 'card declined'); }, {
        retry: [{ errors: ['*'], maxAttempts: 5 }],
        catch: [{ errors: ['Declined'], next: 'apologise', resultPath: 'why' }],
      })
      .succeed('paid')
      .task('apologise', async (d: { why: { code: string } }) => `sorry: ${d.why.code}`)
      .build();
    h = await virtualEngine([wf]);
    const end = await h.runToEnd(await h.start('terminal', {}));
    expect(calls).toBe(1);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toBe('sorry: Declined');
  });
});

describe('sagas', () => {
  it('runs the compensations of completed steps in reverse order and ends FAILED with the original error', async () => {
    const undone: string[] = [];
    const undo = (name: string) => ({ name: `undo_${name}`, handler: async () => { undone.push(name); } });
    const wf = workflow('saga')
      .task('a', async () => 'A', { compensate: undo('a') })
      .task('b', async () => 'B', { compensate: undo('b') })
      .task('noUndo', async () => 'N')
      .task('c', async () => 'C', { compensate: undo('c') })
      .task('boom', async () => { throw new TerminalError('Boom', 'nope'); })
      .build();
    h = await virtualEngine([wf]);
    const id = await h.start('saga', {});
    const end = await h.runToEnd(id);
    expect(end.status).toBe('FAILED');
    expect(end.error).toEqual({ code: 'Boom', message: 'nope' });
    expect(undone).toEqual(['c', 'b', 'a']);
    expect(trace(await h.history(id), [T.CompensationStarted, T.CompensationSucceeded])).toEqual([
      'CompensationStarted:undo_c', 'CompensationSucceeded:undo_c',
      'CompensationStarted:undo_b', 'CompensationSucceeded:undo_b',
      'CompensationStarted:undo_a', 'CompensationSucceeded:undo_a',
    ]);
  });

  it('retries a failing compensation with its own policy and gives it the step input and output', async () => {
    const got: unknown[] = [];
    let tries = 0;
    const wf = workflow<{ sku: string }>('comp-retry')
      .task('reserve', async (x) => ({ reservation: `r-${x.sku}` }), {
        compensate: {
          name: 'release',
          retry: [{ maxAttempts: 3, intervalMs: 50, jitter: 'none' }],
          handler: async (arg) => { got.push(arg); if (++tries < 2) throw new Flaky('busy'); },
        },
      })
      .fail('stop', { error: 'Stopped' })
      .build();
    h = await virtualEngine([wf]);
    const id = await h.start('comp-retry', { sku: 'x1' });
    const end = await h.runToEnd(id);
    expect(end.error?.code).toBe('Stopped');
    expect(tries).toBe(2);
    expect(got[0]).toEqual({ input: { sku: 'x1' }, output: { reservation: 'r-x1' } });
    expect(trace(await h.history(id), [T.CompensationFailed, T.RetryScheduled, T.CompensationSucceeded])).toEqual([
      'CompensationFailed:release', 'RetryScheduled:release', 'CompensationSucceeded:release',
    ]);
  });

  it('cancels during a wait: the timer is dropped, compensations run, the execution ends CANCELLED', async () => {
    const undone: string[] = [];
    const wf = workflow('cancel-me')
      .task('book', async () => 'booked', { compensate: { name: 'unbook', handler: async () => { undone.push('unbook'); } } })
      .wait('hold', { durationMs: DAY })
      .task('never', async () => 'x')
      .build();
    h = await virtualEngine([wf]);
    const id = await h.start('cancel-me', {});
    await h.engine.idle();
    await h.engine.cancel(id);
    const end = await h.runToEnd(id);
    expect(end.status).toBe('CANCELLED');
    expect(undone).toEqual(['unbook']);
    expect(await h.store.listWork(id)).toEqual([]);
    const types = trace(await h.history(id));
    expect(types).toContain('CancelRequested');
    expect(types).not.toContain('TimerFired:hold');
    expect(types[types.length - 1]).toBe('ExecutionCancelled');
    await expect(h.engine.cancel(id)).rejects.toMatchObject({ code: 'EXECUTION_ENDED' });
  });
});

describe('timeouts and misbehaving handlers', () => {
  it('fails a hanging handler with Stepwise.Timeout and fires its AbortSignal', async () => {
    let aborted = false;
    const clock = new VirtualClock();
    const wf = workflow('hang')
      .task('stuck', async (_x: unknown, ctx: StepContext) => {
        ctx.signal.addEventListener('abort', () => { aborted = true; });
        await clock.sleep(undefined, ctx.signal); // hangs until aborted: only virtual time can end it
        return 'too late';
      }, { timeoutMs: 5000 })
      .build();
    h = await virtualEngine([wf], { clock });
    const startedAt = clock.now();
    const end = await h.runToEnd(await h.start('hang', {}));
    expect(end.status).toBe('FAILED');
    expect(end.error?.code).toBe('Stepwise.Timeout');
    expect(aborted).toBe(true);
    expect(end.endedAt! - startedAt).toBe(5000);
  });

  it('a handler that reads its signal only after a cancel finds it aborted, also through a copy of its context', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    let running!: () => void;
    const started = new Promise<void>((resolve) => { running = resolve; });
    const seen: Array<{ aborted: boolean; reason: string }> = [];
    let read!: () => void;
    const readBoth = new Promise<void>((resolve) => { read = resolve; });
    const wf = workflow('late-reader')
      .task('work', async (_x: unknown, ctx: StepContext) => {
        running();
        await released;
        const copy = { ...ctx };
        seen.push({ aborted: copy.signal.aborted, reason: String((copy.signal.reason as Error | undefined)?.message) });
        seen.push({ aborted: ctx.signal.aborted, reason: String((ctx.signal.reason as Error | undefined)?.message) });
        read();
        return 'done';
      })
      .build();
    h = await virtualEngine([wf]);
    const id = await h.start('late-reader', {});
    const ending = h.runToEnd(id);
    await started;
    await h.engine.cancel(id);
    release();
    expect((await ending).status).toBe('CANCELLED');
    await readBoth;
    expect(seen[0]).toEqual({ aborted: true, reason: 'the step was left (cancel or failure elsewhere)' });
    expect(seen[1]).toEqual(seen[0]);
  });

  it('waits for a handler that works in real time however slow, instead of timing it out on the virtual clock', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    let called!: () => void;
    const calledOnce = new Promise<void>((resolve) => { called = resolve; });
    const wf = workflow('slow-real')
      .task('work', async () => { called(); await released; return 'done'; }, { timeoutMs: 1000 })
      .build();
    h = await virtualEngine([wf]);
    const virtualStart = h.clock.now();
    const id = await h.start('slow-real', {});
    const ending = h.runToEnd(id);
    await calledOnce;
    // The handler is busy (not sleeping on the clock) for as long as the test holds it: real time
    // passes, virtual time must not, or its 1 s timeout would fire under it. (This pause decides
    // nothing for a correct helper, which passes however long it is; it gives a helper that moves
    // time after a fixed real-time grace the chance to do so, and fail.)
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(h.clock.now()).toBe(virtualStart);
    release();
    const end = await ending;
    expect(end).toMatchObject({ status: 'SUCCEEDED', output: 'done' });
    expect(end.endedAt).toBe(virtualStart);
    expect(trace(await h.history(id), [T.StepFailed])).toEqual([]);
  });

  it.each([
    ['a string', () => { throw 'plain string'; }, 'Stepwise.NonErrorThrown'],
    ['null', () => { throw null; }, 'Stepwise.NonErrorThrown'],
    ['a BigInt', () => ({ n: 10n }), 'Stepwise.OutputNotJson'],
    ['a cycle', () => { const o: Record<string, unknown> = {}; o.self = o; return o; }, 'Stepwise.OutputNotJson'],
    ['a function', () => ({ f: () => 1 }), 'Stepwise.OutputNotJson'],
    ['too much', () => 'x'.repeat(300 * 1024), 'Stepwise.OutputTooLarge'],
  ])('turns a handler that returns or throws %s into a StepFailed with a stable code', async (_what, handler, code) => {
    const wf = workflow('bad').task('b', handler as never, { retry: [{ errors: [code], maxAttempts: 2, intervalMs: 1 }] }).build();
    h = await virtualEngine([wf]);
    const id = await h.start('bad', {});
    const end = await h.runToEnd(id);
    expect(end.error?.code).toBe(code);
    const failures = (await h.history(id)).filter((e) => e.type === T.StepFailed);
    expect(failures).toHaveLength(2); // retried as its policy says
    expect((failures[0].data?.error as { code: string }).code).toBe(code);
  });

  it('accepts a handler that returns nothing: its output is empty', async () => {
    const wf = workflow('void').task('v', async () => undefined).build();
    h = await virtualEngine([wf]);
    const end = await h.runToEnd(await h.start('void', {}));
    expect(end).toMatchObject({ status: 'SUCCEEDED', output: null });
  });

  it('keeps the execution state safe from a handler that mutates its input', async () => {
    const wf = workflow<{ list: number[] }>('mutant')
      .task('evil', async (d) => { d.list.push(666); return null; }, { resultPath: null })
      .pass('show', { transform: (d) => d.list })
      .build();
    h = await virtualEngine([wf]);
    expect((await h.runToEnd(await h.start('mutant', { list: [1] }))).output).toEqual([1]);
  });
});

describe('parallel, map and choice', () => {
  it('joins parallel branches when all finish, outputs in branch order', async () => {
    const wf = workflow<number>('par')
      .parallel('both', [
        (b) => b.task('slow', async (n) => { await new Promise((r) => setTimeout(r, 20)); return n * 2; }),
        (b) => b.task('fast', async (n) => n + 1).task('fast2', async (n) => n * 10),
      ])
      .build();
    h = await virtualEngine([wf]);
    expect((await h.runToEnd(await h.start('par', 5))).output).toEqual([10, 60]);
  });

  it('maps over items with at most `concurrency` handlers at once, results in item order', async () => {
    let running = 0;
    let peak = 0;
    const wf = workflow<{ items: number[] }>('mapper')
      .map('square', {
        itemsPath: 'items',
        concurrency: 3,
        handler: async (n, ctx) => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 2));
          running--;
          expect(ctx.index).toBe(n);
          return n * n;
        },
      })
      .build();
    h = await virtualEngine([wf]);
    const id = await h.start('mapper', { items: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
    const end = await h.runToEnd(id);
    expect(end.error).toBeUndefined();
    expect(end.output).toEqual([0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
    expect((await h.history(id)).filter((e) => e.type === T.StepSucceeded)).toHaveLength(10);
  });

  it('fails a map whose items path is not an array, naming the state', async () => {
    // The types only allow an array path; the input at run time is another matter.
    const wf = workflow<{ items: number[] }>('badmap').map('m', { itemsPath: 'items', handler: async (x) => x }).build();
    h = await virtualEngine([wf]);
    const end = await h.runToEnd(await h.start('badmap', { items: 'nope' }));
    expect(end.error).toEqual({ code: 'Stepwise.MapItemsNotArray', message: "map 'm': 'items' is not an array" });
  });

  it('loops through a choice, each visit a new step key with exactly one success', async () => {
    const keys: string[] = [];
    const wf = workflow<{ n: number }>('loop')
      .task('inc', async (d, ctx) => { keys.push(ctx.idempotencyKey); return { n: d.n + 1 }; })
      .choice('again', { choices: [{ when: (d) => d.n < 3, next: 'inc' }], default: 'done' })
      .succeed('done')
      .build();
    h = await virtualEngine([wf]);
    const id = await h.start('loop', { n: 0 });
    expect((await h.runToEnd(id)).output).toEqual({ n: 3 });
    expect(new Set(keys).size).toBe(3);
    const successKeys = (await h.history(id)).filter((e) => e.type === T.StepSucceeded).map((e) => e.data?.key);
    expect(successKeys).toEqual(['inc', 'inc#2', 'inc#3']);
  });
});

describe('starting executions', () => {
  it('is idempotent on id and input, and refuses the same id with another input', async () => {
    const wf = workflow('idem').task('t', async (x) => x).build();
    h = await virtualEngine([wf]);
    const first = await h.engine.startExecution('idem', { a: 1, b: [1, 2] }, { id: 'order-1' });
    expect(first.created).toBe(true);
    const again = await h.engine.startExecution('idem', { b: [1, 2], a: 1 }, { id: 'order-1' });
    expect(again.created).toBe(false);
    expect(again.execution.id).toBe('order-1');
    await expect(h.engine.startExecution('idem', { a: 2 }, { id: 'order-1' })).rejects.toMatchObject({ code: 'EXECUTION_CONFLICT' });
    await expect(h.engine.startExecution('nope', {})).rejects.toMatchObject({ code: 'WORKFLOW_NOT_FOUND' });
    await expect(h.engine.startExecution('idem', {}, { id: '../etc' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('records the definition version and finishes on it after a new version is registered', async () => {
    const v1 = workflow('versioned').wait('w', { durationMs: 1000 }).task('t', async () => 'v1').build();
    const v2 = workflow('versioned').wait('w', { durationMs: 2000 }).task('t', async () => 'v2').task('extra', async () => 'v2+').build();
    h = await virtualEngine([v1]);
    const id = await h.start('versioned', {});
    await h.engine.idle();
    h.engine.register(v2);
    const end = await h.runToEnd(id);
    expect(end.version).toBe(v1.version);
    expect(end.output).toBe('v1');
    const id2 = await h.start('versioned', {});
    expect((await h.runToEnd(id2)).version).toBe(v2.version);
  });
});

describe('edge routes the review found', () => {
  it('re-enters a task whose catch route goes back to itself', async () => {
    let calls = 0;
    const wf = workflow('self-catch')
      .task('flaky', async () => { if (++calls < 3) throw new TerminalError('Again'); return calls; }, { catch: [{ errors: ['Again'], next: 'flaky' }] })
      .build();
    h = await virtualEngine([wf]);
    const end = await h.runToEnd(await h.start('self-catch', {}));
    expect(end).toMatchObject({ status: 'SUCCEEDED', output: 3 });
  });

  it('routes a fault to the branch that raised it, not to a sibling branch', async () => {
    const wf = workflow('branches')
      .parallel('p', [
        (b) => b.wait('q', { durationMs: 1000, }),
        (b) => b.pass('boom', { transform: () => { throw new Error('transform broke'); } }),
      ], { catch: [{ errors: ['*'], next: 'recovered' }] })
      .succeed('ok')
      .pass('recovered', { transform: (d) => `recovered: ${(d as unknown as { error: { message: string } }).error.message}` })
      .build();
    h = await virtualEngine([wf]);
    const end = await h.runToEnd(await h.start('branches', {}));
    expect(end).toMatchObject({ status: 'SUCCEEDED', output: 'recovered: transform broke' });
  });

  it("applies a map's own catch to its own fault (items path not an array)", async () => {
    const wf = workflow<{ items: number[] }>('map-catch')
      .map('m', { itemsPath: 'items', handler: async (x) => x, catch: [{ errors: ['*'], next: 'fallback' }] })
      .succeed('ok')
      .pass('fallback', { transform: () => 'fell back' })
      .build();
    h = await virtualEngine([wf]);
    expect(await h.runToEnd(await h.start('map-catch', { items: 'nope' }))).toMatchObject({ status: 'SUCCEEDED', output: 'fell back' });
  });

  it('fails one execution whose transform returns what JSON cannot hold, and no other', async () => {
    const wf = workflow<{ bad: boolean }>('poison')
      .pass('shape', { transform: (d) => (d.bad ? { n: 10n } : { n: 10 }) })
      .build();
    h = await virtualEngine([wf]);
    const ids = await Promise.all([true, false, false].map((bad) => h!.start('poison', { bad })));
    const ends = await Promise.all(ids.map((id) => h!.runToEnd(id)));
    expect(ends.map((e) => e.status)).toEqual(['FAILED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(ends[0].error?.code).toBe('Stepwise.OutputNotJson');
  });
});

describe('loops that never wait', () => {
  it('runs a counting loop of pass and choice states to its end', async () => {
    const wf = workflow<{ n: number }>('count')
      .pass('inc', { transform: (d) => ({ n: d.n + 1 }) })
      .choice('more', { choices: [{ when: (d) => d.n < 100, next: 'inc' }], default: 'done' })
      .succeed('done')
      .build();
    h = await virtualEngine([wf]);
    expect(await h.runToEnd(await h.start('count', { n: 0 }))).toMatchObject({ status: 'SUCCEEDED', output: { n: 100 } });
  });

  it('stops one that would spin forever, with Stepwise.EndlessLoop', async () => {
    const wf = workflow<{ n: number }>('forever')
      .pass('same', { transform: (d) => d })
      .choice('again', { choices: [{ when: () => true, next: 'same' }], default: 'done' })
      .succeed('done')
      .build();
    h = await virtualEngine([wf]);
    const end = await h.runToEnd(await h.start('forever', { n: 0 }));
    expect(end.error?.code).toBe('Stepwise.EndlessLoop');
  });
});

describe('runaway loops the review found', () => {
  it('stops a map whose catch goes back to itself, and keeps the engine responsive', async () => {
    const wf = workflow<{ items: number[] }>('map-self')
      .map('m', { itemsPath: 'items', handler: async (x) => x, catch: [{ errors: ['*'], next: 'm' }] })
      .build();
    h = await virtualEngine([wf]);
    const end = await h.runToEnd(await h.start('map-self', { items: 'nope' }));
    expect(end.error?.code).toBe('Stepwise.EndlessLoop');
  });

  it('stops a loop through a zero-length wait without overflowing the stack', async () => {
    const wf = workflow('zero-wait')
      .choice('c', { choices: [{ when: () => true, next: 'z' }], default: 'done' })
      .wait('z', { durationMs: 0, next: 'c' })
      .succeed('done')
      .build();
    h = await virtualEngine([wf]);
    const end = await h.runToEnd(await h.start('zero-wait', {}));
    expect(end.error?.code).toBe('Stepwise.EndlessLoop');
  });

  it('keeps each branch fault for its own state when two branches fault at once', async () => {
    const wf = workflow<{ items: number[] }>('two-faults')
      .parallel('p', [
        (b) => b.pass('a', { transform: () => { throw new Error('a broke'); } }),
        (b) => b.map('m', { itemsPath: 'items', handler: async (x) => x, catch: [{ errors: ['*'], next: 'x' }] }).succeed('s').pass('x', {}),
      ])
      .build();
    h = await virtualEngine([wf]);
    const end = await h.runToEnd(await h.start('two-faults', { items: 'nope' }));
    expect(end.status).toBe('FAILED');
    expect(end.error?.message).toBe('a broke');
  });
});
