import { afterAll, describe, expect, it } from 'vitest';
import type { ExecutionCommit, Store } from '../../src/core/store.js';
import { openStore } from '../../src/index.js';
import { PostgresStore } from '../../src/persistence/postgres/postgres-store.js';
import { dropSchema, PG_URL, pgAvailable, throwawaySchema } from '../store/pg-helpers.js';

const T0 = Date.UTC(2026, 0, 1);
const available = await pgAvailable();
const schema = throwawaySchema('sw_stats');
afterAll(() => (available ? dropSchema(schema) : undefined));

function create(id: string, workflow: string, schedule: ExecutionCommit['schedule']): ExecutionCommit {
  return {
    executionId: id, create: { workflow, version: '1', input: {}, startedAt: T0 }, expectedSeq: 0,
    events: [{ type: 'ExecutionStarted', timestamp: T0 }], snapshot: {}, status: 'RUNNING', schedule,
  };
}

/** The gauges' queries: running per workflow, due unheld work per kind with its oldest due time, timers armed. */
async function checkStats(store: Store): Promise<void> {
  expect(await store.stats!(T0)).toEqual({ running: [], due: [], timersPending: 0 });
  await store.commit([
    create('a', 'alpha', [{ executionId: 'a', kind: 'task', key: 's', attempt: 1, dueAt: T0 - 5000 }]),
    create('b', 'alpha', [{ executionId: 'b', kind: 'timer', key: 'w', attempt: 1, dueAt: T0 + 60_000 }]),
    create('c', 'beta', [
      { executionId: 'c', kind: 'task', key: 's', attempt: 1, dueAt: T0 - 1000 },
      { executionId: 'c', kind: 'timer', key: 'w', attempt: 1, dueAt: T0 - 2000 },
      { executionId: 'c', kind: 'compensation', key: 'held', attempt: 1, dueAt: T0 - 9000, leaseOwner: 'me', leaseUntil: T0 + 60_000 },
    ]),
  ]);
  const stats = await store.stats!(T0);
  expect(stats.running.sort((x, y) => x.workflow.localeCompare(y.workflow))).toEqual([{ workflow: 'alpha', count: 2 }, { workflow: 'beta', count: 1 }]);
  expect(stats.due.sort((x, y) => x.kind.localeCompare(y.kind))).toEqual([
    { kind: 'task', count: 2, oldestDueAt: T0 - 5000 },
    { kind: 'timer', count: 1, oldestDueAt: T0 - 2000 },
  ]);
  expect(stats.timersPending).toBe(2);
}

describe('Store.stats', () => {
  it('SQLite', async () => {
    const store = await openStore(':memory:');
    try {
      await checkStats(store);
    } finally {
      await store.close();
    }
  });

  it.skipIf(!available)('PostgreSQL', async () => {
    const store = await PostgresStore.open(PG_URL, { schema, poolSize: 2 });
    try {
      await checkStats(store);
    } finally {
      await store.close();
    }
  });
});
