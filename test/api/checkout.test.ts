/** The checkout example's outcomes, driven and observed only through the HTTP API. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkout } from '../../examples/checkout/workflow.js';
import { gateOf } from '../fixtures/handler-gate.js';
import { cart, history, json, startExecution, startHarness, waitEnded, type Harness } from './harness.js';

describe('checkout through the API', () => {
  const gate = gateOf(checkout);
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const of = (events: any[], type: string, step?: string) => events.filter((e) => e.type === type && (step === undefined || e.step === step));
  const compensationEvents = (events: any[]) => events.filter((e) => String(e.type).startsWith('Compensation'));

  it('a valid cart SUCCEEDS with order, payment and shipment ids', async () => {
    const { id } = await startExecution(h.app, cart());
    const done = await waitEnded(h.app, id);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toMatchObject({
      orderId: expect.any(String),
      paymentId: expect.stringMatching(/^pay_/),
      shipmentId: expect.stringMatching(/^shp_/),
    });
    expect(done.error).toBeUndefined();
    const events = await history(h.app, id);
    expect(events.at(-1).type).toBe('ExecutionSucceeded');
    expect(compensationEvents(events)).toEqual([]);
  });

  it('an empty cart FAILS with InvalidCart and never starts processPayment', async () => {
    const { id } = await startExecution(h.app, cart(undefined, { items: [] }));
    const done = await waitEnded(h.app, id);
    expect(done.status).toBe('FAILED');
    expect(done.error.code).toBe('InvalidCart');
    const events = await history(h.app, id);
    expect(of(events, 'StepStarted', 'processPayment')).toEqual([]);
    expect(events.at(-1).type).toBe('ExecutionFailed');
  });

  it('two transient payment failures: two StepFailed, two RetryScheduled, then SUCCEEDED', async () => {
    const { id } = await startExecution(h.app, cart({ paymentTransientFailures: 2 }));
    const done = await waitEnded(h.app, id);
    expect(done.status).toBe('SUCCEEDED');
    const events = await history(h.app, id);
    expect(of(events, 'StepFailed', 'processPayment')).toHaveLength(2);
    expect(of(events, 'RetryScheduled', 'processPayment')).toHaveLength(2);
    expect(of(events, 'StepStarted', 'processPayment').map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(of(events, 'StepSucceeded', 'processPayment')).toHaveLength(1);
  });

  it('a declined card FAILS with PaymentDeclined and refunds nothing', async () => {
    const { id } = await startExecution(h.app, cart({ paymentDeclined: true }));
    const done = await waitEnded(h.app, id);
    expect(done.status).toBe('FAILED');
    expect(done.error.code).toBe('PaymentDeclined');
    const events = await history(h.app, id);
    expect(compensationEvents(events)).toEqual([]);
    expect(events.filter((e) => e.step === 'refundPayment')).toEqual([]);
    // terminal: no retry of the payment
    expect(of(events, 'RetryScheduled')).toEqual([]);
  });

  it('out of stock FAILS with OutOfStock after refunding the payment exactly once', async () => {
    const { id } = await startExecution(h.app, cart({ outOfStock: true }));
    const done = await waitEnded(h.app, id);
    expect(done.status).toBe('FAILED');
    expect(done.error.code).toBe('OutOfStock');
    const events = await history(h.app, id);
    expect(of(events, 'CompensationSucceeded', 'refundPayment')).toHaveLength(1);
    expect(of(events, 'CompensationFailed')).toEqual([]);
    const refund = of(events, 'CompensationSucceeded', 'refundPayment')[0];
    expect(refund.seq).toBeLessThan(events.at(-1).seq);
    expect(events.at(-1).type).toBe('ExecutionFailed');
  });

  it('shippingDelayMs arms a durable timer that fires', async () => {
    const { id } = await startExecution(h.app, cart({ shippingDelayMs: 150 }));
    const done = await waitEnded(h.app, id);
    expect(done.status).toBe('SUCCEEDED');
    const events = await history(h.app, id);
    const started = of(events, 'TimerStarted', 'waitForShipping');
    const fired = of(events, 'TimerFired', 'waitForShipping');
    expect(started).toHaveLength(1);
    expect(fired).toHaveLength(1);
    expect(fired[0].seq).toBeGreaterThan(started[0].seq);
    // Due 150 ms after it was armed, and fired no earlier (the history's own clock, not a window).
    const dueAt = started[0].data.dueAt as number;
    expect(dueAt - Date.parse(started[0].timestamp)).toBe(150);
    expect(Date.parse(fired[0].timestamp)).toBeGreaterThanOrEqual(dueAt);
    expect(fired[0].data.dueAt).toBe(dueAt);
  });

  it('cancelling a running execution after payment: 202, CANCELLED, refund compensation in history', async () => {
    // createOrder, the step after the payment, waits at the gate until the cancel has been answered.
    const id = 'cancel-after-payment';
    const held = gate.hold(id, 'createOrder');
    await startExecution(h.app, cart(), { id });
    await held.reached;
    expect(of(await history(h.app, id), 'StepSucceeded', 'processPayment')).toHaveLength(1);
    const res = await h.app.inject({ method: 'POST', url: `/v1/executions/${id}/cancel` });
    held.open();
    expect(res.statusCode, res.body).toBe(202);
    const body = json(res);
    expect(body.id).toBe(id);
    expect(['RUNNING', 'CANCELLED']).toContain(body.status);
    const done = await waitEnded(h.app, id);
    expect(done.status).toBe('CANCELLED');
    const events = await history(h.app, id);
    expect(of(events, 'CancelRequested')).toHaveLength(1);
    expect(of(events, 'StepSucceeded', 'createOrder')).toEqual([]);
    expect(of(events, 'CompensationStarted', 'refundPayment').length).toBeGreaterThanOrEqual(1);
    expect(of(events, 'CompensationSucceeded', 'refundPayment')).toHaveLength(1);
    expect(events.at(-1).type).toBe('ExecutionCancelled');
    // a second cancel is a conflict
    const again = await h.app.inject({ method: 'POST', url: `/v1/executions/${id}/cancel` });
    expect(again.statusCode).toBe(409);
    expect(json(again).error.code).toBe('EXECUTION_ENDED');
  });

  it('cancelling before any compensatable step completed: CANCELLED with no compensation', async () => {
    // validateCart, the first step, waits at the gate until the cancel has been answered.
    const id = 'cancel-at-start';
    const held = gate.hold(id, 'validateCart');
    await startExecution(h.app, cart(), { id });
    await held.reached;
    const res = await h.app.inject({ method: 'POST', url: `/v1/executions/${id}/cancel` });
    held.open();
    expect(res.statusCode).toBe(202);
    const done = await waitEnded(h.app, id);
    expect(done.status).toBe('CANCELLED');
    const events = await history(h.app, id);
    expect(of(events, 'StepStarted', 'validateCart')).toHaveLength(1);
    expect(compensationEvents(events)).toEqual([]);
    expect(of(events, 'StepStarted', 'processPayment')).toEqual([]);
  });
});
