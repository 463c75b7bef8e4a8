import { afterAll, describe, expect, it } from 'vitest';
import { Engine, workflow, type Store } from '../../src/index.js';
import { PostgresStore } from '../../src/persistence/postgres/postgres-store.js';
import { dropSchema, PG_URL, pgAvailable, throwawaySchema } from './pg-helpers.js';

/**
 * A timer due later than `notifyWithinMs` wakes no other process (before, every wait woke every
 * worker once); another process still fires it on time, because its poll loop looks at least every
 * `pollIntervalMs` and then sleeps until the earliest due row. Here the process that started the
 * executions runs no work at all, so only the other process can fire the timers.
 */
const available = await pgAvailable();

describe.skipIf(!available)('PostgreSQL wake-ups between processes', () => {
  const schema = throwawaySchema('sw_wake');
  afterAll(() => dropSchema(schema));

  it('a far timer wakes no one, and another process fires it on time by polling; a near one wakes it at once', async () => {
    const fired = new Map<string, number>();
    const wf = workflow<{ dueAt: number }>('napper')
      .wait('nap', { until: (d) => d.dueAt })
      .task('after', async (_d, ctx) => {
        fired.set(ctx.executionId, Date.now());
        return null;
      })
      .build();

    const starterStore = await PostgresStore.open(PG_URL, { schema, poolSize: 2 });
    const workerStore = await PostgresStore.open(PG_URL, { schema, poolSize: 2 });
    let wakeUps = 0;
    const counted: Store = Object.assign(Object.create(workerStore) as PostgresStore, {
      onWorkAvailable: (listener: () => void) => workerStore.onWorkAvailable(() => {
        wakeUps++;
        listener();
      }),
    });
    // The starter commits starts and nothing else (never started, no capacity).
    const starter = new Engine({ store: starterStore, concurrency: 0, workerId: 'starter' }).register(wf);
    const worker = new Engine({ store: counted, workerId: 'worker', pollIntervalMs: 200 }).register(wf);
    await worker.start();
    await workerStore.listening();
    try {
      const farDue = Date.now() + 2000;
      await starter.startExecution('napper', { dueAt: farDue }, { id: 'far' });
      const far = await worker.waitForEnd('far', 20_000);
      expect(far.status).toBe('SUCCEEDED');
      // Never early; and late by about one database round trip, not by a poll interval or more.
      expect(fired.get('far')! - farDue).toBeGreaterThanOrEqual(0);
      expect(fired.get('far')! - farDue).toBeLessThan(1000);
      expect(wakeUps).toBe(0);

      // A timer due within notifyWithinMs (1000 ms) of its commit wakes the worker through NOTIFY.
      await starter.startExecution('napper', { dueAt: Date.now() + 300 }, { id: 'near' });
      expect((await worker.waitForEnd('near', 20_000)).status).toBe('SUCCEEDED');
      expect(wakeUps).toBeGreaterThanOrEqual(1);
    } finally {
      await worker.stop({ graceMs: 1000 });
      await Promise.all([starterStore.close(), workerStore.close()]);
    }
  });
});
