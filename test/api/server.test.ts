import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutInputSchema } from '../../examples/checkout/workflow.js';
import { buildServer } from '../../src/api/server.js';
import { Engine, StepwiseError, openStore, type Store } from '../../src/index.js';
import {
  ISO, cart, expectError, getExecution, history, json, nested, startExecution, startHarness, waitEnded, type Harness,
} from './harness.js';

const START = '/v1/workflows/checkout/executions';
/** The start route of a workflow that declares no input schema. */
const START_ANY = '/v1/workflows/anyInput/executions';
const PAGE_EXISTS = existsSync(new URL('../../src/api/page/index.ts', import.meta.url));

describe('HTTP API (real engine, in-memory store)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  describe('meta', () => {
    it('GET /healthz answers ok with the security headers', async () => {
      const res = await h.app.inject({ url: '/healthz' });
      expect(res.statusCode).toBe(200);
      expect(json(res)).toEqual({ ok: true });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    });

    it('GET /openapi.json documents every route with schemas', async () => {
      const res = await h.app.inject({ url: '/openapi.json' });
      expect(res.statusCode).toBe(200);
      const doc = json(res);
      expect(doc.openapi).toMatch(/^3\./);
      const paths = doc.paths as Record<string, Record<string, any>>;
      const expected: Array<[string, string]> = [
        ['/healthz', 'get'],
        ['/v1/workflows', 'get'],
        ['/v1/workflows/{name}', 'get'],
        ['/v1/workflows/{name}/executions', 'post'],
        ['/v1/executions', 'get'],
        ['/v1/executions/{id}', 'get'],
        ['/v1/executions/{id}/history', 'get'],
        ['/v1/executions/{id}/cancel', 'post'],
        ['/v1/executions/{id}/events/{name}', 'post'],
        ['/v1/executions/{id}/redrive', 'post'],
        ['/v1/queues/{queue}/poll', 'post'],
        ['/v1/tasks/{token}/succeed', 'post'],
        ['/v1/tasks/{token}/fail', 'post'],
        ['/v1/tasks/{token}/heartbeat', 'post'],
      ];
      for (const [path, method] of expected) {
        const op = paths[path]?.[method];
        expect(op, `${method} ${path}`).toBeDefined();
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      }
      const start = paths['/v1/workflows/{name}/executions']!.post;
      const bodySchema = start.requestBody.content['application/json'].schema;
      expect(bodySchema.required).toEqual(['input']);
      expect(bodySchema.additionalProperties).toBe(false);
      expect(start.responses['201']).toBeDefined();
      expect(paths['/v1/executions']!.get.parameters.map((p: any) => p.name).sort()).toEqual(['cursor', 'limit', 'parentId', 'status', 'workflow']);
      const poll = paths['/v1/queues/{queue}/poll']!.post;
      expect(Object.keys(poll.responses)).toEqual(expect.arrayContaining(['200', '204', '400', '401', '404']));
      expect(poll.requestBody.content['application/json'].schema.properties.waitMs).toMatchObject({ type: 'integer', minimum: 0, maximum: 30_000 });
      expect(Object.keys(paths['/v1/tasks/{token}/succeed']!.post.responses)).toEqual(expect.arrayContaining(['200', '409', '413', '415']));
      // the history page's routes stay out of the API document
      expect(paths['/']).toBeUndefined();
    });
  });

  describe('workflows', () => {
    it('lists the registered workflows', async () => {
      const res = await h.app.inject({ url: '/v1/workflows' });
      expect(res.statusCode).toBe(200);
      const { workflows } = json(res);
      const checkout = workflows.find((w: any) => w.name === 'checkout');
      expect(checkout).toMatchObject({ name: 'checkout', version: expect.any(String) });
    });

    it('describes one workflow with its machine and Mermaid text', async () => {
      const res = await h.app.inject({ url: '/v1/workflows/checkout' });
      expect(res.statusCode).toBe(200);
      const wf = json(res);
      expect(wf.name).toBe('checkout');
      expect(typeof wf.version).toBe('string');
      expect(typeof wf.machine).toBe('object');
      expect(wf.machine).not.toBeNull();
      expect(typeof wf.mermaid).toBe('string');
      expect(wf.mermaid).toContain('processPayment');
      expect(wf.states.map((s: any) => s.name)).toEqual(expect.arrayContaining(['validateCart', 'processPayment', 'fulfil', 'done']));
      expect(wf).toEqual(JSON.parse(JSON.stringify(h.engine.describeWorkflow('checkout'))));
    });

    it('404s an unknown workflow, even one whose name could never exist', async () => {
      expectError(await h.app.inject({ url: '/v1/workflows/nope' }), 404, 'WORKFLOW_NOT_FOUND');
      expectError(await h.app.inject({ url: '/v1/workflows/no.such.thing' }), 404, 'WORKFLOW_NOT_FOUND');
    });
  });

  describe('starting executions', () => {
    it('201 with id, workflow and the stored status, and a Location', async () => {
      const res = await h.app.inject({ method: 'POST', url: START, payload: { input: cart() } });
      expect(res.statusCode, res.body).toBe(201);
      const body = json(res);
      // The checkout runs one order per customer at a time: every start is stored QUEUED first.
      expect(body).toMatchObject({ id: expect.any(String), workflow: 'checkout', status: 'QUEUED' });
      expect(res.headers.location).toBe(`/v1/executions/${body.id}`);
      await waitEnded(h.app, body.id);
    });

    it('is idempotent on id: same input 200 (key order ignored), other input 409', async () => {
      const input = cart();
      const first = await h.app.inject({ method: 'POST', url: START, payload: { id: 'idem-1', input } });
      expect(first.statusCode, first.body).toBe(201);
      const again = await h.app.inject({ method: 'POST', url: START, payload: { input, id: 'idem-1' } });
      expect(again.statusCode, again.body).toBe(200);
      expect(json(again).id).toBe('idem-1');
      const reordered = Object.fromEntries(Object.entries(input).reverse());
      const third = await h.app.inject({ method: 'POST', url: START, payload: { id: 'idem-1', input: reordered } });
      expect(third.statusCode).toBe(200);
      const other = await h.app.inject({ method: 'POST', url: START, payload: { id: 'idem-1', input: cart() } });
      expectError(other, 409, 'EXECUTION_CONFLICT');
      await waitEnded(h.app, 'idem-1');
      const list = json(await h.app.inject({ url: '/v1/executions?limit=500' }));
      expect(list.items.filter((e: any) => e.id === 'idem-1')).toHaveLength(1);
    });

    it('404s an unknown workflow', async () => {
      expectError(await h.app.inject({ method: 'POST', url: '/v1/workflows/nope/executions', payload: { input: {} } }), 404, 'WORKFLOW_NOT_FOUND');
    });

    it('400 VALIDATION_FAILED naming the field for a body that fails the schema', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{}, /input/],
        [{ input: 1, extra: true }, /extra/],
        [{ input: 1, id: 'has space' }, /id/],
        [{ input: 1, id: 42 }, /id/],
        [{ input: 1, id: '' }, /id/],
        [{ input: 1, id: 'x'.repeat(129) }, /id/],
        [[1, 2], /body/],
        ['just a string', /body/],
      ];
      for (const [payload, field] of cases) {
        const res = await h.app.inject({ method: 'POST', url: START, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
        const error = expectError(res, 400, 'VALIDATION_FAILED');
        expect(error.message).toMatch(field);
      }
    });

    it('accepts any JSON value as input, null included, when the workflow declares no schema', async () => {
      for (const input of [null, 0, 'text', [1, 2], { nested: { deep: true } }]) {
        const res = await h.app.inject({ method: 'POST', url: START_ANY, payload: { input } });
        expect(res.statusCode, res.body).toBe(201);
        const execution = await getExecution(h.app, json(res).id);
        expect(execution.input).toEqual(input);
        await waitEnded(h.app, execution.id);
      }
    });

    it('400 VALIDATION_FAILED naming the first mismatch when the input does not match the workflow schema', async () => {
      const start = (input: unknown) => h.app.inject({ method: 'POST', url: START, payload: { input } });
      const count = async () => json(await h.app.inject({ url: '/v1/executions?workflow=checkout&limit=500' })).items.length;
      const before = await count();
      expect(expectError(await start(null), 400, 'VALIDATION_FAILED').message).toBe('input must be object');
      expect(expectError(await start(cart(undefined, { customer: { id: 'c' } })), 400, 'VALIDATION_FAILED').message).toBe('input.customer.email is required');
      const badItem = cart(undefined, { items: [{ sku: 'a', qty: 1, price: 1 }, { sku: 'b', qty: 'two', price: 1 }] });
      expect(expectError(await start(badItem), 400, 'VALIDATION_FAILED').message).toBe('input.items.1.qty must be number');
      expect(await count()).toBe(before);
    });

    it('the OpenAPI document and describe carry each workflow input schema', async () => {
      const doc = json(await h.app.inject({ url: '/openapi.json' }));
      expect(doc.components.schemas.checkoutInput).toMatchObject({ type: 'object', required: ['orderId', 'customer', 'items'] });
      const start = doc.paths['/v1/workflows/checkout/executions'].post;
      expect(start.requestBody.content['application/json'].schema.properties.input).toEqual({ $ref: '#/components/schemas/checkoutInput' });
      // No path parameter (the name is in the path); the caller's trace context is the one header it reads.
      expect(start.parameters.map((p: { in: string; name: string }) => `${p.in}:${p.name}`)).toEqual(['header:traceparent']);
      expect(doc.paths['/v1/workflows/{name}/executions'].post).toBeDefined();
      expect(doc.components.schemas.anyInputInput).toBeUndefined();
      expect(json(await h.app.inject({ url: '/v1/workflows/checkout' })).input).toEqual(checkoutInputSchema);
    });

    it('400 MALFORMED_JSON for broken, empty or poisoned JSON', async () => {
      for (const payload of ['{"input":', '{input: 1}', '', '   ', '{"input":1,"__proto__":{"polluted":true}}']) {
        const res = await h.app.inject({ method: 'POST', url: START, headers: { 'content-type': 'application/json' }, payload });
        expectError(res, 400, 'MALFORMED_JSON');
      }
      expect(({} as any).polluted).toBeUndefined();
    });

    it('400 INPUT_TOO_DEEP past 64 levels, before anything stringifies it', async () => {
      const post = (payload: string) =>
        h.app.inject({ method: 'POST', url: START, headers: { 'content-type': 'application/json' }, payload });
      expectError(await post(`{"input":${nested(5000)}}`), 400, 'INPUT_TOO_DEEP');
      expectError(await post(`{"input":${nested(65)}}`), 400, 'INPUT_TOO_DEEP');
      expectError(await post(nested(200_000)), 400, 'INPUT_TOO_DEEP');
      const ok = await h.app.inject({ method: 'POST', url: START_ANY, headers: { 'content-type': 'application/json' }, payload: `{"input":${nested(64)}}` });
      expect(ok.statusCode, ok.body).toBe(201);
      await waitEnded(h.app, json(ok).id);
    });

    it('415 for a body that is not application/json', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x']) {
        const res = await h.app.inject({ method: 'POST', url: START, headers: { 'content-type': type }, payload: 'input=1' });
        expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      }
      const withCharset = await h.app.inject({
        method: 'POST', url: START, headers: { 'content-type': 'application/json; charset=utf-8' }, payload: JSON.stringify({ input: cart() }),
      });
      expect(withCharset.statusCode).toBe(201);
      await waitEnded(h.app, json(withCharset).id);
    });

    it('413 PAYLOAD_TOO_LARGE over the 1 MiB default', async () => {
      const res = await h.app.inject({ method: 'POST', url: START, payload: { input: 'x'.repeat(1024 * 1024 + 10) } });
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    });
  });

  describe('reading executions', () => {
    let succeeded: string;
    let failed: string;
    beforeAll(async () => {
      succeeded = (await startExecution(h.app, cart())).id;
      failed = (await startExecution(h.app, cart({ paymentDeclined: true }))).id;
      await waitEnded(h.app, succeeded);
      await waitEnded(h.app, failed);
    });

    it('GET /v1/executions/:id has the documented shape with ISO timestamps', async () => {
      const e = await getExecution(h.app, succeeded);
      expect(Object.keys(e).sort()).toEqual(['endedAt', 'id', 'input', 'output', 'startedAt', 'status', 'version', 'workflow']);
      expect(e).toMatchObject({ id: succeeded, workflow: 'checkout', status: 'SUCCEEDED' });
      expect(e.startedAt).toMatch(ISO);
      expect(e.endedAt).toMatch(ISO);
      const f = await getExecution(h.app, failed);
      expect(f.error).toEqual({ code: 'PaymentDeclined', message: expect.any(String) });
      expect(f.output).toBeUndefined();
    });

    it('404 EXECUTION_NOT_FOUND for an unknown id (also on history and cancel)', async () => {
      expectError(await h.app.inject({ url: '/v1/executions/no-such-id' }), 404, 'EXECUTION_NOT_FOUND');
      expectError(await h.app.inject({ url: '/v1/executions/no-such-id/history' }), 404, 'EXECUTION_NOT_FOUND');
      expectError(await h.app.inject({ url: '/v1/executions/no-such-id/history?after=5' }), 404, 'EXECUTION_NOT_FOUND');
      expectError(await h.app.inject({ method: 'POST', url: '/v1/executions/no-such-id/cancel' }), 404, 'EXECUTION_NOT_FOUND');
      expectError(await h.app.inject({ url: '/v1/executions/bad%20id!' }), 404, 'EXECUTION_NOT_FOUND');
    });

    it('history: events in order, ISO timestamps, paged with after=nextCursor', async () => {
      const all = await history(h.app, succeeded);
      expect(all[0]).toMatchObject({ seq: 1, type: 'ExecutionStarted' });
      expect(all.at(-1)!.type).toBe('ExecutionSucceeded');
      all.forEach((e, i) => {
        expect(e.seq).toBe(i + 1);
        expect(e.timestamp).toMatch(ISO);
      });
      const paged = await history(h.app, succeeded, 3);
      expect(paged).toEqual(all);
      const first = json(await h.app.inject({ url: `/v1/executions/${succeeded}/history?limit=3` }));
      expect(first.events).toHaveLength(3);
      expect(typeof first.nextCursor).toBe('string');
      const second = json(await h.app.inject({ url: `/v1/executions/${succeeded}/history?limit=3&after=${encodeURIComponent(first.nextCursor)}` }));
      expect(second.events[0].seq).toBe(4);
      const pastEnd = await h.app.inject({ url: `/v1/executions/${succeeded}/history?after=${all.length}` });
      expect(pastEnd.statusCode).toBe(200);
      expect(json(pastEnd)).toEqual({ events: [] });
    });

    it('history: 400 for a bad limit, a bad cursor or an unknown parameter', async () => {
      for (const qs of ['limit=0', 'limit=1001', 'limit=abc', 'limit=1.5', 'after=not-a-cursor', 'foo=1']) {
        expectError(await h.app.inject({ url: `/v1/executions/${succeeded}/history?${qs}` }), 400, 'VALIDATION_FAILED');
      }
    });

    it('list: newest first, filters, pages without overlap', async () => {
      const all = json(await h.app.inject({ url: '/v1/executions?limit=500' })).items as any[];
      expect(all.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < all.length; i++) expect(all[i - 1].startedAt >= all[i].startedAt).toBe(true);
      // Newest first: a checkout or the shipping child it invoked.
      expect(all[0]).toMatchObject({ id: expect.any(String), workflow: expect.stringMatching(/^(checkout|shipping)$/), status: expect.any(String), startedAt: expect.stringMatching(ISO) });

      const failedOnly = json(await h.app.inject({ url: '/v1/executions?status=FAILED' })).items as any[];
      expect(failedOnly.length).toBeGreaterThan(0);
      expect(failedOnly.every((e) => e.status === 'FAILED')).toBe(true);
      expect(failedOnly.map((e) => e.id)).toContain(failed);
      expect(json(await h.app.inject({ url: '/v1/executions?workflow=checkout&status=SUCCEEDED' })).items.map((e: any) => e.id)).toContain(succeeded);
      expect(json(await h.app.inject({ url: '/v1/executions?workflow=other' })).items).toEqual([]);

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = json(await h.app.inject({ url: `/v1/executions?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}` }));
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((e: any) => e.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(all.map((e) => e.id));
    });

    it('list: default limit 50, 400 for bad limit, status, cursor or parameter', async () => {
      // More executions than the default page holds, so the limit really cuts.
      const existing = json(await h.app.inject({ url: '/v1/executions?limit=500' })).items.length as number;
      for (let i = existing; i < 60; i++) await startExecution(h.app, cart());
      const all = json(await h.app.inject({ url: '/v1/executions?limit=500' })).items as any[];
      expect(all.length).toBeGreaterThanOrEqual(60);
      const res = await h.app.inject({ url: '/v1/executions' });
      expect(res.statusCode).toBe(200);
      const page = json(res);
      expect(page.items.map((e: any) => e.id)).toEqual(all.slice(0, 50).map((e) => e.id));
      expect(typeof page.nextCursor).toBe('string');
      for (const qs of ['limit=0', 'limit=501', 'limit=x', 'status=running', 'status=DONE', 'cursor=garbage', 'nope=1', 'workflow=bad%20name']) {
        const err = expectError(await h.app.inject({ url: `/v1/executions?${qs}` }), 400, 'VALIDATION_FAILED');
        expect(err.message).toMatch(/limit|status|cursor|nope|workflow/);
      }
    });

    it('cancel of an ended execution is 409 EXECUTION_ENDED', async () => {
      expectError(await h.app.inject({ method: 'POST', url: `/v1/executions/${succeeded}/cancel` }), 409, 'EXECUTION_ENDED');
    });
  });

  describe('routing and errors', () => {
    it('404 ROUTE_NOT_FOUND as JSON for unknown paths and wrong methods', async () => {
      expectError(await h.app.inject({ url: '/nope' }), 404, 'ROUTE_NOT_FOUND');
      expectError(await h.app.inject({ url: '/v2/executions' }), 404, 'ROUTE_NOT_FOUND');
      expectError(await h.app.inject({ method: 'DELETE', url: '/v1/executions/abc' }), 404, 'ROUTE_NOT_FOUND');
      expectError(await h.app.inject({ method: 'PUT', url: '/v1/workflows/checkout' }), 404, 'ROUTE_NOT_FOUND');
      expectError(await h.app.inject({ method: 'GET', url: START }), 404, 'ROUTE_NOT_FOUND');
    });

    it('400 for malformed URLs and over-long path parameters, never 5xx', async () => {
      expectError(await h.app.inject({ url: '/v1/executions/%E0%A4%A' }), 400, 'VALIDATION_FAILED');
      const long = await h.app.inject({ url: `/v1/executions/${'a'.repeat(2000)}` });
      expect(long.statusCode).toBeGreaterThanOrEqual(400);
      expect(long.statusCode).toBeLessThan(500);
      expect(json(long).error.code).toMatch(/VALIDATION_FAILED|EXECUTION_NOT_FOUND/);
    });

    it('security headers on errors too', async () => {
      const res = await h.app.inject({ url: '/nope' });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
    });
  });
});

