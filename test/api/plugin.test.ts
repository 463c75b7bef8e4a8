/**
 * The `stepwise` fastify plugin mounted in someone else's app under a prefix: the API, the history
 * page and the token rules all live under the prefix, and the host's own routes keep their own
 * behaviour (no token, no Stepwise headers or body rules, fastify's own 404).
 */
import { existsSync } from 'node:fs';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkout, shipping } from '../../examples/checkout/workflow.js';
import { Engine, openStore, stepwise, type Store } from '../../src/index.js';
import { cart, expectError, json } from './harness.js';

const TOKEN = 'plugin-test-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const PAGE_EXISTS = existsSync(new URL('../../src/api/page/index.ts', import.meta.url));

async function hostApp(register: (app: FastifyInstance, engine: Engine) => Promise<void>): Promise<{ app: FastifyInstance; engine: Engine; store: Store; close(): Promise<void> }> {
  const store = await openStore(':memory:');
  const engine = new Engine({ store }).register(checkout, shipping);
  await engine.start();
  const app = Fastify({ routerOptions: { maxParamLength: 256 } });
  app.get('/hello', async () => ({ hello: 'world' }));
  app.post('/echo', async (request) => ({ got: request.body }));
  await register(app, engine);
  await app.ready();
  return {
    app, engine, store,
    async close() {
      await app.close();
      await engine.stop({ graceMs: 0 });
      await store.close();
    },
  };
}

describe('the plugin under a prefix, with a token', () => {
  let host: Awaited<ReturnType<typeof hostApp>>;
  beforeAll(async () => {
    host = await hostApp(async (app, engine) => {
      await app.register(stepwise, { engine, prefix: '/wf', token: TOKEN });
    });
  });
  afterAll(async () => host.close());

  it('serves the API under the prefix, with the token', async () => {
    expect((await host.app.inject({ url: '/wf/healthz' })).statusCode).toBe(200);
    expectError(await host.app.inject({ url: '/wf/v1/workflows' }), 401, 'UNAUTHORIZED');
    const list = await host.app.inject({ url: '/wf/v1/workflows', headers: AUTH });
    expect(json(list).workflows.map((w: { name: string }) => w.name)).toEqual(['checkout', 'shipping']);
    expect(list.headers['x-content-type-options']).toBe('nosniff');

    const started = await host.app.inject({ method: 'POST', url: '/wf/v1/workflows/checkout/executions', headers: AUTH, payload: { id: 'p-1', input: cart() } });
    expect(started.statusCode, started.body).toBe(201);
    expect(started.headers.location).toBe('/wf/v1/executions/p-1');
    expect((await host.engine.waitForEnd('p-1', 10_000)).status).toBe('SUCCEEDED');
    const read = await host.app.inject({ url: started.headers.location as string, headers: AUTH });
    expect(json(read)).toMatchObject({ id: 'p-1', status: 'SUCCEEDED' });
  });

  it('keeps the API rules inside the prefix: schema, content type, error shape, 404', async () => {
    const start = '/wf/v1/workflows/checkout/executions';
    expectError(await host.app.inject({ method: 'POST', url: start, headers: AUTH, payload: { input: null } }), 400, 'VALIDATION_FAILED');
    expectError(await host.app.inject({ method: 'POST', url: start, headers: AUTH, payload: { input: cart(), extra: 1 } }), 400, 'VALIDATION_FAILED');
    expectError(
      await host.app.inject({ method: 'POST', url: start, headers: { ...AUTH, 'content-type': 'text/plain' }, payload: '{"input":1}' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectError(await host.app.inject({ url: '/wf/v1/nothing-here', headers: AUTH }), 404, 'ROUTE_NOT_FOUND');
    expectError(await host.app.inject({ url: '/wf/v1/nothing-here' }), 401, 'UNAUTHORIZED');
  });

  it("leaves the host's own routes alone", async () => {
    const hello = await host.app.inject({ url: '/hello' });
    expect(json(hello)).toEqual({ hello: 'world' });
    expect(hello.headers['x-content-type-options']).toBeUndefined();
    const echo = await host.app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'text/plain' }, payload: 'plain text' });
    expect(json(echo)).toEqual({ got: 'plain text' });
    const missing = await host.app.inject({ url: '/nowhere' });
    expect(missing.statusCode).toBe(404);
    expect(json(missing)).not.toHaveProperty('error.code');
    expect((await host.app.inject({ url: '/healthz' })).statusCode).toBe(404);
  });

  it('describes the prefixed routes in its OpenAPI document', async () => {
    const doc = json(await host.app.inject({ url: '/wf/openapi.json', headers: AUTH }));
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/wf/v1/workflows', '/wf/v1/workflows/{name}/executions', '/wf/v1/workflows/checkout/executions']));
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/wf/'))).toEqual([]);
  });

  it.runIf(PAGE_EXISTS)('serves the history page under the prefix: the token once, then a cookie scoped to the prefix', async () => {
    expectError(await host.app.inject({ url: '/wf/' }), 401, 'UNAUTHORIZED');
    const first = await host.app.inject({ url: `/wf/?token=${TOKEN}` });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toMatch(/^text\/html/);
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(/Path=\/wf(;|$)/);
    const session = cookie.split(';')[0]!;
    expect((await host.app.inject({ url: '/wf/executions/p-1', headers: { cookie: session } })).statusCode).toBe(200);
    expect((await host.app.inject({ url: '/wf/assets/page.js', headers: { cookie: session } })).statusCode).toBe(200);
    // The cookie opens the page, never the API.
    expectError(await host.app.inject({ url: '/wf/v1/workflows', headers: { cookie: session } }), 401, 'UNAUTHORIZED');
  });
});

describe('the plugin in an app that documents itself with @fastify/swagger', () => {
  it('joins the host document instead of clashing with it', async () => {
    const store = await openStore(':memory:');
    const engine = new Engine({ store }).register(checkout, shipping);
    const app = Fastify();
    await app.register(fastifySwagger, { openapi: { info: { title: 'host', version: '1' } } });
    app.get('/hello', async () => 'hi');
    await app.register(stepwise, { engine, prefix: '/api/workflows' });
    await app.ready();
    try {
      const doc = json(await app.inject({ url: '/api/workflows/openapi.json' }));
      expect(doc.info.title).toBe('host');
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/hello', '/api/workflows/v1/workflows']));
    } finally {
      await app.close();
      await store.close();
    }
  });
});
