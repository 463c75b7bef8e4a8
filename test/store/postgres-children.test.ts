import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, PostgresStore, workflow } from '../../src/index.js';
import { dropSchema, PG_URL, pgAvailable, throwawaySchema } from './pg-helpers.js';

/**
 * Child workflows and concurrency queues across processes: two engines on one schema, each with
 * its own store (as two processes would have), share the work.
 */
const available = await pgAvailable();
const schema = throwawaySchema('sw_children');

describe.skipIf(!available)('PostgreSQL: children and concurrency across engines', () => {
  const stores: PostgresStore[] = [];
  const engines: Engine[] = [];
  let running = 0;
  let peak = 0;
  const shipping = workflow<{ order: string }>('shipping').task('book', async (d) => ({ tracking: `T-${d.order}` })).build();
  const checkout = workflow<{ order: string; customer: string }>('checkout', { concurrency: { key: (i) => i.customer, limit: 1 } })
    .task('hold', async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      return null;
    }, { resultPath: null })
    .invoke('ship', 'shipping', { input: (d) => ({ order: d.order }), resultPath: 'shipment' })
    .succeed('done')
    .build();

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const store = await PostgresStore.open(PG_URL, { schema, poolSize: 2 });
      const engine = new Engine({ store, pollIntervalMs: 50 }).register(shipping, checkout);
      await engine.start();
      stores.push(store);
      engines.push(engine);
    }
  });
  afterAll(async () => {
    for (const e of engines) await e.stop({ graceMs: 0 });
    for (const s of stores) await s.close();
    await dropSchema(schema);
  });

  it('runs one order per customer at a time across two engines, each with its child, all to the end', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const { execution } = await engines[i % 2].startExecution('checkout', { order: `o${i}`, customer: 'same' }, { id: `pg-o${i}` });
      ids.push(execution.id);
    }
    for (const id of ids) {
      const end = await engines[0].waitForEnd(id, 30_000);
      expect(end.status).toBe('SUCCEEDED');
      expect((end.output as { shipment: unknown }).shipment).toEqual({ tracking: `T-${id.slice(3)}` });
      const children = await engines[1].listExecutions({ parentId: id });
      expect(children.items.map((c) => c.id)).toEqual([`${id}:ship:1`]);
    }
    expect(peak).toBe(1);
  }, 60_000);
});