describe('configured limits', () => {
  it('bodyLimit is configurable', async () => {
    const h = await startHarness({ bodyLimit: 2048 });
    try {
      expectError(await h.app.inject({ method: 'POST', url: START, payload: { input: 'x'.repeat(4096) } }), 413, 'PAYLOAD_TOO_LARGE');
      const ok = await h.app.inject({ method: 'POST', url: START, payload: { input: cart() } });
      expect(ok.statusCode).toBe(201);
      await waitEnded(h.app, json(ok).id);
    } finally {
      await h.close();
    }
  });

  it('429 RATE_LIMITED past the per-client start limit; other routes are not limited', async () => {
    const h = await startHarness({ startRateLimit: { max: 2, timeWindowMs: 60_000 } });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) ids.push((await startExecution(h.app, cart())).id);
      const third = await h.app.inject({ method: 'POST', url: START, payload: { input: cart() } });
      expectError(third, 429, 'RATE_LIMITED');
      expect(third.headers['retry-after']).toBeDefined();
      const other = await h.app.inject({ method: 'POST', url: START, payload: { input: cart() }, remoteAddress: '10.0.0.7' });
      expect(other.statusCode).toBe(201);
      ids.push(json(other).id);
      for (let i = 0; i < 5; i++) expect((await h.app.inject({ url: '/v1/executions' })).statusCode).toBe(200);
      for (const id of ids) await waitEnded(h.app, id);
    } finally {
      await h.close();
    }
  });
});

