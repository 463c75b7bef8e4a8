import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server.js';
import { Engine, openStore, TerminalError, workflow, type Store } from '../../src/index.js';
import { expectError, json } from './harness.js';

let shippingOpen = false;
const waiting = workflow('waiting').waitForEvent('review', { event: 'review', resultPath: 'review' }).succeed('done').build();
const held = workflow('heldShip')
  .task('ship', async () => { if (!shippingOpen) throw new TerminalError('Shipping.Unavailable'); return 'shipped'; }, {
    catch: [{ errors: ['Shipping.Unavailable'], next: 'hold' }],
  })
  .succeed('done')
  .fail('hold', { error: 'Shipping.Unavailable', compensate: false })
  .build();

let app: FastifyInstance;
let engine: Engine;
let store: Store;
beforeEach(async () => {
  shippingOpen = false;
  store = await openStore(':memory:');
  engine = new Engine({ store, pollIntervalMs: 50 }).register(waiting, held);
  await engine.start();
  app = buildServer({ engine });
  await app.ready();
});
afterEach(async () => {
  await app.close();
  await engine.stop({ graceMs: 1000 });
  await store.close();
});

async function start(name: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: `/v1/workflows/${name}/executions`, payload: { input: { n: 1 } } });
  expect(res.statusCode, res.body).toBe(201);
  return json(res).id;
}

describe('POST /v1/executions/:id/events/:name', () => {
  it('201 delivers the event; the same id again is 200 and changes nothing; the execution ends with the payload', async () => {
    const id = await start('waiting');
    const first = await app.inject({ method: 'POST', url: `/v1/executions/${id}/events/review`, payload: { payload: { approved: true }, id: 'ev-1' } });
    expect(first.statusCode, first.body).toBe(201);
    expect(json(first)).toEqual({ id: 'ev-1', name: 'review', executionId: id, created: true });
    const end = await engine.waitForEnd(id, 10_000);
    expect(end.output).toEqual({ n: 1, review: { approved: true } });
    const history = json((await app.inject({ method: 'GET', url: `/v1/executions/${id}/history` }))).events as Array<{ type: string }>;
    expect(history.map((e) => e.type)).toContain('EventConsumed');
  });

  it('200 for a repeated id while the execution waits', async () => {
    const id = await start('waiting');
    const url = `/v1/executions/${id}/events/note`;
    expect((await app.inject({ method: 'POST', url, payload: { payload: 1, id: 'same' } })).statusCode).toBe(201);
    const again = await app.inject({ method: 'POST', url, payload: { payload: 2, id: 'same' } });
    expect(again.statusCode).toBe(200);
    expect(json(again).created).toBe(false);
  });

  it('a body-less POST delivers a null payload with a fresh id', async () => {
    const id = await start('waiting');
    const res = await app.inject({ method: 'POST', url: `/v1/executions/${id}/events/review`, headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res).id).toMatch(/^evt-/);
  });

  it('409 EXECUTION_ENDED for an ended execution, 404 for an unknown one, 400 for a bad name or id', async () => {
    const id = await start('waiting');
    await app.inject({ method: 'POST', url: `/v1/executions/${id}/events/review`, payload: { payload: true } });
    await engine.waitForEnd(id, 10_000);
    expectError(await app.inject({ method: 'POST', url: `/v1/executions/${id}/events/review`, payload: {} }), 409, 'EXECUTION_ENDED');
    expectError(await app.inject({ method: 'POST', url: '/v1/executions/nope/events/review', payload: {} }), 404, 'EXECUTION_NOT_FOUND');
    expectError(await app.inject({ method: 'POST', url: `/v1/executions/${id}/events/bad%20name`, payload: {} }), 400, 'VALIDATION_FAILED');
    expectError(await app.inject({ method: 'POST', url: `/v1/executions/${id}/events/review`, payload: { id: '../x' } }), 400, 'VALIDATION_FAILED');
    expectError(await app.inject({ method: 'POST', url: `/v1/executions/${id}/events/review`, payload: { extra: 1 } }), 400, 'VALIDATION_FAILED');
  });
});

describe('POST /v1/executions/:id/redrive', () => {
  it('202 resumes a held failure; then 409 EXECUTION_NOT_FAILED', async () => {
    const id = await start('heldShip');
    expect((await engine.waitForEnd(id, 10_000)).status).toBe('FAILED');
    shippingOpen = true;
    const res = await app.inject({ method: 'POST', url: `/v1/executions/${id}/redrive` });
    expect(res.statusCode, res.body).toBe(202);
    expect(json(res)).toMatchObject({ count: 1, execution: { id, status: 'RUNNING' } });
    expect((await engine.waitForEnd(id, 10_000)).status).toBe('SUCCEEDED');
    expectError(await app.inject({ method: 'POST', url: `/v1/executions/${id}/redrive` }), 409, 'EXECUTION_NOT_FAILED');
    expectError(await app.inject({ method: 'POST', url: '/v1/executions/nope/redrive' }), 404, 'EXECUTION_NOT_FOUND');
  });
});
