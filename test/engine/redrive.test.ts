import { afterEach, describe, expect, it } from 'vitest';
import { HistoryEventType as T, replay, TerminalError, workflow, type Workflow } from '../../src/index.js';
import { trace, virtualEngine } from '../helpers/virtual-engine.js';

type Harness = Awaited<ReturnType<typeof virtualEngine>>;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

class Unavailable extends TerminalError {
  constructor() { super('Shipping.Unavailable', 'no carrier today'); }
}

async function expectReplayMatches(wf: Workflow<any>, id: string) {
  const stored = await h!.store.getExecution(id);
  const replayed = replay(wf, await h!.history(id));
  expect({ value: replayed.value, context: replayed.context }).toEqual(stored!.snapshot);
}

/** A shipping step that fails until `open` is set; payment counts its calls. */
function shop(options: { hold: boolean }) {
  const calls = { pay: 0, ship: 0, refund: 0 };
  let open = false;
  const b = workflow<{ n: number }>(options.hold ? 'held' : 'plain')
    .task('pay', async () => { calls.pay++; return { paid: true }; }, {
      resultPath: 'payment', compensate: { name: 'refund', handler: async () => { calls.refund++; } },
    })
    .task('ship', async (d: { n: number }) => {
      calls.ship++;
      if (!open) throw new Unavailable();
      return { shipped: d.n };
    }, options.hold ? { catch: [{ errors: ['Shipping.Unavailable'], next: 'holdForRedrive' }] } : {});
  const wf = options.hold ? b.succeed('done').fail('holdForRedrive', { error: 'Shipping.Unavailable', compensate: false }).build() : b.build();
  return { wf, calls, openShipping: () => { open = true; } };
}

