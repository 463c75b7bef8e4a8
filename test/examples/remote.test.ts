import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer, Engine, HistoryEventType as T, openStore, Worker, type Store } from '../../src/index.js';
import { createFunctionServer } from '../../examples/remote/function-server.js';
import { shipParcel } from '../../examples/remote/shipping.js';
import { buildFulfilment, type DeliveryRequest } from '../../examples/remote/workflow.js';
import { ChildLines } from '../fixtures/child-lines.js';
import { assertDistCurrent } from '../fixtures/dist-check.js';
import { repoRoot } from '../fixtures/paths.js';

/**
 * examples/remote: the workflow calls the example function server, which verifies its
 * signatures; the example worker's handler ships; the carrier's callback completes delivery.
 * The last test runs `npm run example:remote`'s launcher as a user would, and answers with the
 * curl command it prints.
 */

const SECRET = 'example-test-secret-0123456789';
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function setUp(workflowSecret = SECRET, notifyCarrier: (r: DeliveryRequest) => void = () => {}) {
  const server = createFunctionServer({ secret: SECRET });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(() => resolve())));
  const functionUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const store: Store = await openStore(':memory:');
  const engine = new Engine({ store }).register(buildFulfilment({ functionUrl, secret: workflowSecret, notifyCarrier }));
  await engine.start();
  const app = buildServer({ engine, logger: false });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  cleanup.push(async () => {
    await app.close();
    await engine.stop({ graceMs: 0 });
    await store.close();
  });
  const shipper = new Worker({ url, queue: 'shipping', workerId: 'packing-line-1', pollWaitMs: 1000, handler: shipParcel });
  const running = shipper.run();
  cleanup.push(async () => { await shipper.stop({ graceMs: 0 }); await running; });
  const run = async (input: unknown) => engine.waitForEnd((await engine.startExecution('fulfilment', input)).execution.id, 20_000);
  return Object.assign(run, { engine, url });
}

describe('examples/remote', () => {
  it('quotes through the signed HTTP function, ships in the worker, and waits for the carrier\'s callback', async () => {
    let carrierGot!: (r: DeliveryRequest) => void;
    const told = new Promise<DeliveryRequest>((resolve) => (carrierGot = resolve));
    const run = await setUp(SECRET, (r) => carrierGot(r));
    const ended = run({ orderId: 'o-1', destination: { country: 'fr' }, parcel: { kg: 2 } });
    const request = await told;
    expect(request).toMatchObject({ orderId: 'o-1', trackingId: expect.stringMatching(/^t-/), taskToken: expect.stringMatching(/^tsk_/) });
    const answer = await fetch(`${run.url}/v1/tasks/${request.taskToken}/succeed`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ output: { deliveredAt: '2026-01-02', signedBy: 'A. Customer' } }),
    });
    expect(answer.status).toBe(200);
    const end = await ended;
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toMatchObject({
      orderId: 'o-1',
      quote: { carrier: 'La Poste', priceCents: 740, quoteId: expect.stringMatching(/^q-/) },
      shipment: { carrier: 'La Poste', trackingId: request.trackingId },
      delivery: { deliveredAt: '2026-01-02', signedBy: 'A. Customer' },
    });
    const started = (await run.engine.getHistory(end.id, { limit: 100 })).events.filter((e) => e.type === T.StepStarted);
    expect(started.find((e) => e.step === 'ship')?.data?.worker).toBe('packing-line-1');
    expect(started.find((e) => e.step === 'quoteShipping')?.data?.worker).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("catches the function's NoCarrier and ends as Undeliverable", async () => {
    const run = await setUp();
    const end = await run({ orderId: 'o-2', destination: { country: 'AQ' }, parcel: { kg: 2 } });
    expect(end).toMatchObject({ status: 'FAILED', error: { code: 'Undeliverable', message: "no carrier delivers to 'AQ'" } });
  });

  it('is refused by the function when the workflow signs with another secret', async () => {
    const run = await setUp('not-the-function-secret-0123');
    const end = await run({ orderId: 'o-3', destination: { country: 'FR' }, parcel: { kg: 2 } });
    expect(end).toMatchObject({ status: 'FAILED', error: { code: 'BadSignature' } });
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('npm run example:remote', () => {
  it('starts the server, the function server and the worker; the printed curl completes the delivery', async () => {
    assertDistCurrent();
    const [port, functionPort] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${port}`;
    const launcher = new ChildLines(spawn(process.execPath, [join(repoRoot(), 'dist', 'examples', 'remote', 'run-all.js')], {
      cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, STEPWISE_URL: url, FUNCTION_PORT: String(functionPort), STEPWISE_DB: ':memory:', STEPWISE_LOG_LEVEL: 'warn' },
    }));
    cleanup.push(async () => {
      if (!launcher.exitInfo) launcher.child.kill('SIGTERM');
      await launcher.exited;
    });
    expect(await launcher.waitForLine((l) => l.startsWith('worker') && l.includes("queue 'shipping'"), 30_000), launcher.stderr).toBeDefined();
    // Until the server listens (it loads the module first), a start is refused: try again.
    let res: Response | undefined;
    for (let i = 0; i < 300 && !res?.ok; i++) {
      res = await fetch(`${url}/v1/workflows/fulfilment/executions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'try-it', input: { orderId: 'o-9', destination: { country: 'DE' }, parcel: { kg: 1 } } }),
      }).catch(() => undefined);
      if (!res?.ok) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(res?.status).toBe(201);
    const curlLine = await launcher.waitForLine((l) => l.includes('curl -s -X POST'), 30_000);
    expect(curlLine, launcher.stderr).toBeDefined();
    const [, answerUrl, body] = /curl -s -X POST (\S+) .* -d '(.*)'$/.exec(curlLine!)!;
    const answered = await fetch(answerUrl!, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(answered.status).toBe(200);
    let execution: { status: string; output?: unknown } = { status: 'RUNNING' };
    for (let i = 0; i < 300 && execution.status === 'RUNNING'; i++) {
      execution = await (await fetch(`${url}/v1/executions/try-it`)).json() as typeof execution;
      if (execution.status === 'RUNNING') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { shipment: { carrier: 'DHL' }, delivery: { signedBy: 'A. Customer' } } });
  }, 90_000);
});
