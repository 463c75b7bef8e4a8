import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, HistoryEventType as T, openStore, replay, VirtualClock, workflow } from '../../src/index.js';
import { virtualEngine } from '../helpers/virtual-engine.js';

type Harness = Awaited<ReturnType<typeof virtualEngine>>;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const HOUR = 3600_000;

/** Waits for `payment` correlated by the order id, then ends with what it received. */
const order = workflow<{ orderId: string }>('order')
  .waitForEvent<{ amount: number }, 'payment'>('awaitPayment', { event: 'payment', key: (d) => d.orderId, resultPath: 'payment' })
  .succeed('done')
  .build();

/** Waits an hour first: a payment published meanwhile arrives early. */
const slowOrder = workflow<{ orderId: string }>('slowOrder')
  .wait('prepare', { durationMs: HOUR })
  .waitForEvent<{ amount: number }, 'payment'>('awaitPayment', { event: 'payment', key: (d) => d.orderId, resultPath: 'payment' })
  .succeed('done')
  .build();

/** Waits twice on the same key: a kept event reaches it once, not once per wait. */
const twice = workflow<{ orderId: string }>('twice')
  .waitForEvent('first', { event: 'ping', key: (d: { orderId: string }) => d.orderId, resultPath: 'one' })
  .waitForEvent('second', { event: 'ping', key: (d: { orderId: string }) => d.orderId, resultPath: 'two', timeoutMs: HOUR, catch: [{ errors: ['Stepwise.Timeout'], next: 'timedOut' }] })
  .succeed('done')
  .succeed('timedOut')
  .build();

async function expectReplayMatches(id: string) {
  const stored = await h!.store.getExecution(id);
  const wf = [order, slowOrder, twice].find((w) => w.name === stored!.workflow)!;
  const replayed = replay(wf, await h!.history(id));
  expect({ value: replayed.value, context: replayed.context }).toEqual(stored!.snapshot);
}