describe('redrive', () => {
  it('resumes a held failure at the state that failed, with its data; completed steps do not run again', async () => {
    const { wf, calls, openShipping } = shop({ hold: true });
    h = await virtualEngine([wf]);
    const id = await h.start('held', { n: 7 });
    const failed = await h.runToEnd(id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error?.code).toBe('Shipping.Unavailable');
    expect(calls.refund).toBe(0);
    openShipping();
    const { count, execution } = await h.engine.redrive(id);
    expect(count).toBe(1);
    expect(execution.status).toBe('RUNNING');
    expect(execution.endedAt).toBeUndefined();
    const end = await h.runToEnd(id);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toEqual({ shipped: 7 });
    expect(calls).toEqual({ pay: 1, ship: 2, refund: 0 });
    const events = await h.history(id);
    const redriven = events.find((e) => e.type === T.ExecutionRedriven)!;
    expect(redriven.data).toEqual({ count: 1, from: 'ship' });
    expect(trace(events, [T.StepSucceeded, T.ExecutionFailed, T.ExecutionRedriven, T.ExecutionSucceeded]))
      .toEqual(['StepSucceeded:pay', 'ExecutionFailed', 'ExecutionRedriven', 'StepSucceeded:ship', 'ExecutionSucceeded']);
    // The redriven step keeps its step key, so its idempotency key.
    expect(events.filter((e) => e.type === T.StepStarted && e.step === 'ship').map((e) => e.data?.key)).toEqual(['ship', 'ship']);
    await expectReplayMatches(wf, id);
  });

  it('counts redrives, and a redriven execution that fails again can be redriven again', async () => {
    const { wf, openShipping } = shop({ hold: true });
    h = await virtualEngine([wf]);
    const id = await h.start('held', { n: 1 });
    await h.runToEnd(id);
    await h.engine.redrive(id);
    expect((await h.runToEnd(id)).status).toBe('FAILED');
    openShipping();
    expect((await h.engine.redrive(id)).count).toBe(2);
    expect((await h.runToEnd(id)).status).toBe('SUCCEEDED');
    await expectReplayMatches(wf, id);
  });

  it('redrives a failure with nothing to compensate', async () => {
    let open = false;
    const wf = workflow('bare').task('only', async () => { if (!open) throw new TerminalError('Nope'); return 'ok'; }).build();
    h = await virtualEngine([wf]);
    const id = await h.start('bare', {});
    expect((await h.runToEnd(id)).status).toBe('FAILED');
    open = true;
    await h.engine.redrive(id);
    expect((await h.runToEnd(id)).output).toBe('ok');
  });

  it('refuses an execution whose compensations ran (EXECUTION_COMPENSATED)', async () => {
    const { wf, calls } = shop({ hold: false });
    h = await virtualEngine([wf]);
    const id = await h.start('plain', { n: 1 });
    expect((await h.runToEnd(id)).status).toBe('FAILED');
    expect(calls.refund).toBe(1);
    await expect(h.engine.redrive(id)).rejects.toMatchObject({ code: 'EXECUTION_COMPENSATED' });
    expect((await h.engine.getExecution(id)).status).toBe('FAILED');
  });

  it('refuses RUNNING, SUCCEEDED and CANCELLED executions (EXECUTION_NOT_FAILED) and unknown ones', async () => {
    const wf = workflow('w').waitForEvent('hold', { event: 'go' }).succeed('done').build();
    h = await virtualEngine([wf]);
    const running = await h.start('w', {});
    await h.settle();
    await expect(h.engine.redrive(running)).rejects.toMatchObject({ code: 'EXECUTION_NOT_FAILED' });
    await h.engine.sendEvent(running, 'go', null);
    await h.runToEnd(running);
    await expect(h.engine.redrive(running)).rejects.toMatchObject({ code: 'EXECUTION_NOT_FAILED' });
    const cancelled = await h.start('w', {});
    await h.settle();
    await h.engine.cancel(cancelled);
    await h.runToEnd(cancelled);
    await expect(h.engine.redrive(cancelled)).rejects.toMatchObject({ code: 'EXECUTION_NOT_FAILED' });
    await expect(h.engine.redrive('missing')).rejects.toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
  });

  it('two redrives at once: one wins, the other hears EXECUTION_NOT_FAILED', async () => {
    const { wf, openShipping } = shop({ hold: true });
    h = await virtualEngine([wf]);
    const id = await h.start('held', { n: 2 });
    await h.runToEnd(id);
    openShipping();
    const results = await Promise.allSettled([h.engine.redrive(id), h.engine.redrive(id)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason.code).toBe('EXECUTION_NOT_FAILED');
    expect((await h.runToEnd(id)).status).toBe('SUCCEEDED');
    expect((await h.history(id)).filter((e) => e.type === T.ExecutionRedriven)).toHaveLength(1);
  });
});

describe('redrive of an invoke state', () => {
  it('starts a new child instead of waiting on the one that failed; the parent\'s completed steps do not run again', async () => {
    let open = false;
    let pays = 0;
    const ship = workflow<{ n: number }>('ship').task('book', async (d: { n: number }) => {
      if (!open) throw new Unavailable();
      return { booked: d.n };
    }).build();
    const order = workflow<{ n: number }>('order')
      .task('pay', async () => { pays++; return { paid: true }; }, { resultPath: 'payment' })
      .invoke('shipIt', 'ship', { resultPath: 'shipment', catch: [{ errors: ['Shipping.Unavailable'], next: 'hold' }] })
      .succeed('done')
      .fail('hold', { error: 'Shipping.Unavailable', compensate: false })
      .build();
    h = await virtualEngine([order, ship]);
    const id = await h.start('order', { n: 3 });
    expect((await h.runToEnd(id)).status).toBe('FAILED');
    open = true;
    await h.engine.redrive(id);
    const end = await h.runToEnd(id);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toMatchObject({ payment: { paid: true }, shipment: { booked: 3 } });
    expect(pays).toBe(1);
    const children = (await h.engine.listExecutions({ parentId: id })).items.map((c) => [c.id, c.status]).sort();
    expect(children).toEqual([[`${id}:shipIt.2:1`, 'SUCCEEDED'], [`${id}:shipIt:1`, 'FAILED']]);
    await expectReplayMatches(order, id);
  });
});
