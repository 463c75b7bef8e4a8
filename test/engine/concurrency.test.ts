import { afterEach, describe, expect, it } from 'vitest';
import { HistoryEventType as T, outcomeOf, replay, workflow, type Store } from '../../src/index.js';
import { virtualEngine } from '../helpers/virtual-engine.js';

type Harness = Awaited<ReturnType<typeof virtualEngine>>;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A workflow whose one step waits on a latch per execution, recording how many run at once. */
function gated(concurrency: Record<string, unknown>) {
  const gates = new Map<string, () => void>();
  const order: string[] = [];
  let running = 0;
  let peak = 0;
  const wf = workflow<{ customer: string }>('orders', { concurrency: concurrency as never })
    .task('work', async (_d, ctx) => {
      order.push(ctx.executionId);
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => gates.set(ctx.executionId, resolve));
      running--;
      return 'ok';
    })
    .build();
  return { wf, gates, order, peak: () => peak };
}

/** The engine is idle but for handlers blocked on their latches (which never finish on their own). */
const quiet = () => h!.engine.idle({ handlerGraceMs: 20 });

async function statusOf(store: Store, id: string) {
  return (await store.getExecution(id))?.status;
}

describe('concurrency keys', () => {
  it('queues starts beyond the per-key limit and begins them in arrival order as slots free', async () => {
    const g = gated({ key: (i: { customer: string }) => i.customer, limit: 1 });
    h = await virtualEngine([g.wf]);
    const first = await h.engine.startExecution('orders', { customer: 'c1' }, { id: 'a' });
    await h.engine.startExecution('orders', { customer: 'c1' }, { id: 'b' });
    const third = await h.engine.startExecution('orders', { customer: 'c1' }, { id: 'c' });
    await h.engine.startExecution('orders', { customer: 'c2' }, { id: 'other' });
    expect(first.execution.status).toBe('QUEUED');
    expect(third.execution.status).toBe('QUEUED');
    await quiet();
    expect(g.order.sort()).toEqual(['a', 'other']);
    expect(await statusOf(h.store, 'b')).toBe('QUEUED');
    expect((await h.engine.listExecutions({ status: 'QUEUED' })).items.map((e) => e.id).sort()).toEqual(['b', 'c']);
    g.gates.get('a')!();
    await quiet();
    expect(await statusOf(h.store, 'a')).toBe('SUCCEEDED');
    expect(await statusOf(h.store, 'b')).toBe('RUNNING');
    expect(await statusOf(h.store, 'c')).toBe('QUEUED');
    g.gates.get('b')!();
    await quiet();
    g.gates.get('c')!();
    g.gates.get('other')!();
    await quiet();
    for (const id of ['a', 'b', 'c', 'other']) expect(await statusOf(h.store, id)).toBe('SUCCEEDED');
    expect(g.order).toEqual(['a', 'other', 'b', 'c'].sort((x, y) => g.order.indexOf(x) - g.order.indexOf(y)));
    expect(g.order.indexOf('b')).toBeLessThan(g.order.indexOf('c'));
    const history = await h.history('b');
    expect(history.map((e) => e.type).slice(0, 2)).toEqual([T.ExecutionStarted, T.ExecutionQueued]);
  });

  it('holds a total per workflow, and a key limit with a total together', async () => {
    const g = gated({ key: (i: { customer: string }) => i.customer, limit: 2, total: 3 });
    h = await virtualEngine([g.wf]);
    for (let i = 0; i < 8; i++) await h.engine.startExecution('orders', { customer: i < 5 ? 'c1' : `c${i}` }, { id: `o${i}` });
    await quiet();
    expect(g.order).toEqual(['o0', 'o1']);
    for (let round = 0; round < 8 && g.order.length < 8; round++) {
      for (const id of [...g.gates.keys()]) {
        g.gates.get(id)!();
        g.gates.delete(id);
      }
      await quiet();
    }
    expect(g.order).toHaveLength(8);
    expect(g.peak()).toBeLessThanOrEqual(3);
  });

  it('cancels a queued execution: it ends CANCELLED without running, and frees nothing it did not hold', async () => {
    const g = gated({ limit: 1 });
    h = await virtualEngine([g.wf]);
    await h.engine.startExecution('orders', { customer: 'x' }, { id: 'run' });
    await h.engine.startExecution('orders', { customer: 'x' }, { id: 'wait1' });
    await h.engine.startExecution('orders', { customer: 'x' }, { id: 'wait2' });
    await quiet();
    const cancelled = await h.engine.cancel('wait1');
    expect(cancelled.status).toBe('CANCELLED');
    await quiet();
    expect(g.order).toEqual(['run']);
    expect(await statusOf(h.store, 'wait2')).toBe('QUEUED');
    g.gates.get('run')!();
    await quiet();
    expect(g.order).toEqual(['run', 'wait2']);
    g.gates.get('wait2')!();
    await quiet();
    expect(await statusOf(h.store, 'wait2')).toBe('SUCCEEDED');
  });

  it('refuses a start whose key function throws', async () => {
    const wf = workflow<{ customer?: { id: string } }>('keyed', { concurrency: { key: (i) => i.customer!.id, limit: 1 } }).succeed('done').build();
    h = await virtualEngine([wf]);
    await expect(h.engine.startExecution('keyed', {})).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('a limited workflow and the doors that reopen or feed an execution', () => {
  function heldWorkflow(fail: { a: boolean }) {
    return workflow<{ c: string; n: string }>('limited', { concurrency: { key: (i: { c: string }) => i.c, limit: 1 } })
      .task('t', async (d) => { if (d.n === 'a' && fail.a) throw Object.assign(new Error('x'), { name: 'X' }); return {}; },
        { catch: [{ errors: ['X'], next: 'hold' }] })
      .waitForEvent('w', { event: 'go' })
      .succeed('done')
      .fail('hold', { error: 'X', compensate: false })
      .build();
  }

  it('refuses an event to a QUEUED execution as not started', async () => {
    h = await virtualEngine([heldWorkflow({ a: false })]);
    await h.start('limited', { c: 'x', n: 'b' }, 'b');
    await h.start('limited', { c: 'x', n: 'q' }, 'q');
    await quiet();
    expect(await statusOf(h.store, 'q')).toBe('QUEUED');
    await expect(h.engine.sendEvent('q', 'go', {})).rejects.toMatchObject({ code: 'EXECUTION_NOT_STARTED' });
  });

  it('queues a redrive behind the running execution of its key, and redrives the machine when the slot frees', async () => {
    const fail = { a: true };
    const wf = heldWorkflow(fail);
    h = await virtualEngine([wf]);
    await h.start('limited', { c: 'x', n: 'a' }, 'a');
    expect((await h.runToEnd('a')).status).toBe('FAILED');
    fail.a = false;
    await h.start('limited', { c: 'x', n: 'b' }, 'b');
    await quiet();
    expect(await statusOf(h.store, 'b')).toBe('RUNNING'); // holds key x, waiting for 'go'

    const { count } = await h.engine.redrive('a');
    expect(count).toBe(1);
    await quiet();
    expect(await statusOf(h.store, 'a')).toBe('QUEUED');
    expect((await h.store.getExecution('a'))?.error ?? null).toBeNull();
    await expect(h.engine.redrive('a')).rejects.toMatchObject({ code: 'EXECUTION_NOT_FAILED' });
    await expect(h.engine.sendEvent('a', 'go', {})).rejects.toMatchObject({ code: 'EXECUTION_NOT_STARTED' });
    await expect(h.engine.cancel('a')).rejects.toMatchObject({ code: 'EXECUTION_NOT_STARTED' });
    expect((await h.history('a')).map((e) => e.type).slice(-2)).toEqual([T.ExecutionFailed, T.ExecutionQueued]);

    await h.engine.sendEvent('b', 'go', {});
    expect((await h.runToEnd('b')).status).toBe('SUCCEEDED');
    await quiet();
    expect(await statusOf(h.store, 'a')).toBe('RUNNING');
    await h.engine.sendEvent('a', 'go', {});
    expect((await h.runToEnd('a')).status).toBe('SUCCEEDED');
    const events = await h.history('a');
    const types = events.map((e) => e.type);
    expect(types.slice(types.indexOf(T.ExecutionFailed))).toEqual([
      T.ExecutionFailed, T.ExecutionQueued, T.ExecutionRedriven, T.StepStarted, T.StepSucceeded, T.StateEntered, T.EventReceived, T.EventConsumed,
      T.StateEntered, T.ExecutionSucceeded,
    ]);
    expect(events.find((e) => e.type === T.ExecutionQueued && e.data?.redrive === 1)?.data?.scopes).toEqual(['limited/key:x']);
    // The stored snapshot is what the history says (the redrive is folded in where it ran).
    expect(outcomeOf(replay(wf, events)).status).toBe('SUCCEEDED');
  });
});
