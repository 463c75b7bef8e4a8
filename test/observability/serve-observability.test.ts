/**
 * What `serve()` wires: /metrics (on a port of its own when asked), `stepwise usage` against it,
 * and structured handler logs through ctx.log with secrets redacted.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { checkout, shipping } from '../../examples/checkout/workflow.js';
import { Engine, openStore, serve, workflow, type StepwiseServer } from '../../src/index.js';
import { REDACT_CENSOR, REDACT_PATHS } from '../../src/observability/redact.js';
import { stepLogObserver, type ChildLogger } from '../../src/observability/step-log.js';
import { cart } from '../api/harness.js';
import { cli, ensureBuilt } from '../cli/cli-helpers.js';
import { parseProm } from './prom-text.js';

const TOKEN = 'serve-observability-token-0123456789';
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

describe('serve() observability', () => {
  it('serves /metrics on its own port with the same token, and `stepwise usage` reads usage', async () => {
    await ensureBuilt();
    const server: StepwiseServer = await serve({ workflows: [checkout, shipping], db: ':memory:', port: 0, metricsPort: 0, token: TOKEN, logLevel: 'silent' });
    cleanup.push(() => server.close({ graceMs: 0 }));
    const { execution } = await server.engine.startExecution('checkout', cart({ paymentTransientFailures: 1 }));
    await server.engine.waitForEnd(execution.id, 10_000);

    expect(server.metricsUrl).toBeDefined();
    expect((await fetch(`${server.metricsUrl}/metrics`)).status).toBe(401);
    const res = await fetch(`${server.metricsUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(parseProm(await res.text()).value('stepwise_executions_ended_total', { workflow: 'checkout', status: 'SUCCEEDED' })).toBe(1);
    // Not on the API's port then.
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);

    const env = { STEPWISE_URL: server.url, STEPWISE_TOKEN: TOKEN };
    const one = await cli(['usage', execution.id, '--json'], { env });
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ usage: { stateTransitions: 13, stepAttempts: 8, retries: 1 }, cost: { amount: 0.000325, currency: 'USD' } });
    const days = await cli(['usage', '--workflow', 'checkout'], { env });
    expect(days.code, days.stderr).toBe(0);
    expect(days.stdout).toMatch(/^DAY\s+WORKFLOW\s+EXECUTIONS\s+TRANSITIONS/);
    expect(days.stdout).toMatch(/checkout\s+1\s+13\s+8\s+1\s/);
    const missing = await cli(['usage', 'no-such-execution'], { env });
    expect(missing.code).toBe(3);
  });
});

describe('ctx.log', () => {
  it('binds workflow, executionId, step, attempt and worker, and redacts tokens, signatures and Authorization', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); done(); } });
    const base = pino({ level: 'info', redact: { paths: [...REDACT_PATHS], censor: REDACT_CENSOR } }, sink) as unknown as ChildLogger;
    const talker = workflow('talker').task('call', async (_input, ctx) => {
      ctx.log?.info({ token: 'tok-secret', headers: { authorization: 'Bearer abc', 'stepwise-signature': 'v1=deadbeef' }, kept: 'visible' }, 'calling the bank');
      return { ok: true };
    }).build();
    const store = await openStore(':memory:');
    const engine = new Engine({ store, workerId: 'worker-7', observer: stepLogObserver(() => base) }).register(talker);
    await engine.start();
    cleanup.push(async () => { await engine.stop({ graceMs: 0 }); await store.close(); });
    const { execution } = await engine.startExecution('talker', {});
    await engine.waitForEnd(execution.id, 10_000);
    const line = lines.find((l) => l.msg === 'calling the bank');
    expect(line).toMatchObject({
      workflow: 'talker', executionId: execution.id, step: 'call', attempt: 1, worker: 'worker-7', kept: 'visible',
      token: '[redacted]', headers: { authorization: '[redacted]', 'stepwise-signature': '[redacted]' },
    });
    expect(JSON.stringify(lines)).not.toMatch(/tok-secret|Bearer abc|deadbeef/);
  });
});
