/**
 * Traces as a user meets them: the compiled `stepwise serve` with the standard OTEL_* variables
 * pointing at an OTLP/HTTP receiver in this process. One execution span per execution, a child
 * span per step attempt with its attributes, span events for retries, timers and compensations;
 * the start request's `traceparent` is the root's parent; `ctx.trace` and an HTTP function's
 * `traceparent` header are the attempt's span. Then across a SIGKILL at a latch and a restart:
 * the spans of both processes form one trace under the same execution span.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt, spawnServe, waitExit } from '../cli/cli-helpers.js';
import { OtlpReceiver, type ReceivedSpan } from '../fixtures/otlp-receiver.js';

const SRC_INDEX = JSON.stringify(join(ROOT, 'src/index.js'));

const MODULE = `import { TerminalError, http, workflow } from ${SRC_INDEX};

let flakyCalls = 0;
export const traced = workflow('traced')
  .task('flaky', async () => {
    flakyCalls += 1;
    if (flakyCalls === 1) throw Object.assign(new Error('not yet'), { code: 'Flaky' });
    return { ok: true };
  }, { resultPath: 'flaky', retry: [{ errors: ['Flaky'], intervalMs: 10, maxAttempts: 3 }] })
  .wait('pause', { durationMs: 20 })
  .task('seen', async (_input: unknown, ctx: { trace?: unknown; traceparent?: string }) => ({ trace: ctx.trace, traceparent: ctx.traceparent }), { resultPath: 'seen' })
  .task('remote', http(process.env.TEST_FN_URL!, { secret: 'a-secret-for-the-traces-test' }), { resultPath: 'remote' })
  .build();

export const saga = workflow('saga')
  .task('reserve', async () => ({ id: 'r-1' }), { resultPath: 'reserve', compensate: { name: 'release', handler: async () => ({ released: true }) } })
  .task('explode', async () => { throw new TerminalError('Boom'); })
  .build();

export const crashy = workflow('crashy')
  .task('first', async () => ({ one: 1 }), { resultPath: 'first' })
  .task('hold', async (_input: unknown, ctx: { executionId: string }) => {
    if (process.env.TEST_HOLD === '1') {
      console.log('HOLDING ' + ctx.executionId);
      await new Promise(() => undefined);
    }
    return { two: 2 };
  }, { resultPath: 'hold', timeoutMs: 60_000 })
  .task('after', async () => ({ three: 3 }), { resultPath: 'after' })
  .build();
`;

const CALLER = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };

let tmp: string;
const receiver = new OtlpReceiver();
let otlpUrl: string;
let fnServer: Server;
let fnUrl: string;
const fnHeaders: string[] = [];

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'stepwise-traces-'));
  writeFileSync(join(tmp, 'traced.ts'), MODULE);
  otlpUrl = await receiver.start();
  fnServer = createServer((req, res) => {
    fnHeaders.push(String(req.headers.traceparent ?? ''));
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"called":true}'));
  });
  await new Promise<void>((resolve) => fnServer.listen(0, '127.0.0.1', resolve));
  fnUrl = `http://127.0.0.1:${(fnServer.address() as { port: number }).port}/fn`;
}, 60_000);

afterAll(async () => {
  await receiver.close();
  await new Promise<void>((resolve) => fnServer.close(() => resolve()));
  rmSync(tmp, { recursive: true, force: true });
});

function env(db: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0', STEPWISE_DB: join(tmp, db), TEST_FN_URL: fnUrl,
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl, OTEL_SERVICE_NAME: 'traces-test', OTEL_BSP_SCHEDULE_DELAY: '20', ...extra,
  };
}

async function start(url: string, workflow: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${url}/v1/workflows/${workflow}/executions`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ input: {} }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function output(url: string, id: string): Promise<Record<string, unknown>> {
  return ((await (await fetch(`${url}/v1/executions/${id}`)).json()) as { output: Record<string, unknown> }).output;
}

const ofExecution = (id: string) => (spans: ReceivedSpan[]) => spans.filter((s) => s.attributes['stepwise.execution_id'] === id);
const executionSpanOf = (id: string) => (spans: ReceivedSpan[]) => ofExecution(id)(spans).find((s) => s.name.startsWith('execution '));

async function stop(child: Awaited<ReturnType<typeof spawnServe>>['child']): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await waitExit(child);
}

describe('traces through stepwise serve and OTLP/HTTP', () => {
  it('makes one execution span under the caller, a child span per attempt, events for retries and timers, and ctx.trace', async () => {
    const server = await spawnServe(env('traced.db'), ['traced.ts'], tmp);
    try {
      const id = await start(server.url, 'traced', { traceparent: `00-${CALLER.traceId}-${CALLER.spanId}-01` });
      const root = await receiver.until('the execution span', executionSpanOf(id));
      const spans = await receiver.until('four attempt spans', (all) => {
        const mine = ofExecution(id)(all).filter((s) => s !== root);
        return mine.length >= 4 ? mine : undefined;
      });

      // The root: the caller's child, in the caller's trace, ended SUCCEEDED.
      expect(root).toMatchObject({
        name: 'execution traced', traceId: CALLER.traceId, parentSpanId: CALLER.spanId,
        attributes: { 'stepwise.workflow': 'traced', 'stepwise.status': 'SUCCEEDED' }, resource: { 'service.name': 'traces-test' },
      });
      expect(root.endMs).toBeGreaterThanOrEqual(root.startMs);

      // Each attempt a child of it, with workflow, step, attempt, outcome (and error code).
      const summary = spans.map((s) => [s.name, s.attributes['stepwise.attempt'], s.attributes['stepwise.outcome'], s.attributes['stepwise.error_code'] ?? '-'].join(' '));
      expect(summary.sort()).toEqual(['step flaky 1 failed Flaky', 'step flaky 2 succeeded -', 'step remote 1 succeeded -', 'step seen 1 succeeded -']);
      for (const s of spans) {
        expect(s.traceId).toBe(CALLER.traceId);
        expect(s.parentSpanId).toBe(root.spanId);
        expect(s.attributes).toMatchObject({ 'stepwise.workflow': 'traced', 'stepwise.execution_id': id, 'stepwise.kind': 'task' });
        expect(s.startMs).toBeGreaterThanOrEqual(root.startMs);
      }
      expect(spans.find((s) => s.attributes['stepwise.outcome'] === 'failed')?.statusCode).toBe(2);

      // Span events on the execution span: the retry and the wait state's timer.
      const names = root.events.map((e) => e.name);
      expect(names).toEqual(['retry', 'timer started', 'timer fired']);
      expect(root.events[0]!.attributes).toMatchObject({ 'stepwise.step': 'flaky', 'stepwise.attempt': 2 });
      expect(root.events[1]!.attributes).toMatchObject({ 'stepwise.step': 'pause' });

      // The handler saw its own span as ctx.trace, and the execution's context as ctx.traceparent.
      const seen = spans.find((s) => s.name === 'step seen')!;
      const out = await output(server.url, id);
      expect(out.seen).toEqual({
        trace: { traceparent: `00-${CALLER.traceId}-${seen.spanId}-01`, traceId: CALLER.traceId, spanId: seen.spanId },
        traceparent: `00-${CALLER.traceId}-${root.spanId}-01`,
      });
      // The HTTP function got its attempt's span as traceparent.
      const remote = spans.find((s) => s.name === 'step remote')!;
      expect(fnHeaders).toContain(`00-${CALLER.traceId}-${remote.spanId}-01`);
    } finally {
      await stop(server.child);
    }
  }, 60_000);

  it('starts a trace of its own without a traceparent, with compensation spans and events', async () => {
    const server = await spawnServe(env('saga.db'), ['traced.ts'], tmp);
    try {
      const id = await start(server.url, 'saga', { traceparent: 'not-a-traceparent' });
      const root = await receiver.until('the execution span', executionSpanOf(id));
      expect(root.parentSpanId).toBeUndefined();
      expect(root.traceId).not.toBe(CALLER.traceId);
      expect(root).toMatchObject({ statusCode: 2, attributes: { 'stepwise.status': 'FAILED', 'stepwise.error_code': 'Boom' } });
      expect(root.events.map((e) => e.name)).toEqual(['compensation started', 'compensation succeeded']);
      expect(root.events[0]!.attributes).toMatchObject({ 'stepwise.step': 'release', 'stepwise.compensates': 'reserve' });
      const spans = await receiver.until('three attempt spans', (all) => {
        const mine = ofExecution(id)(all).filter((s) => s !== root);
        return mine.length >= 3 ? mine : undefined;
      });
      expect(spans.map((s) => `${s.name}:${String(s.attributes['stepwise.kind'])}:${String(s.attributes['stepwise.outcome'])}`).sort()).toEqual([
        'compensation release:compensation:succeeded', 'step explode:task:failed', 'step reserve:task:succeeded',
      ]);
      for (const s of spans) expect([s.traceId, s.parentSpanId]).toEqual([root.traceId, root.spanId]);
    } finally {
      await stop(server.child);
    }
  }, 60_000);

  it('keeps one trace under the same execution span across a SIGKILL and a restart', async () => {
    const first = await spawnServe(env('crashy.db', { TEST_HOLD: '1' }), ['traced.ts'], tmp);
    let id: string;
    let before: ReceivedSpan;
    try {
      id = await start(first.url, 'crashy', { traceparent: `00-${CALLER.traceId}-${CALLER.spanId}-01` });
      // The latch: 'first' is exported and 'hold' is running in this process.
      before = await receiver.until('the first step span', (all) => ofExecution(id)(all).find((s) => s.name === 'step first'));
      await receiver.until('the hold', () => (first.output().includes(`HOLDING ${id}`) ? true : undefined));
    } finally {
      first.child.kill('SIGKILL');
      await waitExit(first.child);
    }
    const second = await spawnServe(env('crashy.db'), ['traced.ts'], tmp);
    try {
      const root = await receiver.until('the execution span', executionSpanOf(id));
      const spans = await receiver.until('the spans after the restart', (all) => {
        const mine = ofExecution(id)(all);
        return mine.some((s) => s.name === 'step after') && mine.some((s) => s.name === 'step hold') ? mine : undefined;
      });
      // One trace, the caller's; every attempt span, from either process, a child of the execution span.
      expect(root).toMatchObject({ traceId: CALLER.traceId, parentSpanId: CALLER.spanId, attributes: { 'stepwise.status': 'SUCCEEDED' } });
      expect(before.parentSpanId).toBe(root.spanId);
      for (const s of spans.filter((x) => x !== root)) expect([s.traceId, s.parentSpanId]).toEqual([CALLER.traceId, root.spanId]);
      const workers = new Set(spans.filter((s) => s !== root).map((s) => s.attributes['stepwise.worker']));
      expect(workers.size).toBe(2);
      // The execution span starts when the execution did (before the first step), in the first process.
      expect(root.startMs).toBeLessThanOrEqual(before.startMs);
      // The re-run of the attempt the crash cut short is an event on it.
      expect(root.events.find((e) => e.name === 'step rerun')?.attributes).toMatchObject({ 'stepwise.step': 'hold', 'stepwise.attempt': 1, 'stepwise.rerun_reason': 'process-restarted' });
    } finally {
      await stop(second.child);
    }
  }, 90_000);
});
