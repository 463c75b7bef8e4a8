import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, openStore, type Store } from '../../src/index.js';
import { createFunctionServer } from '../../examples/remote/function-server.js';
import { buildFulfilment } from '../../examples/remote/workflow.js';

/** examples/remote: the workflow calls the example function server, which verifies its signatures. */

const SECRET = 'example-test-secret-0123456789';
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function setUp(workflowSecret = SECRET) {
  const server = createFunctionServer({ secret: SECRET });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(() => resolve())));
  const functionUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const store: Store = await openStore(':memory:');
  const engine = new Engine({ store }).register(buildFulfilment({ functionUrl, secret: workflowSecret }));
  await engine.start();
  cleanup.push(async () => {
    await engine.stop({ graceMs: 0 });
    await store.close();
  });
  return async (input: unknown) => engine.waitForEnd((await engine.startExecution('fulfilment', input)).execution.id, 20_000);
}

describe('examples/remote', () => {
  it('quotes shipping through the signed HTTP function', async () => {
    const run = await setUp();
    const end = await run({ orderId: 'o-1', destination: { country: 'fr' }, parcel: { kg: 2 } });
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toMatchObject({ orderId: 'o-1', quote: { carrier: 'La Poste', priceCents: 740, quoteId: expect.stringMatching(/^q-/) } });
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
