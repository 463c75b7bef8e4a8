import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { Engine, openStore, serve, TerminalError, workflow, type ServeOptions, type StepwiseServer } from '../../src/index.js';
import { verifySignature, SIGNATURE_HEADER } from '../../src/handlers/signature.js';
import { Alerts } from '../../src/observability/alerts.js';
import { combineObservers } from '../../src/observability/combine.js';
import { Metrics } from '../../src/observability/metrics.js';
import { expectError } from '../api/harness.js';
import { parseProm } from './prom-text.js';

const SECRET = 'alert-webhook-secret-0123456789';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

/** A webhook receiver that verifies every delivery's signature; it answers 500 to the first `failFirst` deliveries. */
async function receiver(failFirst = 0) {
  const received: { verified: boolean; body: any }[] = [];
  let deliveries = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries++;
      if (deliveries <= failFirst) {
        res.statusCode = 500;
        res.end();
        return;
      }
      const raw = Buffer.concat(chunks);
      received.push({ verified: verifySignature(raw, req.headers[SIGNATURE_HEADER], SECRET), body: JSON.parse(raw.toString('utf8')) });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, received, deliveries: () => deliveries };
}

/** Loops tick → again → tick … five times, then succeeds: 11 state transitions an execution. */
const looper = workflow<{ n?: number }>('looper')
  .task('tick', async (d) => ({ n: (d.n ?? 0) + 1 }))
  .choice('again', { choices: [{ when: (d) => d.n < 5, next: 'tick' }], default: 'done' })
  .succeed('done')
  .build();

const flaky = workflow<{ fail: boolean }>('flaky')
  .task('maybe', async (d) => { if (d.fail) throw new TerminalError('Broken'); return d; })
  .build();

async function setUp(alerts: Alerts, metrics?: Metrics) {
  const store = await openStore(':memory:');
  const engine = new Engine({ store, observer: combineObservers(metrics, alerts) }).register(looper, flaky);
  await engine.start();
  const app = buildServer({ engine, startGate: alerts, ...(metrics ? { metrics } : {}) });
  await app.ready();
  cleanup.push(async () => {
    alerts.close();
    await app.close();
    await engine.stop({ graceMs: 0 });
    await store.close();
  });
  const run = async (name: string, input: unknown) => {
    const res = await app.inject({ method: 'POST', url: `/v1/workflows/${name}/executions`, payload: { input } });
    if (res.statusCode !== 201) return res;
    await engine.waitForEnd(JSON.parse(res.body).id, 10_000);
    return res;
  };
  return { app, engine, run };
}

describe('daily budget', () => {
  it('alerts at 80% and 100%, then refuses new starts of the looping workflow with 429 BUDGET_EXCEEDED', async () => {
    const hook = await receiver(1);
    const metrics = new Metrics({ processMetrics: false });
    const alerts = new Alerts({
      budgets: [{ workflow: 'looper', maxTransitionsPerDay: 20 }], webhooks: [{ url: hook.url, secret: SECRET }],
      counter: metrics.alerts, retryMinTimeoutMs: 10,
    });
    const { app, run } = await setUp(alerts, metrics);

    expect((await run('looper', {})).statusCode).toBe(201); // 11 transitions: 55%, no alert
    await alerts.settled();
    expect(hook.received).toEqual([]);
    expect((await run('looper', {})).statusCode).toBe(201); // 22: past 80% and 100%
    expectError(await run('looper', {}), 429, 'BUDGET_EXCEEDED');
    expect((await run('flaky', { fail: false })).statusCode).toBe(201); // other workflows are not limited

    await alerts.settled();
    // The first delivery got a 500 and was retried; both arrived signed with the shared secret.
    expect(hook.deliveries()).toBe(3);
    expect(hook.received.map((r) => r.verified)).toEqual([true, true]);
    expect(hook.received.map((r) => r.body.rule).sort()).toEqual(['budget:looper:100%', 'budget:looper:80%']);
    const full = hook.received.find((r) => r.body.rule === 'budget:looper:100%')!.body;
    expect(full).toMatchObject({ kind: 'dailyBudget', workflow: 'looper', details: { maxTransitionsPerDay: 20, level: 1 }, at: expect.any(String) });
    // Counted as commits land: the commit that reached the budget, whatever it brought.
    expect(full.details.transitions).toBeGreaterThanOrEqual(20);
    const scraped = parseProm((await app.inject({ url: '/metrics' })).body);
    expect(scraped.value('stepwise_alerts_total', { rule: 'budget:looper:80%' })).toBe(1);
  });

  it("with onExceeded 'alert', alerts but keeps starting", async () => {
    const alerts = new Alerts({ budgets: [{ workflow: 'looper', maxTransitionsPerDay: 5, onExceeded: 'alert' }] });
    const { run } = await setUp(alerts);
    expect((await run('looper', {})).statusCode).toBe(201);
    expect((await run('looper', {})).statusCode).toBe(201);
  });
});

