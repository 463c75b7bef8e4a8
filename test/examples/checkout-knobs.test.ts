/**
 * The checkout example's knobs for events, child workflows, redrive and concurrency keys, each
 * driven end to end through the HTTP API (fastify inject on a real engine and SQLite store), as
 * the README's curl lines drive them.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cart, expectError, getExecution, history, json, startExecution, startHarness, waitEnded, type Harness } from '../api/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const of = (events: any[], type: string, step?: string) => events.filter((e) => e.type === type && (step === undefined || e.step === step));

async function post(url: string, payload?: Record<string, unknown>): Promise<LightMyRequestResponse> {
  return h.app.inject({ method: 'POST', url, ...(payload === undefined ? {} : { payload }) });
}

/** Waits for the engine to commit `type` into the execution's history (commit-driven, not timed). */
async function waitForEvent(id: string, type: string, step?: string): Promise<any[]> {
  for (;;) {
    const events = await history(h.app, id);
    if (of(events, type, step).length > 0) return events;
    await h.engine.idle({ handlerGraceMs: 20 });
  }
}

describe('checkout: simulate.fraudReview', () => {
  it('approve: the review event is received and consumed once, and the checkout SUCCEEDS without a refund', async () => {
    const { id } = await startExecution(h.app, cart({ fraudReview: true }));
    await waitForEvent(id, 'StateEntered', 'awaitReview');
    const sent = await post(`/v1/executions/${id}/events/review`, { payload: { approved: true }, id: 'review-approve' });
    expect(sent.statusCode, sent.body).toBe(201);
    const done = await waitEnded(h.app, id);
    expect(done.status).toBe('SUCCEEDED');
    const events = await history(h.app, id);
    expect(of(events, 'EventReceived').map((e) => e.data.id)).toEqual(['review-approve']);
    expect(of(events, 'EventConsumed')).toHaveLength(1);
    expect(of(events, 'CompensationStarted')).toEqual([]);
  });

  it('reject: FAILED with Checkout.Rejected after refundPayment ran once', async () => {
    const { id } = await startExecution(h.app, cart({ fraudReview: true }));
    await waitForEvent(id, 'StateEntered', 'awaitReview');
    expect((await post(`/v1/executions/${id}/events/review`, { payload: { approved: false } })).statusCode).toBe(201);
    const done = await waitEnded(h.app, id);
    expect(done.status).toBe('FAILED');
    expect(done.error.code).toBe('Checkout.Rejected');
    expect(of(await history(h.app, id), 'CompensationSucceeded', 'refundPayment')).toHaveLength(1);
  });
});

