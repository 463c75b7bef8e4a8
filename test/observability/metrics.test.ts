import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { checkout, shipping } from '../../examples/checkout/workflow.js';
import { buildServer } from '../../src/api/server.js';
import { Engine, openStore, workflow, type Store } from '../../src/index.js';
import { Metrics } from '../../src/observability/metrics.js';
import { cart } from '../api/harness.js';
import { parseProm } from './prom-text.js';

const TOKEN = 'metrics-test-token-0123456789';
const sleeper = workflow('sleeper').wait('nap', { durationMs: 3_600_000 }).build();

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function setUp(): Promise<{ app: FastifyInstance; engine: Engine; store: Store }> {
  const store = await openStore(':memory:');
  const metrics = new Metrics({ store });
  const engine = new Engine({ store, observer: metrics }).register(checkout, shipping, sleeper);
  await engine.start();
  const app = buildServer({ engine, token: TOKEN, metrics });
  await app.ready();
  cleanup.push(async () => {
    await app.close();
    await engine.stop({ graceMs: 0 });
    await store.close();
  });
  return { app, engine, store };
}

async function scrape(app: FastifyInstance) {
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseProm(res.body);
}

describe('GET /metrics', () => {
  it('needs the token like the rest of the API', async () => {
    const { app } = await setUp();
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body).error.code).toBe('UNAUTHORIZED');
  });

  it('declares the catalogue with its types, and Node process metrics', async () => {
    const { app } = await setUp();
    const { types } = await scrape(app);
    expect(Object.fromEntries([...types].filter(([n]) => !n.startsWith('stepwise_process') && !n.startsWith('stepwise_nodejs')))).toEqual({
      stepwise_executions_started_total: 'counter',
      stepwise_executions_ended_total: 'counter',
      stepwise_executions_running: 'gauge',
      stepwise_step_duration_seconds: 'histogram',
      stepwise_step_retries_total: 'counter',
      stepwise_work_due: 'gauge',
      stepwise_work_lag_seconds: 'gauge',
      stepwise_timers_pending: 'gauge',
      stepwise_commit_duration_seconds: 'histogram',
      stepwise_commit_batch_size: 'histogram',
      stepwise_store_errors_total: 'counter',
      stepwise_alerts_total: 'counter',
    });
    expect(types.get('stepwise_process_cpu_seconds_total')).toBe('counter');
    expect(types.get('stepwise_nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  it('moves as executions run: starts, ends, retries, step durations, commits, running and timers', async () => {
    const { app, engine } = await setUp();
    const before = await scrape(app);
    expect(before.value('stepwise_executions_started_total', { workflow: 'checkout' })).toBeUndefined();
    expect(before.value('stepwise_timers_pending')).toBe(0);

    const ok = await engine.startExecution('checkout', cart({ paymentTransientFailures: 1 }));
    const declined = await engine.startExecution('checkout', cart({ paymentDeclined: true }));
    await engine.waitForEnd(ok.execution.id, 10_000);
    await engine.waitForEnd(declined.execution.id, 10_000);
    const nap = await engine.startExecution('sleeper', {});

    const after = await scrape(app);
    expect(after.value('stepwise_executions_started_total', { workflow: 'checkout' })).toBe(2);
    expect(after.value('stepwise_executions_started_total', { workflow: 'sleeper' })).toBe(1);
    expect(after.value('stepwise_executions_ended_total', { workflow: 'checkout', status: 'SUCCEEDED' })).toBe(1);
    expect(after.value('stepwise_executions_ended_total', { workflow: 'checkout', status: 'FAILED' })).toBe(1);
    expect(after.value('stepwise_step_retries_total', { workflow: 'checkout', step: 'processPayment' })).toBe(1);
    // processPayment: one transient failure and one success for the first, one decline for the second.
    expect(after.value('stepwise_step_duration_seconds_count', { workflow: 'checkout', step: 'processPayment', outcome: 'failed' })).toBe(2);
    expect(after.value('stepwise_step_duration_seconds_count', { workflow: 'checkout', step: 'processPayment', outcome: 'succeeded' })).toBe(1);
    expect(after.value('stepwise_step_duration_seconds_bucket', { workflow: 'checkout', step: 'validateCart', outcome: 'succeeded', le: '+Inf' })).toBe(2);
    expect(after.value('stepwise_commit_duration_seconds_count')).toBeGreaterThan(5);
    expect(after.value('stepwise_commit_batch_size_sum')).toBeGreaterThanOrEqual(after.value('stepwise_commit_batch_size_count')!);
    expect(after.value('stepwise_executions_running', { workflow: 'sleeper' })).toBe(1);
    expect(after.value('stepwise_executions_running', { workflow: 'checkout' })).toBeUndefined();
    expect(after.value('stepwise_timers_pending')).toBe(1);
    expect(after.value('stepwise_work_due', { kind: 'timer' })).toBe(0);
    expect(after.value('stepwise_work_lag_seconds')).toBe(0);
    // No label anywhere carries an execution id.
    for (const id of [ok.execution.id, declined.execution.id, nap.execution.id]) expect(JSON.stringify([...after.types.keys()].flatMap((n) => after.samples(n)))).not.toContain(id);

    await engine.cancel(nap.execution.id);
    await engine.waitForEnd(nap.execution.id, 10_000);
    const ended = await scrape(app);
    expect(ended.value('stepwise_executions_running', { workflow: 'sleeper' })).toBeUndefined();
    expect(ended.value('stepwise_timers_pending')).toBe(0);
    expect(ended.value('stepwise_executions_ended_total', { workflow: 'sleeper', status: 'CANCELLED' })).toBe(1);
  });
});