describe('bearer token', () => {
  const TOKEN = 's3cret-token-value';
  let h: Harness;
  let logs = '';
  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _enc, cb) {
        logs += chunk.toString();
        cb();
      },
    });
    h = await startHarness({ token: TOKEN, logger: { level: 'trace', stream } });
  });
  afterAll(async () => {
    await h.close();
  });

  const auth = { authorization: `Bearer ${TOKEN}` };

  it('401 UNAUTHORIZED without the right Authorization header on every API route', async () => {
    const routes: Array<[string, string]> = [
      ['GET', '/v1/workflows'],
      ['GET', '/v1/workflows/checkout'],
      ['POST', START],
      ['GET', '/v1/executions'],
      ['GET', '/v1/executions/x'],
      ['GET', '/v1/executions/x/history'],
      ['POST', '/v1/executions/x/cancel'],
      ['POST', '/v1/executions/x/events/review'],
      ['POST', '/v1/executions/x/redrive'],
      ['GET', '/openapi.json'],
      ['GET', '/no-such-route'],
    ];
    const badHeaders: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` },
      { authorization: TOKEN },
      { authorization: 'Bearer' },
    ];
    for (const [method, url] of routes) {
      for (const headers of badHeaders) {
        const res = await h.app.inject({ method: method as 'GET', url, headers, ...(method === 'POST' ? { payload: { input: 1 } } : {}) });
        expectError(res, 401, 'UNAUTHORIZED');
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      }
    }
  });

  it('/healthz needs no token', async () => {
    expect((await h.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it.runIf(PAGE_EXISTS)('the history page needs the token too: once as ?token=, then the session cookie it sets', async () => {
    expectError(await h.app.inject({ url: '/' }), 401, 'UNAUTHORIZED');
    expectError(await h.app.inject({ url: '/?token=wrong' }), 401, 'UNAUTHORIZED');
    const first = await h.app.inject({ url: `/?token=${TOKEN}` });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toMatch(/^text\/html/);
    expect(first.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(first.headers['x-frame-options']).toBe('DENY');
    expect(first.headers['x-content-type-options']).toBe('nosniff');
    const setCookie = String(first.headers['set-cookie']);
    expect(setCookie).toMatch(/^stepwise_page=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\/$/);
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0];
    expect((await h.app.inject({ url: '/', headers: { cookie } })).statusCode).toBe(200);
    expect((await h.app.inject({ url: '/', headers: auth })).statusCode).toBe(200);
    expectError(await h.app.inject({ url: '/', headers: { cookie: 'stepwise_page=forged' } }), 401, 'UNAUTHORIZED');
    // the cookie opens the page, never the API
    expectError(await h.app.inject({ url: '/v1/executions', headers: { cookie } }), 401, 'UNAUTHORIZED');
    expectError(await h.app.inject({ method: 'POST', url: '/', headers: { 'content-type': 'application/json' }, payload: '{}' }), 401, 'UNAUTHORIZED');
  });

  it('the right token works, and the token never reaches the log', async () => {
    const res = await h.app.inject({ url: '/v1/workflows', headers: auth });
    expect(res.statusCode).toBe(200);
    const started = await h.app.inject({ method: 'POST', url: START, headers: auth, payload: { input: cart() } });
    expect(started.statusCode).toBe(201);
    const lower = await h.app.inject({ url: '/v1/workflows', headers: { authorization: `bearer ${TOKEN}` } });
    expect(lower.statusCode).toBe(200);
    await h.engine.waitForEnd(json(started).id, 20_000);
    // the history page takes the token from ?token= once; the logged URL masks it
    await h.app.inject({ url: `/?token=${TOKEN}` });
    await h.app.inject({ url: `/?%74oken=${TOKEN}` }); // fastify decodes the key: it must be masked too
    await h.app.inject({ url: `/v1/executions?limit=1&token=${TOKEN}`, headers: auth });
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).toContain('[redacted]');
    expect(logs).not.toContain(TOKEN);
  });
});

describe('unexpected errors', () => {
  it('500 INTERNAL with a generic message, details only in the log', async () => {
    const h = await startHarness();
    let logs = '';
    const stream = new Writable({
      write(chunk, _enc, cb) {
        logs += chunk.toString();
        cb();
      },
    });
    // The real engine, with one method broken the way a bug would break it.
    const broken = Object.create(h.engine) as typeof h.engine;
    broken.getExecution = async () => {
      throw new Error('database file /secret/path is corrupt');
    };
    const app = buildServer({ engine: broken, logger: { level: 'info', stream }, token: 'tkn' });
    try {
      const res = await app.inject({ url: '/v1/executions/abc', headers: { authorization: 'Bearer tkn' } });
      const error = expectError(res, 500, 'INTERNAL');
      expect(error.message).not.toContain('secret');
      expect(res.body).not.toContain('corrupt');
      expect(logs).toContain('corrupt');
      expect(logs).not.toContain('Bearer tkn');
    } finally {
      await app.close();
      await h.close();
    }
  });

  it('503 STORE_UNAVAILABLE with a generic message; the driver detail (host:port) only in the log', async () => {
    const store = await openStore(':memory:');
    let logs = '';
    const stream = new Writable({
      write(chunk, _enc, cb) {
        logs += chunk.toString();
        cb();
      },
    });
    // A real store whose reads fail the way an unreachable PostgreSQL makes them fail.
    const faulty = Object.create(store) as Store;
    faulty.getExecution = async () => {
      throw new StepwiseError('STORE_UNAVAILABLE', 'storage fault ECONNREFUSED: connect ECONNREFUSED 10.0.0.5:5432');
    };
    const engine = new Engine({ store: faulty });
    const app = buildServer({ engine, logger: { level: 'info', stream } });
    try {
      const res = await app.inject({ url: '/v1/executions/abc' });
      const error = expectError(res, 503, 'STORE_UNAVAILABLE');
      expect(error.message).toBe('the store is unavailable; retry later');
      expect(res.body).not.toContain('10.0.0.5');
      expect(res.body).not.toContain('ECONNREFUSED');
      expect(logs).toContain('10.0.0.5:5432');
    } finally {
      await app.close();
      await store.close();
    }
  });
});
