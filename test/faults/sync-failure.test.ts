/**
 * A store that can no longer make commits durable (STORE_SYNC_FAILED: SQLite's write-ahead log
 * failed to sync, after which the kernel's page cache cannot be trusted) is final: the engine
 * answers every caller with that error at once instead of retrying for ever, and GET /healthz
 * answers 503 so that a supervisor restarts the process. The failure itself is injected at the
 * store's commit (a real fdatasync error cannot be provoked on demand); everything after it is the
 * engine and the HTTP API as a user meets them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { Engine, SqliteStore, StepwiseError, workflow, type Logger } from '../../src/index.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('a store that cannot sync its writes', () => {
  it('answers starts with 503 STORE_SYNC_FAILED at once, reports it on /healthz, and logs it once', async () => {
    const store = await SqliteStore.open(':memory:');
    let failing = false;
    const commit = store.commit.bind(store);
    store.commit = (commits) => (failing ? Promise.reject(new StepwiseError('STORE_SYNC_FAILED', 'the write-ahead log could not be synced to disk: EIO')) : commit(commits));
    const errors: string[] = [];
    const logger: Logger = { info: () => {}, warn: () => {}, error: (_obj, msg) => errors.push(msg ?? '') };
    const wf = workflow('one').task('only', async (d: unknown) => d).build();
    const engine = new Engine({ store, logger }).register(wf);
    await engine.start();
    const app = buildServer({ engine });
    cleanup.push(async () => {
      await app.close();
      await engine.stop({ graceMs: 0 });
      await store.close();
    });

    const ok = await app.inject({ method: 'POST', url: '/v1/workflows/one/executions', payload: { input: { n: 1 } } });
    expect(ok.statusCode, ok.body).toBe(201);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    failing = true;
    for (let n = 2; n <= 3; n++) {
      const refused = await app.inject({ method: 'POST', url: '/v1/workflows/one/executions', payload: { input: { n } } });
      expect(refused.statusCode, refused.body).toBe(503);
      expect(refused.json()).toMatchObject({ error: { code: 'STORE_SYNC_FAILED' } });
    }
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ error: { code: 'STORE_SYNC_FAILED', message: expect.stringContaining('EIO') } });
    expect(engine.health()).toMatchObject({ ok: false, code: 'STORE_SYNC_FAILED' });
    expect(errors.filter((m) => m.includes('restart the process'))).toHaveLength(1);
  });
});
