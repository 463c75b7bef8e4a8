import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, markOf, runModule } from '../store/package-child.js';

/**
 * `stepwise serve` answers its first request without loading what that request does not need
 * (docs/performance.md, cold start): on SQLite, with no ASL state machine using JSONata, a
 * started server has not loaded node-postgres, the OpenAPI generator (@fastify/swagger and its
 * YAML package) or JSONata. Checked in a fresh process by the CommonJS module cache (all of them
 * are CommonJS), next to packages it must have loaded (fastify, better-sqlite3), so the check
 * sees what it should; then GET /openapi.json loads the generator and serves the whole document,
 * and the lazily compiled request validators still refuse a bad body.
 */
describe('what a started server has loaded', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it('serves on SQLite without pg, the OpenAPI generator or JSONata until a request needs them', async () => {
    const child = runModule(`
      import { createRequire } from 'node:module';
      import { mkdtempSync, rmSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      const cache = () => Object.keys(createRequire(join(ROOT, 'package.json')).cache);
      const has = (part) => cache().some((p) => p.includes(part));
      const loaded = () => ({
        fastify: has('/node_modules/fastify/'), sqlite: has('/node_modules/better-sqlite3/'),
        pg: has('/node_modules/pg/'), swagger: has('/node_modules/@fastify/swagger/'), yaml: has('/node_modules/yaml/'), jsonata: has('/node_modules/jsonata/'),
      });
      const { serve, workflow } = await pkg();
      const dir = mkdtempSync(join(tmpdir(), 'stepwise-lazy-serve-'));
      const server = await serve({
        workflows: [workflow('one').task('a', async () => 1).build()],
        db: join(dir, 'app.db'), port: 0, logLevel: 'silent',
      });
      mark({ started: loaded() });
      const bad = await fetch(server.url + '/v1/workflows/one/executions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":1,"extra":true}' });
      const good = await fetch(server.url + '/v1/workflows/one/executions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":{}}' });
      mark({ starts: [bad.status, (await bad.json()).error?.code, good.status] });
      const doc = await (await fetch(server.url + '/openapi.json')).json();
      mark({ openapi: { version: doc.openapi, paths: Object.keys(doc.paths).includes('/v1/workflows/{name}/executions') }, after: loaded() });
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    `);
    const started = await markOf(child, 'started');
    expect(started, child.stderr).toEqual({ started: { fastify: true, sqlite: true, pg: false, swagger: false, yaml: false, jsonata: false } });
    expect(await markOf(child, 'starts'), child.stderr).toEqual({ starts: [400, 'VALIDATION_FAILED', 201] });
    const openapi = await markOf<{ openapi: Record<string, unknown>; after: Record<string, boolean> }>(child, 'openapi');
    expect(openapi?.openapi, child.stderr).toEqual({ version: '3.0.3', paths: true });
    expect(openapi?.after).toMatchObject({ swagger: true, pg: false, jsonata: false });
    expect((await child.exited).code, child.stderr).toBe(0);
  });
});