describe('correlated events (publishEvent)', () => {
  it('reaches every execution waiting on that name and key, and no other', async () => {
    h = await virtualEngine([order]);
    const a1 = await h.start('order', { orderId: 'A' });
    const a2 = await h.start('order', { orderId: 'A' });
    const b = await h.start('order', { orderId: 'B' });
    await h.settle();
    const published = await h.engine.publishEvent({ name: 'payment', key: 'A', payload: { amount: 5 }, id: 'pay-A' });
    expect(published.created).toBe(true);
    expect(published.id).toBe('pay-A');
    expect([...published.deliveredTo].sort()).toEqual([a1, a2].sort());
    expect(published.retainedUntil).toBe(h.clock.now() + 24 * HOUR);
    // Another name with the same key reaches nobody.
    expect((await h.engine.publishEvent({ name: 'refund', key: 'B', payload: 1 })).deliveredTo).toEqual([]);
    await h.settle();
    for (const id of [a1, a2]) {
      const end = await h.engine.getExecution(id);
      expect(end.status).toBe('SUCCEEDED');
      expect(end.output).toEqual({ orderId: 'A', payment: { amount: 5 } });
      const received = (await h.history(id)).find((e) => e.type === T.EventReceived)!;
      expect(received.data).toMatchObject({ id: 'pay-A', name: 'payment', correlationKey: 'A' });
      await expectReplayMatches(id);
    }
    expect((await h.engine.getExecution(b)).status).toBe('RUNNING');
    expect((await h.history(b)).some((e) => e.type === T.EventReceived)).toBe(false);
  });

  it('keeps an event that arrives before the wait, and the wait takes it when reached', async () => {
    h = await virtualEngine([slowOrder]);
    const id = await h.start('slowOrder', { orderId: 'early' });
    await h.settle();
    const published = await h.engine.publishEvent({ name: 'payment', key: 'early', payload: { amount: 9 } });
    expect(published).toMatchObject({ created: true, deliveredTo: [] });
    expect(published.id).toMatch(/^evt-/);
    const end = await h.runToEnd(id);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toEqual({ orderId: 'early', payment: { amount: 9 } });
    await expectReplayMatches(id);
    // A replay now lists the execution it reached later.
    expect(await h.engine.publishEvent({ name: 'payment', key: 'early', payload: 'other', id: published.id })).toEqual({
      id: published.id, created: false, deliveredTo: [id], retainedUntil: published.retainedUntil,
    });
  });

  it('does not deliver an event kept past its retention', async () => {
    h = await virtualEngine([slowOrder], { correlatedEventRetentionMs: HOUR / 2 });
    const id = await h.start('slowOrder', { orderId: 'late' });
    await h.settle();
    const published = await h.engine.publishEvent({ name: 'payment', key: 'late', payload: 1 });
    expect(published.retainedUntil).toBe(h.clock.now() + HOUR / 2);
    await h.settle();
    await h.clock.advance(HOUR); // the hour's wait ends; the event expired half-way
    await h.settle();
    expect((await h.engine.getExecution(id)).status).toBe('RUNNING');
    expect((await h.history(id)).some((e) => e.type === T.StateEntered && e.step === 'awaitPayment')).toBe(true);
    expect((await h.history(id)).some((e) => e.type === T.EventReceived)).toBe(false);
    // Purged once expired: its id is free again.
    expect(await h.store.purgeCorrelatedEvents(h.clock.now(), 100)).toBe(1);
    const fresh = await h.engine.publishEvent({ name: 'payment', key: 'late', payload: 2, id: published.id });
    expect(fresh).toMatchObject({ created: true, deliveredTo: [id] });
    expect((await h.runToEnd(id)).output).toEqual({ orderId: 'late', payment: 2 });
  });

  it('a replayed id changes nothing and reaches no execution twice', async () => {
    h = await virtualEngine([order]);
    const id = await h.start('order', { orderId: 'R' });
    await h.settle();
    const first = await h.engine.publishEvent({ name: 'payment', key: 'R', payload: { amount: 1 }, id: 'dup' });
    const again = await h.engine.publishEvent({ name: 'payment', key: 'R', payload: { amount: 2 }, id: 'dup' });
    expect(again).toEqual({ ...first, created: false });
    await h.settle();
    const events = await h.history(id);
    expect(events.filter((e) => e.type === T.EventReceived)).toHaveLength(1);
    expect((await h.engine.getExecution(id)).output).toEqual({ orderId: 'R', payment: { amount: 1 } });
  });

  it('an execution gets a kept event once, though it waits on its key again', async () => {
    h = await virtualEngine([twice]);
    const id = await h.start('twice', { orderId: 'T' });
    await h.settle();
    const published = await h.engine.publishEvent({ name: 'ping', key: 'T', payload: 'once' });
    expect(published.deliveredTo).toEqual([id]);
    // The first wait takes it; the second, on the same key, does not get it again and times out.
    const end = await h.runToEnd(id);
    expect(end.output).toMatchObject({ one: 'once' });
    expect((end.output as { error?: { code: string } }).error?.code).toBe('Stepwise.Timeout');
    expect((await h.history(id)).filter((e) => e.type === T.EventReceived)).toHaveLength(1);
    await expectReplayMatches(id);
  });

  it('a wait entered later by two executions delivers the kept event to each', async () => {
    h = await virtualEngine([slowOrder]);
    const one = await h.start('slowOrder', { orderId: 'K' });
    const two = await h.start('slowOrder', { orderId: 'K' });
    await h.settle();
    await h.engine.publishEvent({ name: 'payment', key: 'K', payload: 'both' });
    expect((await h.runToEnd(one)).output).toEqual({ orderId: 'K', payment: 'both' });
    expect((await h.runToEnd(two)).output).toEqual({ orderId: 'K', payment: 'both' });
  });

  it('an execution that left the wait (timed out, or cancelled) is no longer routed to', async () => {
    const bounded = workflow<{ orderId: string }>('bounded')
      .waitForEvent('awaitPayment', { event: 'payment', key: (d: { orderId: string }) => d.orderId, resultPath: 'payment', timeoutMs: HOUR, catch: [{ errors: ['Stepwise.Timeout'], next: 'later' }] })
      .waitForEvent('later', { event: 'other', key: (d: { orderId: string }) => d.orderId })
      .build();
    h = await virtualEngine([bounded, order]);
    const timedOut = await h.start('bounded', { orderId: 'L' });
    const cancelled = await h.start('order', { orderId: 'C' });
    await h.settle();
    expect((await h.engine.publishEvent({ name: 'payment', key: 'C', id: 'probe-c' })).deliveredTo).toEqual([cancelled]);
    await h.engine.cancel(cancelled);
    await h.settle();
    await h.clock.advance(HOUR);
    await h.settle();
    expect((await h.history(timedOut)).some((e) => e.type === T.StateEntered && e.step === 'later')).toBe(true);
    expect((await h.engine.publishEvent({ name: 'payment', key: 'L' })).deliveredTo).toEqual([]);
    expect((await h.engine.publishEvent({ name: 'payment', key: 'C' })).deliveredTo).toEqual([]);
    expect((await h.engine.publishEvent({ name: 'other', key: 'L' })).deliveredTo).toEqual([timedOut]);
  });

  it('refuses a missing or oversized key, a bad name and an oversized payload', async () => {
    h = await virtualEngine([order], { maxInputBytes: 1024 });
    await expect(h.engine.publishEvent({ name: 'payment', key: '' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'key' } });
    await expect(h.engine.publishEvent({ name: 'payment', key: 'x'.repeat(257) })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(h.engine.publishEvent({ name: 'bad name', key: 'k' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'name' } });
    await expect(h.engine.publishEvent({ name: 'payment', key: 'k', payload: 'x'.repeat(2000) })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('correlated events across a restart', () => {
  it('an event accepted before the process stopped reaches the wait after it starts again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-corr-'));
    const path = join(dir, 'x.db');
    const clock = new VirtualClock();
    try {
      let store = await openStore(path);
      let engine = new Engine({ store, clock, random: () => 0.5 }).register(slowOrder, order);
      await engine.start();
      const early = (await engine.startExecution('slowOrder', { orderId: 'S' })).execution.id;
      const waiting = (await engine.startExecution('order', { orderId: 'W' })).execution.id;
      await engine.idle({ handlerGraceMs: 0 });
      // Stop the engine between accepting events and applying them: only the store knows them now.
      await engine.stop({ graceMs: 0 });
      await store.publishEvent({ id: 'kept', name: 'payment', key: 'S', payload: 'S', receivedAt: clock.now(), expiresAt: clock.now() + 2 * HOUR }, clock.now());
      const delivered = await store.publishEvent({ id: 'direct', name: 'payment', key: 'W', payload: 'W', receivedAt: clock.now(), expiresAt: clock.now() + 2 * HOUR }, clock.now());
      expect(delivered.deliveredTo).toEqual([waiting]);
      await store.close();

      store = await openStore(path);
      engine = new Engine({ store, clock, random: () => 0.5 }).register(slowOrder, order);
      await engine.start();
      expect(await engine.waitForEnd(waiting, 10_000)).toMatchObject({ status: 'SUCCEEDED', output: { orderId: 'W', payment: 'W' } });
      // The hour's wait ends (moving the virtual clock to each timer the engine sets until it does).
      for (let i = 0; i < 100 && (await engine.getExecution(early)).status === 'RUNNING'; i++) {
        await engine.idle({ handlerGraceMs: 0 });
        const next = clock.nextTimerAt();
        if (next !== undefined) await clock.advance(Math.max(0, next - clock.now()));
      }
      expect(await engine.waitForEnd(early, 10_000)).toMatchObject({ status: 'SUCCEEDED', output: { orderId: 'S', payment: 'S' } });
      await engine.stop({ graceMs: 0 });
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
