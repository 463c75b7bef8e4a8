import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, markOf, runModule } from './package-child.js';

/**
 * An application that imports Stepwise and uses only SQLite never loads node-postgres. Checked in
 * a fresh process through the package root, by the CommonJS module cache (pg and its dependencies
 * are CommonJS): better-sqlite3 must be in it (the check sees what it should), pg must not; then
 * opening a PostgreSQL store loads pg (the check would see it).
 */
describe('loading the package', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it('does not load pg for a process that only uses SQLite', async () => {
    const child = runModule(`
      import { createRequire } from 'node:module';
      import { mkdtempSync, rmSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      const loaded = () => {
        const paths = Object.keys(createRequire(join(ROOT, 'package.json')).cache);
        return { pg: paths.some((p) => p.includes('/node_modules/pg/')), sqlite: paths.some((p) => p.includes('/node_modules/better-sqlite3/')) };
      };
      const { openStore, Engine, workflow } = await pkg();
      const dir = mkdtempSync(join(tmpdir(), 'stepwise-lazy-'));
      const store = await openStore(join(dir, 'app.db'));
      const engine = new Engine({ store }).register(workflow('one').task('a', async () => 1).build());
      await engine.start();
      await engine.startExecution('one', {}, { id: 'x' });
      const status = (await engine.waitForEnd('x', 10000)).status;
      await engine.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      mark({ sqliteOnly: loaded(), status });
      const error = await openStore('postgres://postgres@127.0.0.1:1/nothing-listens-here').catch((e) => e);
      mark({ afterPostgres: loaded(), code: error?.code });
    `);
    const sqliteOnly = await markOf<{ sqliteOnly: { pg: boolean; sqlite: boolean }; status: string }>(child, 'sqliteOnly');
    expect(sqliteOnly, child.stderr).toEqual({ sqliteOnly: { pg: false, sqlite: true }, status: 'SUCCEEDED' });
    const after = await markOf(child, 'afterPostgres');
    expect(after, child.stderr).toEqual({ afterPostgres: { pg: true, sqlite: true }, code: 'STORE_UNAVAILABLE' });
    expect((await child.exited).code, child.stderr).toBe(0);
  });
});
