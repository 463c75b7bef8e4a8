/**
 * Webhooks through the real server (buildServer + app.inject) and a real engine on SQLite: the
 * signature is checked over the raw bytes (GitHub and Stripe styles), a redelivery starts nothing
 * new, and every hostile request gets its documented status and catalog code with nothing started.
 */
import { createHmac } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { Engine, StepwiseError, openStore, webhook, workflow, type Store } from '../../src/index.js';

const SECRET = 'github-secret-0123456789';
const STRIPE_SECRET = 'whsec_stripe-secret-0123456789';
const OLD_SECRET = 'rotated-out-secret-0123456789';
const TOKEN = 'api-token-for-this-test';

const received = workflow('received').task('note', async (input: unknown) => ({ got: input })).build();

let store: Store;
let engine: Engine;
let app: FastifyInstance;

function github(body: string | Buffer, secret = SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function stripe(body: string | Buffer, t = Math.floor(Date.now() / 1000), secret = STRIPE_SECRET): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex')}`;
}

function post(name: string, body: string | Buffer, headers: Record<string, string>): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: `/v1/hooks/${name}`, headers: { 'content-type': 'application/json', ...headers }, payload: body });
}

async function executionCount(): Promise<number> {
  return (await engine.listExecutions({ limit: 500 })).items.length;
}

function expectError(res: LightMyRequestResponse, status: number, code: string): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(JSON.parse(res.body)).toEqual({ error: { code, message: expect.any(String) } });
}

