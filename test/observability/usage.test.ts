import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { checkout, shipping } from '../../examples/checkout/workflow.js';
import { buildServer } from '../../src/api/server.js';
import { Engine, openStore, type Store } from '../../src/index.js';
import { usageOf } from '../../src/observability/usage.js';
import { cart, expectError } from '../api/harness.js';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function setUp(prices?: { perThousandTransitions: number; currency: string }): Promise<{ app: FastifyInstance; engine: Engine; store: Store }> {
  const store = await openStore(':memory:');
  const engine = new Engine({ store }).register(checkout, shipping);
  await engine.start();
  const app = buildServer({ engine, ...(prices ? { prices } : {}) });
  await app.ready();
  cleanup.push(async () => {
    await app.close();
    await engine.stop({ graceMs: 0 });
    await store.close();
  });
  return { app, engine, store };
}

/**
 * The checkout's state transitions, counted by hand from examples/checkout/workflow.ts for a run
 * whose payment fails once with a transient error and then succeeds (no fraud review):
 *   validateCart 1, cartValid (choice) 1, processPayment 2 (the retry is a transition),
 *   needsReview (choice) 1, fulfil (parallel) 1, createOrder 1, sendReceipt 1, reserveInventory 1,
 *   waitForShipping (wait) 1, scheduleShipping 1, sendConfirmation 1, done (succeed) 1  = 13.
 * Step attempts: the 8 task attempts above (validateCart, processPayment x2, createOrder,
 * sendReceipt, reserveInventory, scheduleShipping, sendConfirmation) = 8; retries: 1.
 */
const CHECKOUT_WITH_ONE_RETRY = { stateTransitions: 13, stepAttempts: 8, retries: 1 };

describe('usage and cost', () => {
  it("counts a checkout's transitions, attempts and retries exactly, and prices them like Step Functions", async () => {
    const { app, engine } = await setUp();
    const { execution } = await engine.startExecution('checkout', cart({ paymentTransientFailures: 1 }));
    await engine.waitForEnd(execution.id, 10_000);

    const res = await app.inject({ method: 'GET', url: `/v1/executions/${execution.id}/usage` });
    expect(res.statusCode, res.body).toBe(200);
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ executionId: execution.id, workflow: 'checkout', status: 'SUCCEEDED', usage: CHECKOUT_WITH_ONE_RETRY });
    // $0.025 per 1,000 transitions: 13 transitions cost $0.000325.
    expect(body.cost).toEqual({ amount: 0.000325, currency: 'USD' });

    // Bytes are those of the stored history: every event as JSON, and the payloads within it.
    const { events } = await engine.getHistory(execution.id, { limit: 1000 });
    const historyBytes = events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0);
    expect(body.usage.historyBytes).toBe(historyBytes);
    const outputs = events.filter((e) => e.type === 'StepSucceeded').reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e.data!.output)), 0);
    expect(body.usage.payloadBytes).toBe(Buffer.byteLength(JSON.stringify(execution.input)) + outputs + Buffer.byteLength(JSON.stringify(events.at(-1)!.data!.output)));
    expect(body.usage.handlerMs).toBeGreaterThanOrEqual(0);
    expect(usageOf(events)).toEqual(body.usage);
  });

  it('counts a compensation as a transition, a crash re-run as an attempt but not a transition, a waitForEvent once', () => {
    const at = (type: string, step: string, data: Record<string, unknown> = {}, timestamp = 0) => ({ seq: 0, type, step, attempt: 1, timestamp, data: { key: step, ...data } }) as never;
    const usage = usageOf([
      at('StepStarted', 'pay', {}, 100), at('StepStarted', 'pay', { rerun: { previousWorker: 'w', reason: 'process-restarted' } }, 200),
      at('StepSucceeded', 'pay', { output: 1 }, 250),
      at('StepStarted', 'ship', {}, 300), at('StepFailed', 'ship', { error: { code: 'X', message: 'x' } }, 310),
      at('CompensationStarted', 'refund', { key: 'pay' }, 400), at('CompensationSucceeded', 'refund', { key: 'pay', output: null }, 430),
      // A waitForEvent state with a timeout: entered, and its timer armed: one state, one transition.
      at('StateEntered', 'awaitReview', {}, 500), at('TimerStarted', 'awaitReview', { dueAt: 900 }, 500),
      // A wait state: its timer is its only event.
      at('TimerStarted', 'nap', { dueAt: 900 }, 600),
    ]);
    expect(usage).toMatchObject({ stateTransitions: 5, stepAttempts: 4, retries: 0, handlerMs: 50 + 10 + 30 });
  });

  it('sums per workflow per day over a range, with the configured prices', async () => {
    const { app, engine } = await setUp({ perThousandTransitions: 1, currency: 'EUR' });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await engine.startExecution('checkout', cart({ paymentTransientFailures: 1 }))).execution.id);
    for (const id of ids) await engine.waitForEnd(id, 10_000);
    const today = new Date().toISOString().slice(0, 10);
    const res = await app.inject({ method: 'GET', url: '/v1/usage?workflow=checkout' });
    expect(res.statusCode, res.body).toBe(200);
    const body = JSON.parse(res.body);
    expect(body.complete).toBe(true);
    expect(body.days).toEqual([{ workflow: 'checkout', day: today, executions: 3, usage: expect.objectContaining({ stateTransitions: 39, stepAttempts: 24, retries: 3 }), cost: { amount: 0.039, currency: 'EUR' } }]);
    expect(body.total).toMatchObject({ executions: 3, cost: { amount: 0.039, currency: 'EUR' } });

    const past = await app.inject({ method: 'GET', url: '/v1/usage?from=2020-01-01&to=2020-01-02' });
    expect(JSON.parse(past.body)).toMatchObject({ days: [], total: { executions: 0 }, from: '2020-01-01T00:00:00.000Z', to: '2020-01-02T00:00:00.000Z' });
  });

  it('refuses a bad range or an unknown execution with a typed error', async () => {
    const { app } = await setUp();
    expectError(await app.inject({ method: 'GET', url: '/v1/usage?from=yesterday' }), 400, 'VALIDATION_FAILED');
    expectError(await app.inject({ method: 'GET', url: '/v1/usage?from=2024-01-02&to=2024-01-01' }), 400, 'VALIDATION_FAILED');
    expectError(await app.inject({ method: 'GET', url: '/v1/usage?from=2020-01-01&to=2024-01-01' }), 400, 'VALIDATION_FAILED');
    expectError(await app.inject({ method: 'GET', url: '/v1/usage?workflow=no%20such' }), 400, 'VALIDATION_FAILED');
    expectError(await app.inject({ method: 'GET', url: '/v1/executions/nope/usage' }), 404, 'EXECUTION_NOT_FOUND');
  });
});
