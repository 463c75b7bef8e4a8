import { afterEach, describe, expect, it } from 'vitest';
import { checkout, shipping } from '../../examples/checkout/workflow.js';
import { HistoryEventType as T } from '../../src/index.js';
import { virtualEngine } from '../helpers/virtual-engine.js';

type Harness = Awaited<ReturnType<typeof virtualEngine>>;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const HOUR = 3_600_000;
let n = 0;
function order(simulate: Record<string, unknown>) {
  n += 1;
  return {
    orderId: `review-${n}`, customer: { id: 'c1', email: 'c1@example.com' },
    items: [{ sku: 'A', qty: 1, price: 10 }], simulate,
  };
}

async function refunds(id: string): Promise<number> {
  return (await h!.history(id)).filter((e) => e.type === T.CompensationSucceeded && e.step === 'refundPayment').length;
}

describe('checkout with simulate.fraudReview', () => {
  it('approved: waits after payment, then completes', async () => {
    h = await virtualEngine([checkout, shipping]);
    const id = await h.start('checkout', order({ fraudReview: true }));
    await h.settle();
    const events = await h.history(id);
    expect(events.some((e) => e.type === T.StepSucceeded && e.step === 'processPayment')).toBe(true);
    expect(events.some((e) => e.type === T.StateEntered && e.step === 'awaitReview')).toBe(true);
    expect((await h.engine.getExecution(id)).status).toBe('RUNNING');
    await h.engine.sendEvent(id, 'review', { approved: true });
    const end = await h.runToEnd(id);
    expect(end.status).toBe('SUCCEEDED');
    expect(await refunds(id)).toBe(0);
  });

  it('rejected: FAILED with Checkout.Rejected, and the payment is refunded', async () => {
    h = await virtualEngine([checkout, shipping]);
    const id = await h.start('checkout', order({ fraudReview: true }));
    await h.settle();
    await h.engine.sendEvent(id, 'review', { approved: false });
    const end = await h.runToEnd(id);
    expect(end.status).toBe('FAILED');
    expect(end.error?.code).toBe('Checkout.Rejected');
    expect(await refunds(id)).toBe(1);
  });

  it('no answer within the default hour: FAILED with Stepwise.Timeout, and the payment is refunded', async () => {
    h = await virtualEngine([checkout, shipping]);
    const startedAt = h.clock.now();
    const id = await h.start('checkout', order({ fraudReview: true }));
    const end = await h.runToEnd(id);
    expect(end.status).toBe('FAILED');
    expect(end.error?.code).toBe('Stepwise.Timeout');
    expect(end.endedAt! - startedAt).toBeGreaterThanOrEqual(HOUR);
    expect(await refunds(id)).toBe(1);
  });

  it('simulate.reviewTimeoutMs shortens the wait', async () => {
    h = await virtualEngine([checkout, shipping]);
    const startedAt = h.clock.now();
    const id = await h.start('checkout', order({ fraudReview: true, reviewTimeoutMs: 5000 }));
    const end = await h.runToEnd(id);
    expect(end.error?.code).toBe('Stepwise.Timeout');
    expect(end.endedAt! - startedAt).toBeLessThan(HOUR);
  });
});
