import { afterEach, describe, expect, it } from 'vitest';
import {
  Engine, HistoryEventType as T, http, openStore, SIGNATURE_HEADER, StepErrorCodes, verifySignature, workflow,
  type HistoryEvent, type Store,
} from '../../src/index.js';
import { functionServer, json, latch, type Respond } from '../helpers/function-server.js';

/** HTTP functions run by a real engine on SQLite :memory:, against real local function servers. */

const SECRET = 'whsec-engine-0123456789abcdef';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function serve(respond: Respond) {
  const server = await functionServer(respond);
  cleanup.push(() => server.close());
  return server;
}

async function engineWith(...workflows: Parameters<Engine['register']>) {
  const store: Store = await openStore(':memory:');
  const engine = new Engine({ store }).register(...workflows);
  await engine.start();
  cleanup.push(async () => {
    await engine.stop({ graceMs: 0 });
    await store.close();
  });
  const history = async (id: string): Promise<HistoryEvent[]> => (await engine.getHistory(id, { limit: 1000 })).events;
  const run = async (name: string, input: unknown) => {
    const { execution } = await engine.startExecution(name, input);
    return { end: await engine.waitForEnd(execution.id, 20_000), events: await history(execution.id) };
  };
  return { engine, run };
}

const failures = (events: HistoryEvent[]) => events.filter((e) => e.type === T.StepFailed).map((e) => (e.data?.error as { code: string }).code);

