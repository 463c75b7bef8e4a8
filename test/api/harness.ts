/** Real engine + real store + the checkout example behind buildServer, for app.inject() tests. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Simulate } from '../../examples/checkout/handlers.js';
import { checkout, shipping } from '../../examples/checkout/workflow.js';
import { buildServer, type BuildServerOptions } from '../../src/api/server.js';
import { Engine, openStore, workflow, type Store } from '../../src/index.js';

/** A workflow without an input schema: any JSON value is a valid input. */
export const ANY_INPUT = workflow('anyInput').pass('echo').build();

export interface Harness {
  app: FastifyInstance;
  engine: Engine;
  store: Store;
  close(): Promise<void>;
}

export async function startHarness(opts: Omit<BuildServerOptions, 'engine'> = {}): Promise<Harness> {
  const store = await openStore(':memory:');
  const engine = new Engine({ store, pollIntervalMs: 50 });
  engine.register(checkout, shipping, ANY_INPUT);
  await engine.start();
  const app = buildServer({ engine, ...opts });
  await app.ready();
  return {
    app,
    engine,
    store,
    async close() {
      await app.close();
      await engine.stop({ graceMs: 2000 });
      await store.close();
    },
  };
}

export type { Simulate };

let orders = 0;
export function cart(simulate?: Simulate, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  orders += 1;
  return {
    orderId: `order-${orders}`,
    // A customer per order: the checkout runs one order per customer at a time.
    customer: { id: `cust-${orders}`, email: `cust-${orders}@example.com` },
    items: [
      { sku: 'SKU-1', qty: 2, price: 9.5 },
      { sku: 'SKU-2', qty: 1, price: 20 },
    ],
    ...(simulate ? { simulate } : {}),
    ...overrides,
  };
}

export function json<T = any>(res: LightMyRequestResponse): T {
  return JSON.parse(res.body) as T;
}

export function expectError(res: LightMyRequestResponse, status: number, code: string): { code: string; message: string } {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = json(res);
  expect(body).toEqual({ error: { code, message: expect.any(String) } });
  expect(body.error.message).not.toMatch(/\n\s+at /); // never a stack trace
  return body.error;
}

export async function startExecution(
  app: FastifyInstance,
  input: unknown,
  extra: { id?: string; headers?: Record<string, string> } = {},
): Promise<{ id: string; workflow: string; status: string }> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/workflows/checkout/executions',
    headers: extra.headers,
    payload: { input, ...(extra.id ? { id: extra.id } : {}) },
  });
  expect(res.statusCode, res.body).toBe(201);
  return json(res);
}

export async function getExecution(app: FastifyInstance, id: string, headers?: Record<string, string>): Promise<any> {
  const res = await app.inject({ url: `/v1/executions/${encodeURIComponent(id)}`, headers });
  expect(res.statusCode, res.body).toBe(200);
  return json(res);
}

/** Polls the API until the execution is no longer QUEUED or RUNNING. */
export async function waitEnded(app: FastifyInstance, id: string, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const execution = await getExecution(app, id);
    if (execution.status !== 'RUNNING' && execution.status !== 'QUEUED') return execution;
    if (Date.now() > deadline) throw new Error(`execution ${id} still ${execution.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Reads the whole history through the API, following nextCursor. */
export async function history(app: FastifyInstance, id: string, pageSize = 1000): Promise<any[]> {
  const events: any[] = [];
  let after: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const qs = new URLSearchParams({ limit: String(pageSize), ...(after ? { after } : {}) });
    const res = await app.inject({ url: `/v1/executions/${encodeURIComponent(id)}/history?${qs}` });
    expect(res.statusCode, res.body).toBe(200);
    const body = json(res);
    events.push(...body.events);
    if (!body.nextCursor) return events;
    after = body.nextCursor;
  }
  throw new Error('history did not end');
}

export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A JSON text whose innermost value sits `depth` levels down. */
export function nested(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}
