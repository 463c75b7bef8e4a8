import { afterAll, describe, expect, it } from 'vitest';
import { Engine, workflow, type Store } from '../../src/index.js';
import { PostgresStore } from '../../src/persistence/postgres/postgres-store.js';
import { dropSchema, PG_URL, pgAvailable, throwawaySchema } from '../store/pg-helpers.js';

/**
 * Regression: an engine whose commit loop lags behind by more than leaseMs must not re-claim and
 * re-run a step it has finished. Leases of every row the engine holds (claimed, running, or with a
 * result waiting for its commit) are renewed, and a claim for work the machine no longer expects
 * is dropped instead of run. Before the fix, the result waiting in the inbox had a lease nobody
 * renewed; the row was claimed again and the completed step's handler ran a second time.
 *
 * Expected: first's handler runs once; no StepStarted for a key after its StepSucceeded.
 */
const enabled = await pgAvailable();

describe.skipIf(!enabled)('a commit that lags past the lease', () => {
  const schema = throwawaySchema('sw_repro');
  afterAll(() => dropSchema(schema));

  it('runs each completed step once even when a commit takes longer than leaseMs', async () => {
    const calls: Record<string, number> = {};
    const handler = (name: string) => async () => {
      calls[name] = (calls[name] ?? 0) + 1;
      return { name };
    };
    const wf = workflow('two').task('first', handler('first')).task('second', handler('second')).build();
    const store = await PostgresStore.open(PG_URL, { schema });
    // Every commit that consumes work takes 1 s (a commit loop lagging behind); leaseMs is 300.
    const slow: Store = {
      kind: store.kind,
      exclusive: store.exclusive,
      commit: async (c) => {
        if (c.some((x) => (x.consume?.length ?? 0) > 0)) await new Promise((r) => setTimeout(r, 1000));
        return store.commit(c);
      },
      getExecution: (id) => store.getExecution(id),
      getExecutions: (ids) => store.getExecutions(ids),
      listExecutions: (q) => store.listExecutions(q),
      readHistory: (id, after, limit) => store.readHistory(id, after, limit),
      claimWork: (r) => store.claimWork(r),
      renewLeases: (o, refs, until) => store.renewLeases(o, refs, until),
      releaseLeases: (o) => store.releaseLeases(o),
      releaseAllLeases: () => store.releaseAllLeases(),
      nextDueAt: (now) => store.nextDueAt(now),
      listWork: (id) => store.listWork(id),
      claimByToken: (hash, owner, now, until) => store.claimByToken(hash, owner, now, until),
      extendByToken: (hash, now) => store.extendByToken(hash, now),
      publishEvent: (e, now) => store.publishEvent(e, now),
      readCorrelatedEvents: (ids) => store.readCorrelatedEvents(ids),
      purgeCorrelatedEvents: (now, limit) => store.purgeCorrelatedEvents(now, limit),
      close: () => store.close(),
    };
    const engine = new Engine({ store: slow, workerId: 'A', leaseMs: 300, pollIntervalMs: 100 }).register(wf);
    await engine.start();
    try {
      await engine.startExecution('two', {}, { id: 'x' });
      const end = await engine.waitForEnd('x', 10_000);
      expect(end.status).toBe('SUCCEEDED');
      // Nothing still running or waiting to commit: a zombie re-run would have shown by now.
      await engine.drain();
      const history = await store.readHistory('x', 0, 100);
      const lines = history.map((e) => `${e.seq} ${e.type} ${(e.data?.key as string | undefined) ?? ''}`.trim());
      const succeededAt = history.find((e) => e.type === 'StepSucceeded' && e.data?.key === 'first')!.seq;
      const startedAfter = history.filter((e) => e.type === 'StepStarted' && e.data?.key === 'first' && e.seq > succeededAt);
      expect({ calls, startedAfterSuccess: startedAfter.length, history: lines }).toMatchObject({ calls: { first: 1, second: 1 }, startedAfterSuccess: 0 });
    } finally {
      await engine.stop({ graceMs: 100 });
      await store.close();
    }
  }, 20_000);
});