describe('an HTTP function step in a real engine', () => {
  it('succeeds with the JSON the function answers, signed and verified by the function', async () => {
    const fn = await serve((call, res) => {
      if (!verifySignature(call.rawBody, call.headers[SIGNATURE_HEADER], SECRET)) return json(res, 401, { error: { name: 'BadSignature', message: 'bad signature' } });
      json(res, 200, { charged: call.body.input.amount, key: call.body.context.idempotencyKey, step: call.body.context.step });
    });
    const wf = workflow<{ amount: number }>('pay').task('charge', http(`${fn.url}/charge`, { secret: SECRET }), { resultPath: 'payment' }).build();
    const { run } = await engineWith(wf);
    const { end, events } = await run('pay', { amount: 42 });
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toEqual({ amount: 42, payment: { charged: 42, key: expect.stringMatching(/:charge$/), step: 'charge' } });
    expect(events.filter((e) => e.type === T.StepSucceeded)).toHaveLength(1);
  });

  it('matches a documented error body by name: a 503 GatewayBusy is retried, a 422 PaymentDeclined caught', async () => {
    const answers: Array<[number, string]> = [[503, 'GatewayBusy'], [422, 'PaymentDeclined']];
    const fn = await serve((_call, res) => {
      const [status, name] = answers.shift() ?? [500, 'Unexpected'];
      json(res, status, { error: { name, message: `${name} says the function` } });
    });
    const wf = workflow('pay')
      .task('charge', http(fn.url, { secret: SECRET }), {
        retry: [{ errors: ['GatewayBusy'], intervalMs: 1, maxAttempts: 3, jitter: 'none' }],
        catch: [{ errors: ['PaymentDeclined'], next: 'declined' }],
      })
      .succeed('paid')
      .succeed('declined', { output: (d: any) => ({ declined: d.error }) })
      .build();
    const { run } = await engineWith(wf);
    const { end, events } = await run('pay', {});
    expect(failures(events)).toEqual(['GatewayBusy', 'PaymentDeclined']);
    expect(events.filter((e) => e.type === T.RetryScheduled)).toHaveLength(1);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toEqual({ declined: { code: 'PaymentDeclined', message: 'PaymentDeclined says the function' } });
    expect(fn.calls.map((c) => c.body.context.attempt)).toEqual([1, 2]);
  });

  it('retries a 5xx and a 429, and does not retry a 400', async () => {
    const answers = [500, 429, 200];
    const flaky = await serve((_call, res) => (answers[0] === 200 ? json(res, 200, 'ok') : res.writeHead(answers.shift()!, { 'retry-after': '0' }).end()));
    const bad = await serve((_call, res) => res.writeHead(400).end());
    const retry = [{ errors: ['*'], intervalMs: 1, maxAttempts: 5, jitter: 'none' as const }];
    const { run } = await engineWith(
      workflow('flaky').task('call', http(flaky.url, { secret: SECRET }), { retry }).build(),
      workflow('bad').task('call', http(bad.url, { secret: SECRET }), { retry }).build(),
    );
    const flakyRun = await run('flaky', {});
    expect(failures(flakyRun.events)).toEqual([StepErrorCodes.HttpServerError, StepErrorCodes.HttpRateLimited]);
    expect(flakyRun.end).toMatchObject({ status: 'SUCCEEDED', output: 'ok' });
    const badRun = await run('bad', {});
    expect(failures(badRun.events)).toEqual([StepErrorCodes.HttpClientError]);
    expect(badRun.end).toMatchObject({ status: 'FAILED', error: { code: StepErrorCodes.HttpClientError } });
    expect(bad.calls).toHaveLength(1);
  });

  it("aborts the request at the step's timeoutMs and fails with Stepwise.Timeout", async () => {
    const hungUp = latch();
    const fn = await serve((_call, res) => res.on('close', () => hungUp.open()));
    const { run } = await engineWith(workflow('slow').task('call', http(fn.url, { secret: SECRET }), { timeoutMs: 150 }).build());
    const { end } = await run('slow', {});
    expect(end).toMatchObject({ status: 'FAILED', error: { code: StepErrorCodes.Timeout } });
    await hungUp.opened; // the function saw the engine hang up
  });

  it('stays healthy through hostile answers: each is a typed StepFailed, and a good call still succeeds', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024, 0x20);
    const hostile = await serve((call, res, req) => {
      switch (call.path) {
        case '/reset': return req.socket.destroy();
        case '/html': return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>maintenance</body></html>');
        case '/ten-megabytes': return void res.writeHead(200, { 'content-type': 'application/json' }).end(big);
        case '/hang': return;
        default: return json(res, 200, { fine: true });
      }
    });
    // Only the hanging call may time out: the others answer at once, however loaded the machine.
    const step = (path: string) => workflow(path.slice(1))
      .task('call', http(`${hostile.url}${path}`, { secret: SECRET }), { timeoutMs: path === '/hang' ? 300 : 30_000 }).build();
    const paths = ['/reset', '/html', '/ten-megabytes', '/hang', '/fine'];
    const { run } = await engineWith(...paths.map(step));
    const ends = await Promise.all(paths.map((p) => run(p.slice(1), {})));
    expect(ends.map(({ end }) => [end.status, end.error?.code])).toEqual([
      ['FAILED', StepErrorCodes.HttpConnectionFailed],
      ['FAILED', StepErrorCodes.HttpBadResponse],
      ['FAILED', StepErrorCodes.OutputTooLarge],
      ['FAILED', StepErrorCodes.Timeout],
      ['SUCCEEDED', undefined],
    ]);
    const after = await run('fine', {});
    expect(after.end).toMatchObject({ status: 'SUCCEEDED', output: { fine: true } });
  });
  it("waits at least the function's Retry-After before the retry, and says where each attempt ran", async () => {
    let calls = 0;
    const seen: Array<Record<string, unknown>> = [];
    const fn = await serve((call, res) => {
      seen.push(call.body.context);
      if (++calls === 1) return json(res, 503, { error: { name: 'GatewayBusy', message: 'later' } }, { 'retry-after': '2' });
      json(res, 200, 'ok');
    });
    const wf = workflow('patient').task('call', http(`${fn.url}/call`, { secret: SECRET }), {
      timeoutMs: 5000, retry: [{ errors: ['GatewayBusy'], maxAttempts: 2, intervalMs: 10, jitter: 'none' }],
    }).build();
    const { engine, run } = await engineWith(wf);
    const { end, events } = await run('patient', null);
    expect(end.status).toBe('SUCCEEDED');
    const retry = events.find((e) => e.type === T.RetryScheduled)!;
    expect(retry.data?.delayMs).toBeGreaterThanOrEqual(2000);
    const started = events.filter((e) => e.type === T.StepStarted);
    expect(started.map((e) => e.data?.worker)).toEqual([fn.url, fn.url].map((u) => new URL(u).origin));
    expect(started[0]!.data?.engine).toBe(engine.workerId);
    expect(seen[0]!.deadline).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
  });
});