describe('daily budget across a restart', () => {
  it("reads the day's spend from the store when the next process starts: the budget stays spent, passed levels are not alerted again", async () => {
    const store = await openStore(':memory:');
    cleanup.push(() => store.close());
    const budgets = [{ workflow: 'looper', maxTransitionsPerDay: 20 }];
    const warnings: unknown[] = [];
    const log = { warn: (o: object) => warnings.push(o), error: () => {} };
    /** One process: an engine and its alerts on the shared store; `restore` as serve() does it, before the engine starts. */
    const processOn = async (alerts: Alerts, restore: boolean) => {
      const engine = new Engine({ store, observer: alerts }).register(looper, flaky);
      if (restore) expect(await alerts.restore(engine)).toEqual([]);
      await engine.start();
      const app = buildServer({ engine, startGate: alerts });
      await app.ready();
      const stop = async () => {
        alerts.close();
        await app.close();
        await engine.stop({ graceMs: 0 });
      };
      const start = async () => {
        const res = await app.inject({ method: 'POST', url: '/v1/workflows/looper/executions', payload: { input: {} } });
        if (res.statusCode === 201) await engine.waitForEnd(JSON.parse(res.body).id, 10_000);
        return res;
      };
      return { engine, app, stop, start };
    };

    const first = await processOn(new Alerts({ budgets, log }), true);
    expect((await first.start()).statusCode).toBe(201);
    expect((await first.start()).statusCode).toBe(201); // 22 of 20: alerted at 80% and 100%
    expectError(await first.start(), 429, 'BUDGET_EXCEEDED');
    expect(warnings).toHaveLength(2);
    await first.stop();

    // Without reading the store, a new process would begin the day at zero.
    const forgetful = new Alerts({ budgets });
    expect(forgetful.spentToday('looper')).toBe(0);

    const alerts = new Alerts({ budgets, log });
    const second = await processOn(alerts, true);
    cleanup.push(second.stop);
    // The spend read back is the transitions the usage endpoint counts for today's executions.
    const usage = JSON.parse((await second.app.inject({ url: '/v1/usage?workflow=looper' })).body);
    expect(usage.total.usage.stateTransitions).toBe(22);
    expect(alerts.spentToday('looper')).toBe(22);
    expectError(await second.start(), 429, 'BUDGET_EXCEEDED');
    expect(warnings).toHaveLength(2); // 80% and 100% were passed before the restart: not raised again

    // Transitions committed before the day began do not count against it.
    const tomorrow = new Alerts({ budgets, now: () => Date.now() + 86_400_000 });
    expect(await tomorrow.restore(second.engine)).toEqual([]);
    expect(tomorrow.spentToday('looper')).toBe(0);
  });
});

describe('daily budget in serve()', () => {
  it('a restarted server on the same store refuses starts of a workflow that spent its day before the restart', async () => {
    const store = await openStore(':memory:');
    cleanup.push(() => store.close());
    const options: ServeOptions = { workflows: [looper, flaky], store, port: 0, logLevel: 'silent', alerts: { budgets: [{ workflow: 'looper', maxTransitionsPerDay: 20 }] } };
    const start = async (server: StepwiseServer) => {
      const res = await server.app.inject({ method: 'POST', url: '/v1/workflows/looper/executions', payload: { input: {} } });
      if (res.statusCode === 201) await server.engine.waitForEnd(JSON.parse(res.body).id, 10_000);
      return res;
    };
    const first = await serve(options);
    expect((await start(first)).statusCode).toBe(201);
    expect((await start(first)).statusCode).toBe(201);
    expectError(await start(first), 429, 'BUDGET_EXCEEDED');
    await first.close({ graceMs: 0 });

    const second = await serve(options);
    cleanup.push(() => second.close({ graceMs: 0 }));
    expectError(await start(second), 429, 'BUDGET_EXCEEDED');
  });
});

describe('alert rules', () => {
  it('failure rate over a window: one signed webhook per rule per window, whatever fails after', async () => {
    const hook = await receiver();
    let now = Date.UTC(2026, 0, 1);
    const alerts = new Alerts({
      rules: [{ name: 'flaky-failing', kind: 'failureRate', workflow: 'flaky', threshold: 0.5, windowMs: 60_000, minExecutions: 4 }],
      webhooks: [{ url: hook.url, secret: SECRET }], now: () => now,
    });
    const { run } = await setUp(alerts);
    await run('flaky', { fail: false });
    await run('flaky', { fail: true });
    await run('flaky', { fail: false });
    await alerts.settled();
    expect(hook.received).toEqual([]); // 3 ended: under minExecutions
    await run('flaky', { fail: true }); // 2 of 4 failed: 50%
    await run('flaky', { fail: true }); // 3 of 5: still raised, but once per window
    await alerts.settled();
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]).toMatchObject({ verified: true, body: { rule: 'flaky-failing', kind: 'failureRate', workflow: 'flaky', details: { failed: 2, ended: 4 } } });

    now += 61_000; // a new window: the old ends have left it
    await run('flaky', { fail: true });
    await alerts.settled();
    expect(hook.received).toHaveLength(1); // 1 ended in the window: under minExecutions
  });

  it('step timeouts', async () => {
    const hook = await receiver();
    const slow = workflow('slow').task('hang', (_d, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))), { timeoutMs: 20 }).build();
    const alerts = new Alerts({ rules: [{ name: 'hang-timeouts', kind: 'stepTimeouts', step: 'hang', windowMs: 60_000 }], webhooks: [{ url: hook.url, secret: SECRET }] });
    const store = await openStore(':memory:');
    const engine = new Engine({ store, observer: alerts }).register(slow);
    await engine.start();
    cleanup.push(async () => { alerts.close(); await engine.stop({ graceMs: 0 }); await store.close(); });
    const { execution } = await engine.startExecution('slow', {});
    await engine.waitForEnd(execution.id, 10_000);
    await alerts.settled();
    expect(hook.received).toEqual([{ verified: true, body: expect.objectContaining({ rule: 'hang-timeouts', kind: 'stepTimeouts', workflow: 'slow', details: { step: 'hang', timeouts: 1, windowMs: 60_000 } }) }]);
  });
});
