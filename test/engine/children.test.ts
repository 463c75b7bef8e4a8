import { afterEach, describe, expect, it } from 'vitest';
import { HistoryEventType as T, TerminalError, workflow } from '../../src/index.js';
import { trace, virtualEngine } from '../helpers/virtual-engine.js';

type Harness = Awaited<ReturnType<typeof virtualEngine>>;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

class Unavailable extends Error {
  override readonly name = 'Shipping.Unavailable';
}

function shipping(fail: () => boolean, calls: string[] = []) {
  return workflow<{ order: string }>('shipping')
    .task('book', async (d, ctx) => {
      calls.push(ctx.executionId);
      if (fail()) throw new Unavailable('no carrier');
      return { tracking: `T-${d.order}` };
    })
    .build();
}

const parentOf = (options: Record<string, unknown> = {}) => workflow<{ order: string }>('checkout')
  .invoke('ship', 'shipping', { input: (d) => ({ order: d.order }), resultPath: 'shipment', ...options })
  .succeed('done')
  .build();

describe('invoke: child workflows', () => {
  it('starts the child with a deterministic id, waits for its end and takes its output', async () => {
    h = await virtualEngine([shipping(() => false), parentOf()]);
    const id = await h.start('checkout', { order: 'o1' }, 'p-1');
    const end = await h.runToEnd(id);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toEqual({ order: 'o1', shipment: { tracking: 'T-o1' } });
    const child = await h.engine.getExecution('p-1:ship:1');
    expect(child).toMatchObject({ workflow: 'shipping', status: 'SUCCEEDED', parentId: 'p-1', input: { order: 'o1' } });
    const events = await h.history(id);
    const started = events.find((e) => e.type === T.StepStarted && e.step === 'ship')!;
    const succeeded = events.find((e) => e.type === T.StepSucceeded && e.step === 'ship')!;
    expect(started.data?.childId).toBe('p-1:ship:1');
    expect(succeeded.data?.childId).toBe('p-1:ship:1');
    const childEvents = await h.history('p-1:ship:1');
    expect(childEvents[0]).toMatchObject({ type: T.ExecutionStarted, data: { parentId: 'p-1' } });
    expect(trace(childEvents, [T.StepSucceeded, T.ExecutionSucceeded])).toEqual(['StepSucceeded:book', 'ExecutionSucceeded']);
    const children = await h.engine.listExecutions({ parentId: 'p-1' });
    expect(children.items.map((c) => c.id)).toEqual(['p-1:ship:1']);
    expect((await h.engine.getExecution('p-1')).parentId).toBeUndefined();
  });

  it("takes the child's failure as the step's: a retry invokes a new child, and catch routes the last failure", async () => {
    const wf = workflow<{ order: string }>('checkout')
      .invoke('ship', 'shipping', {
        retry: [{ errors: ['Shipping.Unavailable'], maxAttempts: 2, intervalMs: 1000 }],
        catch: [{ errors: ['Shipping.Unavailable'], next: 'held' }],
      })
      .succeed('done')
      .fail('held', { error: 'Checkout.ShippingHeld' })
      .build();
    const calls: string[] = [];
    h = await virtualEngine([shipping(() => true, calls), wf]);
    const id = await h.start('checkout', { order: 'o2' }, 'p-2');
    const end = await h.runToEnd(id);
    expect(end.status).toBe('FAILED');
    expect(end.error?.code).toBe('Checkout.ShippingHeld');
    expect(calls).toEqual(['p-2:ship:1', 'p-2:ship:2']);
    const failed = (await h.history(id)).filter((e) => e.type === T.StepFailed);
    expect(failed.map((e) => [e.data?.childId, (e.data?.error as { code: string }).code])).toEqual([
      ['p-2:ship:1', 'Shipping.Unavailable'], ['p-2:ship:2', 'Shipping.Unavailable'],
    ]);
    for (const child of ['p-2:ship:1', 'p-2:ship:2']) expect((await h.engine.getExecution(child)).status).toBe('FAILED');
    expect((await h.engine.listExecutions({ parentId: 'p-2' })).items).toHaveLength(2);
  });

  it('cancelling the parent cancels its running child, whose compensations run', async () => {
    const compensated: string[] = [];
    const slowShipping = workflow('shipping')
      .task('reserve', async () => 'slot', { compensate: { name: 'release', handler: async () => { compensated.push('release'); } } })
      .wait('truck', { durationMs: 3_600_000 })
      .build();
    h = await virtualEngine([slowShipping, parentOf()]);
    const id = await h.start('checkout', { order: 'o3' }, 'p-3');
    await h.settle();
    expect((await h.engine.getExecution('p-3:ship:1')).status).toBe('RUNNING');
    await h.engine.cancel(id);
    const end = await h.runToEnd(id);
    expect(end.status).toBe('CANCELLED');
    const child = await h.runToEnd('p-3:ship:1');
    expect(child.status).toBe('CANCELLED');
    expect(compensated).toEqual(['release']);
    const childEvents = await h.history('p-3:ship:1');
    expect(childEvents.find((e) => e.type === T.CancelRequested)?.data).toEqual({ by: 'parent' });
  });

  it("a timeout fails the step with Stepwise.Timeout and stops the child", async () => {
    const slowShipping = workflow('shipping').wait('truck', { durationMs: 3_600_000 }).build();
    h = await virtualEngine([slowShipping, parentOf({ timeoutMs: 60_000 })]);
    const id = await h.start('checkout', { order: 'o4' }, 'p-4');
    const end = await h.runToEnd(id);
    expect(end.status).toBe('FAILED');
    expect(end.error?.code).toBe('Stepwise.Timeout');
    expect((await h.runToEnd('p-4:ship:1')).status).toBe('CANCELLED');
  });

  it('fails the step with Stepwise.ChildNotStarted when the child workflow is not registered or its input cannot be made', async () => {
    const throwing = workflow('thrower').invoke('ship', 'elsewhere', { input: () => { throw new TerminalError('nope'); } }).build();
    const elsewhere = workflow('elsewhere').succeed('done').build();
    h = await virtualEngine([parentOf(), throwing, elsewhere]);
    const missing = await h.runToEnd(await h.start('checkout', { order: 'o5' }));
    expect(missing.error).toMatchObject({ code: 'Stepwise.ChildNotStarted' });
    expect(missing.error?.message).toContain("no workflow named 'shipping'");
    const bad = await h.runToEnd(await h.start('thrower', {}));
    expect(bad.error?.message).toContain('input function threw: nope');
  });

  it('a loop visits get their own children', async () => {
    let n = 0;
    const looping = workflow<{ n?: number }>('looping')
      .invoke('ship', 'shipping', { input: () => ({ order: `x${n}` }), resultPath: null })
      .pass('count', { transform: () => ({ n: ++n }) })
      .choice('again', { choices: [{ when: (d) => (d.n ?? 0) < 2, next: 'ship' }], default: 'done' })
      .succeed('done')
      .build();
    h = await virtualEngine([shipping(() => false), looping]);
    const end = await h.runToEnd(await h.start('looping', {}, 'loop-1'));
    expect(end.status).toBe('SUCCEEDED');
    expect((await h.engine.listExecutions({ parentId: 'loop-1' })).items.map((c) => c.id).sort()).toEqual(['loop-1:ship.2:1', 'loop-1:ship:1']);
  });
});

describe('a redriven parent', () => {
  it('starts a new child for the failed invoke step instead of finding the one that failed', async () => {
    let failing = true;
    const calls: string[] = [];
    const parent = workflow<{ order: string }>('checkout')
      .invoke('ship', 'shipping', { input: (d) => ({ order: d.order }), resultPath: 'shipment', catch: [{ errors: ['Shipping.Unavailable'], next: 'held' }] })
      .succeed('done')
      .fail('held', { error: 'Shipping.Unavailable', compensate: false })
      .build();
    h = await virtualEngine([shipping(() => failing, calls), parent]);
    const id = await h.start('checkout', { order: 'o1' }, 'p-1');
    expect((await h.runToEnd(id)).status).toBe('FAILED');
    failing = false;
    await h.engine.redrive(id);
    const end = await h.runToEnd(id);
    expect(end.status).toBe('SUCCEEDED');
    expect(calls).toHaveLength(2);
    expect(new Set(calls).size).toBe(2); // two children, one per run of the step
  });
});