beforeAll(async () => {
  store = await openStore(':memory:');
  engine = new Engine({ store });
  engine.register(received);
  await engine.start();
  app = buildServer({
    engine,
    token: TOKEN,
    hooks: [
      webhook({ name: 'gh', workflow: 'received', secret: [SECRET, OLD_SECRET], maxBodyBytes: 4096 }),
      webhook({
        name: 'stripe',
        workflow: 'received',
        secret: STRIPE_SECRET,
        signature: { style: 'stripe', toleranceSeconds: 60 },
        input: async (body) => ({ event: (body as { type?: string }).type }),
      }),
      webhook({
        name: 'picky',
        workflow: 'received',
        secret: SECRET,
        signature: { header: 'X-Signature' },
        deliveryId: { header: 'X-Delivery' },
        input: (body) => {
          if (typeof (body as { amount?: unknown }).amount !== 'number') throw new Error('amount must be a number');
          return body;
        },
      }),
    ],
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await engine?.stop({ graceMs: 1000 });
  await store?.close();
});

describe('POST /v1/hooks/:name', () => {
  it('starts the workflow for a signed GitHub delivery, without the API token, and the execution runs', async () => {
    const body = JSON.stringify({ action: 'opened', number: 7 });
    const res = await post('gh', body, { 'x-hub-signature-256': github(body), 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
    expect(res.statusCode, res.body).toBe(201);
    const started = JSON.parse(res.body);
    expect(started.id).toBe('hook.gh:72d3162e-cc78-11e3-81ab-4c9367dc0958');
    expect(res.headers.location).toBe(`/v1/executions/${encodeURIComponent(started.id)}`);
    const ended = await engine.waitForEnd(started.id, 10_000);
    expect(ended.status).toBe('SUCCEEDED');
    expect(ended.input).toEqual({ action: 'opened', number: 7 });
  });

  it('answers a redelivery 200 with the same execution and starts nothing new', async () => {
    const body = JSON.stringify({ action: 'closed' });
    const headers = { 'x-hub-signature-256': github(body), 'x-github-delivery': 'delivery-redelivered' };
    const first = await post('gh', body, headers);
    expect(first.statusCode).toBe(201);
    const before = await executionCount();
    const again = await post('gh', body, headers);
    expect(again.statusCode, again.body).toBe(200);
    expect(JSON.parse(again.body).id).toBe(JSON.parse(first.body).id);
    expect(await executionCount()).toBe(before);
  });

  it('answers 409 when a delivery id comes back with another body', async () => {
    const one = JSON.stringify({ n: 1 });
    const two = JSON.stringify({ n: 2 });
    expect((await post('gh', one, { 'x-hub-signature-256': github(one), 'x-github-delivery': 'reused-id' })).statusCode).toBe(201);
    expectError(await post('gh', two, { 'x-hub-signature-256': github(two), 'x-github-delivery': 'reused-id' }), 409, 'EXECUTION_CONFLICT');
  });

  it('turns a delivery id that cannot be part of an execution id into a stable hash of it', async () => {
    const body = JSON.stringify({ odd: true });
    const headers = { 'x-hub-signature-256': github(body), 'x-github-delivery': 'order/42 with spaces' };
    const first = await post('gh', body, headers);
    expect(first.statusCode, first.body).toBe(201);
    expect(JSON.parse(first.body).id).toMatch(/^hook\.gh:h-[0-9a-f]{32}$/);
    const again = await post('gh', body, headers);
    expect(again.statusCode).toBe(200);
    expect(JSON.parse(again.body).id).toBe(JSON.parse(first.body).id);
    const long = await post('gh', body, { ...headers, 'x-github-delivery': 'x'.repeat(200) });
    expect(JSON.parse(long.body).id).toMatch(/^hook\.gh:h-[0-9a-f]{32}$/);
  });

  it('accepts a delivery signed with any of the secrets (rotation)', async () => {
    const body = JSON.stringify({ rotated: true });
    const res = await post('gh', body, { 'x-hub-signature-256': github(body, OLD_SECRET), 'x-github-delivery': 'rotated-1' });
    expect(res.statusCode, res.body).toBe(201);
  });

  it('checks the signature over the raw bytes, not over re-serialised JSON', async () => {
    // Same JSON value, other bytes (spacing, key order): only the exact bytes signed are accepted.
    const sent = '{ "b": 1,   "a": [1, 2] }';
    const ok = await post('gh', sent, { 'x-hub-signature-256': github(sent), 'x-github-delivery': 'raw-bytes' });
    expect(ok.statusCode, ok.body).toBe(201);
    const reserialised = JSON.stringify(JSON.parse(sent));
    expectError(await post('gh', sent, { 'x-hub-signature-256': github(reserialised), 'x-github-delivery': 'raw-bytes-2' }), 401, 'SIGNATURE_INVALID');
  });

  it('starts from a Stripe-style signature, with the event id as the delivery id and the input mapped', async () => {
    const body = JSON.stringify({ id: 'evt_1PqR', type: 'checkout.session.completed' });
    const res = await post('stripe', body, { 'stripe-signature': stripe(body) });
    expect(res.statusCode, res.body).toBe(201);
    const execution = await engine.waitForEnd('hook.stripe:evt_1PqR', 10_000);
    expect(execution.input).toEqual({ event: 'checkout.session.completed' });
  });

  it('uses a configured signature header and delivery header, and refuses what the input mapping refuses', async () => {
    const good = JSON.stringify({ amount: 12 });
    expect((await post('picky', good, { 'x-signature': github(good), 'x-delivery': 'p-1' })).statusCode).toBe(201);
    const bad = JSON.stringify({ amount: 'twelve' });
    const before = await executionCount();
    const res = await post('picky', bad, { 'x-signature': github(bad), 'x-delivery': 'p-2' });
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(JSON.parse(res.body).error.message).toBe('amount must be a number');
    expect(await executionCount()).toBe(before);
  });
});

describe('hostile webhook requests start nothing', () => {
  const body = JSON.stringify({ hello: 'world' });
  const t = Math.floor(Date.now() / 1000);
  const rows: Array<{ name: string; hook: string; payload: string | Buffer; headers: Record<string, string>; status: number; code: string }> = [
    { name: 'no signature', hook: 'gh', payload: body, headers: { 'x-github-delivery': 'h1' }, status: 401, code: 'SIGNATURE_INVALID' },
    { name: 'an empty signature', hook: 'gh', payload: body, headers: { 'x-hub-signature-256': '', 'x-github-delivery': 'h2' }, status: 401, code: 'SIGNATURE_INVALID' },
    { name: 'a signature with another secret', hook: 'gh', payload: body, headers: { 'x-hub-signature-256': github(body, 'not-the-secret-0123456'), 'x-github-delivery': 'h3' }, status: 401, code: 'SIGNATURE_INVALID' },
    { name: 'a signature of another body', hook: 'gh', payload: body, headers: { 'x-hub-signature-256': github(`${body} `), 'x-github-delivery': 'h4' }, status: 401, code: 'SIGNATURE_INVALID' },
    { name: 'a signature without its sha256= prefix', hook: 'gh', payload: body, headers: { 'x-hub-signature-256': github(body).slice(7), 'x-github-delivery': 'h5' }, status: 401, code: 'SIGNATURE_INVALID' },
    { name: 'a truncated signature', hook: 'gh', payload: body, headers: { 'x-hub-signature-256': github(body).slice(0, 40), 'x-github-delivery': 'h6' }, status: 401, code: 'SIGNATURE_INVALID' },
    { name: 'the bearer token instead of a signature', hook: 'gh', payload: body, headers: { authorization: `Bearer ${TOKEN}`, 'x-github-delivery': 'h7' }, status: 401, code: 'SIGNATURE_INVALID' },
    { name: 'a Stripe signature too old (replayed later)', hook: 'stripe', payload: body, headers: { 'stripe-signature': stripe(body, t - 3600) }, status: 401, code: 'SIGNATURE_INVALID' },
    { name: 'a Stripe signature from the future', hook: 'stripe', payload: body, headers: { 'stripe-signature': stripe(body, t + 3600) }, status: 401, code: 'SIGNATURE_INVALID' },
    { name: 'a Stripe signature without a timestamp', hook: 'stripe', payload: body, headers: { 'stripe-signature': stripe(body).replace(/^t=\d+,/, '') }, status: 401, code: 'SIGNATURE_INVALID' },
    { name: 'a Stripe signature whose timestamp was changed', hook: 'stripe', payload: body, headers: { 'stripe-signature': stripe(body).replace(/^t=\d+/, `t=${t + 1}`) }, status: 401, code: 'SIGNATURE_INVALID' },
    { name: 'a GitHub signature sent to a Stripe hook', hook: 'stripe', payload: body, headers: { 'stripe-signature': github(body, STRIPE_SECRET) }, status: 401, code: 'SIGNATURE_INVALID' },
    { name: 'an unknown hook', hook: 'nope', payload: body, headers: { 'x-hub-signature-256': github(body), 'x-github-delivery': 'h8' }, status: 404, code: 'HOOK_NOT_FOUND' },
    { name: 'a signed body that is not JSON', hook: 'gh', payload: 'not json{', headers: { 'x-hub-signature-256': github('not json{'), 'x-github-delivery': 'h9' }, status: 400, code: 'MALFORMED_JSON' },
    { name: 'a signed empty body', hook: 'gh', payload: '', headers: { 'x-hub-signature-256': github(''), 'x-github-delivery': 'h10' }, status: 400, code: 'MALFORMED_JSON' },
    { name: 'a signed body that is not UTF-8', hook: 'gh', payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), headers: { 'x-hub-signature-256': github(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), 'x-github-delivery': 'h11' }, status: 400, code: 'MALFORMED_JSON' },
    { name: 'a signed body nested too deep', hook: 'gh', payload: `${'['.repeat(100)}${']'.repeat(100)}`, headers: { 'x-hub-signature-256': github(`${'['.repeat(100)}${']'.repeat(100)}`), 'x-github-delivery': 'h12' }, status: 400, code: 'INPUT_TOO_DEEP' },
    { name: 'a signed body with a __proto__ key', hook: 'gh', payload: '{"__proto__":{"admin":true}}', headers: { 'x-hub-signature-256': github('{"__proto__":{"admin":true}}'), 'x-github-delivery': 'h13' }, status: 400, code: 'VALIDATION_FAILED' },
    { name: 'a signed delivery without its delivery id', hook: 'gh', payload: body, headers: { 'x-hub-signature-256': github(body) }, status: 400, code: 'VALIDATION_FAILED' },
    { name: 'a Stripe event without an id', hook: 'stripe', payload: '{"type":"x"}', headers: { 'stripe-signature': stripe('{"type":"x"}') }, status: 400, code: 'VALIDATION_FAILED' },
    { name: "a body over the hook's limit", hook: 'gh', payload: JSON.stringify({ pad: 'x'.repeat(5000) }), headers: { 'x-hub-signature-256': github(JSON.stringify({ pad: 'x'.repeat(5000) })), 'x-github-delivery': 'h14' }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
    { name: "a body over the route's limit (refused from Content-Length)", hook: 'gh', payload: Buffer.alloc(2 * 1024 * 1024, 0x20), headers: { 'x-hub-signature-256': 'sha256=00', 'x-github-delivery': 'h15' }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
  ];

  for (const row of rows) {
    it(`${row.name} → ${row.status} ${row.code}`, async () => {
      const before = await executionCount();
      expectError(await post(row.hook, row.payload, row.headers), row.status, row.code);
      expect(await executionCount()).toBe(before);
    });
  }

  it('takes a signed delivery in any content type (the signature, not the type, vouches for it)', async () => {
    const res = await post('gh', body, { 'content-type': 'text/plain', 'x-hub-signature-256': github(body), 'x-github-delivery': 'text-plain' });
    expect(res.statusCode, res.body).toBe(201);
  });

  it('leaves the rest of the API behind the token and its JSON parser', async () => {
    expectError(await app.inject({ method: 'GET', url: '/v1/executions' }), 401, 'UNAUTHORIZED');
    const res = await app.inject({
      method: 'POST',
      url: '/v1/workflows/received/executions',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' },
      payload: '{"input":1}',
    });
    expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('is in the OpenAPI document', async () => {
    const doc = JSON.parse((await app.inject({ method: 'GET', url: '/openapi.json', headers: { authorization: `Bearer ${TOKEN}` } })).body);
    expect(doc.paths['/v1/hooks/{name}'].post.responses).toHaveProperty('201');
  });
});

describe('a hook bound to a workflow the engine lacks', () => {
  it('keeps the server from becoming ready, naming both', async () => {
    const server = buildServer({ engine, hooks: [webhook({ name: 'orphan', workflow: 'nowhere', secret: SECRET })] });
    await expect(server.ready()).rejects.toThrow("webhook 'orphan' starts workflow 'nowhere', which the engine does not have");
    await server.close().catch(() => undefined);
  });
});

describe('webhook() checks its definition', () => {
  const base = { name: 'h', workflow: 'received', secret: SECRET };
  it.each([
    ['a short secret', { ...base, secret: 'short' }, /secret must be a string of at least 16/],
    ['no secret', { ...base, secret: [] as string[] }, /secret/],
    ['a bad name', { ...base, name: 'has space' }, /name must be/],
    ['an unknown style', { ...base, signature: { style: 'gitlab' as never } }, /signature.style/],
    ['a bad delivery rule', { ...base, deliveryId: { cookie: 'x' } as never }, /deliveryId/],
    ['an unknown option', { ...base, sekret: 'x' } as never, /unknown option 'sekret'/],
  ])('refuses %s', (_label, options, message) => {
    let thrown: unknown;
    try {
      webhook(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StepwiseError);
    expect((thrown as StepwiseError).code).toBe('INVALID_DEFINITION');
    expect((thrown as Error).message).toMatch(message);
  });
});