describe('checkout: shipping runs as the child workflow `shipping`', () => {
  it('the child id is data.childId on the scheduleShipping step, and the child is listed under its parent', async () => {
    const { id } = await startExecution(h.app, cart());
    expect((await waitEnded(h.app, id)).status).toBe('SUCCEEDED');
    const events = await history(h.app, id);
    const childId = `${id}:scheduleShipping:1`;
    expect(of(events, 'StepStarted', 'scheduleShipping').map((e) => e.data.childId)).toEqual([childId]);
    expect(of(events, 'StepSucceeded', 'scheduleShipping').map((e) => e.data.childId)).toEqual([childId]);
    const child = await getExecution(h.app, childId);
    expect(child).toMatchObject({ workflow: 'shipping', status: 'SUCCEEDED', parentId: id });
    const listed = json(await h.app.inject({ url: `/v1/executions?parentId=${encodeURIComponent(id)}` }));
    expect(listed.items.map((e: { id: string }) => e.id)).toEqual([childId]);
    const done = await getExecution(h.app, id);
    expect(done.output.shipmentId).toBe(child.output.shipmentId);
  });

  it('simulate.shippingUnavailableUntil: FAILED and held (no refund); a redrive after that time SUCCEEDS, paying once over both runs', async () => {
    // Four seconds is well past the child's three attempts (at 0, 250 and 750 ms after it starts).
    const until = Date.now() + 4_000;
    const { id } = await startExecution(h.app, cart({ shippingUnavailableUntil: until }));
    const failed = await waitEnded(h.app, id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error.code).toBe('Shipping.Unavailable');
    let events = await history(h.app, id);
    expect(of(events, 'CompensationStarted')).toEqual([]); // held: the payment is kept for the redrive
    const firstChild = await getExecution(h.app, `${id}:scheduleShipping:1`);
    expect(firstChild).toMatchObject({ workflow: 'shipping', status: 'FAILED', error: { code: 'Shipping.Unavailable' } });
    expect(of(await history(h.app, firstChild.id), 'StepFailed', 'bookCarrier')).toHaveLength(3);

    // A redrive before the carrier is back is not what this knob shows; wait for `until` to pass.
    while (Date.now() < until) await new Promise((r) => setTimeout(r, until - Date.now()));
    const redrive = await post(`/v1/executions/${id}/redrive`);
    expect(redrive.statusCode, redrive.body).toBe(202);
    expect(json(redrive).count).toBe(1);
    const done = await waitEnded(h.app, id);
    expect(done.status).toBe('SUCCEEDED');

    events = await history(h.app, id);
    expect(of(events, 'StepStarted', 'processPayment')).toHaveLength(1);
    expect(of(events, 'StepSucceeded', 'processPayment')).toHaveLength(1);
    expect(of(events, 'CompensationStarted')).toEqual([]);
    expect(of(events, 'ExecutionRedriven').map((e) => e.data)).toEqual([{ count: 1, from: 'scheduleShipping' }]);
    const secondChild = `${id}:scheduleShipping.2:1`;
    expect(of(events, 'StepSucceeded', 'scheduleShipping').map((e) => e.data.childId)).toEqual([secondChild]);
    expect((await getExecution(h.app, secondChild)).status).toBe('SUCCEEDED');
    expect(done.output.paymentId).toBe(of(events, 'StepSucceeded', 'processPayment')[0].data.output.paymentId);
  });
});

describe('checkout: one order per customer at a time', () => {
  it('a second order of the same customer is QUEUED until the first ends, then runs', async () => {
    const customer = { id: 'one-at-a-time', email: 'ada@example.com' };
    const first = await startExecution(h.app, cart({ fraudReview: true }, { customer }));
    await waitForEvent(first.id, 'StateEntered', 'awaitReview'); // the first holds the customer's slot
    const second = await startExecution(h.app, cart(undefined, { customer }));
    expect(second.status).toBe('QUEUED');
    await h.engine.idle({ handlerGraceMs: 20 });
    expect((await getExecution(h.app, second.id)).status).toBe('QUEUED');
    const queued = await history(h.app, second.id);
    expect(of(queued, 'ExecutionQueued').map((e) => e.data.scopes)).toEqual([['checkout/key:one-at-a-time']]);
    expect(of(queued, 'StepStarted')).toEqual([]);
    // Events wait until it runs.
    expectError(await post(`/v1/executions/${second.id}/events/review`, { payload: { approved: true } }), 409, 'EXECUTION_NOT_STARTED');

    expect((await post(`/v1/executions/${first.id}/events/review`, { payload: { approved: true } })).statusCode).toBe(201);
    const firstDone = await waitEnded(h.app, first.id);
    expect(firstDone.status).toBe('SUCCEEDED');
    const secondDone = await waitEnded(h.app, second.id);
    expect(secondDone.status).toBe('SUCCEEDED');
    const secondStarted = of(await history(h.app, second.id), 'StepStarted')[0];
    expect(Date.parse(secondStarted.timestamp)).toBeGreaterThanOrEqual(Date.parse(firstDone.endedAt));
  });

  it('orders of different customers run side by side', async () => {
    const a = await startExecution(h.app, cart({ fraudReview: true }));
    const b = await startExecution(h.app, cart({ fraudReview: true }));
    await waitForEvent(a.id, 'StateEntered', 'awaitReview');
    await waitForEvent(b.id, 'StateEntered', 'awaitReview');
    for (const { id } of [a, b]) expect((await post(`/v1/executions/${id}/events/review`, { payload: { approved: true } })).statusCode).toBe(201);
    expect((await waitEnded(h.app, a.id)).status).toBe('SUCCEEDED');
    expect((await waitEnded(h.app, b.id)).status).toBe('SUCCEEDED');
  });
});
