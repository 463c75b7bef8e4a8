import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, PostgresStore, workflow } from '../../src/index.js';
import { until } from '../helpers/until.js';
import { dropSchema, PG_URL, pgAvailable, throwawaySchema } from './pg-helpers.js';

/**
 * Correlated events across processes: an engine that runs nothing (its own store, as another
 * process would have) publishes; the engine running the executions gets the 'event' rows through
 * the usual wake-up (NOTIFY), whether the execution waited already or reaches the wait later.
 */
const available = await pgAvailable();
const schema = throwawaySchema('sw_corr');

describe.skipIf(!available)('PostgreSQL: correlated events across processes', () => {
  const order = workflow<{ orderId: string }>('order')
    .waitForEvent('paid', { event: 'payment', key: (d: { orderId: string }) => d.orderId, resultPath: 'payment' })
    .succeed('done')
    .build();
  let runner: Engine;
  let publisher: Engine;
  const stores: PostgresStore[] = [];

  beforeAll(async () => {
    const a = await PostgresStore.open(PG_URL, { schema, poolSize: 2 });
    const b = await PostgresStore.open(PG_URL, { schema, poolSize: 2 });
    stores.push(a, b);
    // A long poll interval: only the NOTIFY of the other process's commit wakes the runner in time.
    runner = new Engine({ store: a, pollIntervalMs: 60_000 }).register(order);
    await runner.start();
    await a.listening();
    publisher = new Engine({ store: b }); // never started: it only publishes
  });
  afterAll(async () => {
    await runner?.stop({ graceMs: 0 });
    for (const s of stores) await s.close();
    await dropSchema(schema);
  });

  it('reaches an execution that waits in another process', async () => {
    const { execution } = await runner.startExecution('order', { orderId: 'x-1' });
    // The wait is in the index from the commit that records StateEntered for it.
    await until('the execution waits', async () => (await runner.getHistory(execution.id, { limit: 100 })).events.some((e) => e.type === 'StateEntered' && e.step === 'paid'));
    const published = await publisher.publishEvent({ name: 'payment', key: 'x-1', payload: { amount: 1 } });
    expect(published.deliveredTo).toEqual([execution.id]);
    const end = await runner.waitForEnd(execution.id, 20_000);
    expect(end.output).toEqual({ orderId: 'x-1', payment: { amount: 1 } });
  });

  it('keeps an event published before the wait is reached, for the process that reaches it', async () => {
    const published = await publisher.publishEvent({ name: 'payment', key: 'x-2', payload: 'early' });
    expect(published.deliveredTo).toEqual([]);
    const { execution } = await runner.startExecution('order', { orderId: 'x-2' });
    expect((await runner.waitForEnd(execution.id, 20_000)).output).toEqual({ orderId: 'x-2', payment: 'early' });
    expect((await publisher.publishEvent({ name: 'payment', key: 'x-2', id: published.id })).deliveredTo).toEqual([execution.id]);
  });
});
