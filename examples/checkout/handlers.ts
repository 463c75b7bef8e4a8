import { createHash } from 'node:crypto';
import { TerminalError, type StepContext } from '../../src/index.js';

/**
 * The checkout's handlers. Stateless: everything they need is in their input, and their knobs
 * for demos and tests come from `input.simulate`, so anyone can watch retries, compensation and
 * timers happen. Ids derive from the step's idempotency key, as a real payment API would
 * deduplicate on it: a re-run after a crash charges once and returns the same payment.
 */

export interface CartItem { sku: string; qty: number; price: number }
export interface Simulate {
  /** Every handler takes this long (so a test can kill the server mid-step). */
  stepDelayMs?: number;
  /** processPayment fails with a transient gateway error this many times before it succeeds. */
  paymentTransientFailures?: number;
  /** processPayment declines the card: a terminal failure, nothing charged. */
  paymentDeclined?: boolean;
  /** reserveInventory finds an item out of stock: a terminal failure after payment (refund follows). */
  outOfStock?: boolean;
  /** The durable wait before scheduleShipping. */
  shippingDelayMs?: number;
  /** After payment, wait for a `review` event ({ approved: boolean }): rejected or timed out, the payment is refunded. */
  fraudReview?: boolean;
  /** How long the fraud review may take before the checkout fails with Stepwise.Timeout. @default 3600000 (one hour) */
  reviewTimeoutMs?: number;
  /** Until this time (epoch ms) no carrier answers: the shipping child fails with Shipping.Unavailable after its retries. */
  shippingUnavailableUntil?: number;
}
export interface CheckoutInput {
  orderId: string;
  customer: { id: string; email: string };
  items: CartItem[];
  simulate?: Simulate;
}

/** Thrown for a gateway hiccup; the payment step's retry policy matches its name. */
export class PaymentGatewayUnavailable extends Error {
  override readonly name = 'PaymentGatewayUnavailable';
}

export async function validateCart(input: CheckoutInput, ctx: StepContext) {
  await simulatedWork(input, ctx);
  const items = Array.isArray(input.items) ? input.items : [];
  const bad = items.find((i) => !i || typeof i.sku !== 'string' || !(i.qty > 0) || !(i.price >= 0));
  if (items.length === 0) return { valid: false, reason: 'the cart is empty', total: 0 };
  if (bad) return { valid: false, reason: `item ${JSON.stringify(bad?.sku ?? null)} has a bad quantity or price`, total: 0 };
  const total = Math.round(items.reduce((sum, i) => sum + i.qty * i.price, 0) * 100) / 100;
  return { valid: true, total };
}

export async function processPayment(input: CheckoutInput & { validation: { total: number } }, ctx: StepContext) {
  await simulatedWork(input, ctx);
  if (input.simulate?.paymentDeclined) throw new TerminalError('PaymentDeclined', `card of customer ${input.customer.id} was declined`);
  if (ctx.attempt <= (input.simulate?.paymentTransientFailures ?? 0)) {
    throw new PaymentGatewayUnavailable(`payment gateway unavailable (attempt ${ctx.attempt})`);
  }
  return { paymentId: idFrom('pay', ctx.idempotencyKey), amount: input.validation.total };
}

export async function refundPayment({ output }: { input: unknown; output: { paymentId: string; amount: number } }, ctx: StepContext) {
  await simulatedWork({}, ctx);
  return { refundId: idFrom('ref', ctx.idempotencyKey), paymentId: output.paymentId, amount: output.amount };
}

export async function createOrder(input: CheckoutInput & { payment: { paymentId: string } }, ctx: StepContext) {
  await simulatedWork(input, ctx);
  return { orderId: input.orderId, paymentId: input.payment.paymentId, email: input.customer.email };
}

export async function sendReceipt(order: { orderId: string; email: string }, ctx: StepContext) {
  await simulatedWork({}, ctx);
  return { orderId: order.orderId, receiptId: idFrom('rcp', ctx.idempotencyKey), sentTo: order.email };
}

export async function reserveInventory(input: CheckoutInput, ctx: StepContext) {
  await simulatedWork(input, ctx);
  if (input.simulate?.outOfStock) throw new TerminalError('OutOfStock', `sku ${input.items[0]?.sku} is out of stock`);
  return { reservationId: idFrom('res', ctx.idempotencyKey), skus: input.items.map((i) => i.sku) };
}

export async function releaseInventory({ output }: { input: unknown; output: { reservationId: string } }, ctx: StepContext) {
  await simulatedWork({}, ctx);
  return { released: output.reservationId };
}

/** Thrown while no carrier answers (`simulate.shippingUnavailableUntil`); the shipping workflow retries it. */
export class ShippingUnavailable extends Error {
  override readonly name = 'Shipping.Unavailable';
}

/** What the shipping child gets of the order: what a carrier needs. */
export type ShippingInput = Pick<CheckoutInput, 'orderId' | 'items' | 'simulate'>;

/** Books a carrier for the order: the shipping child's one step. */
export async function bookCarrier(input: ShippingInput, ctx: StepContext) {
  await simulatedWork(input, ctx);
  const until = input.simulate?.shippingUnavailableUntil;
  if (until !== undefined && Date.now() < until) throw new ShippingUnavailable(`no carrier answers until ${new Date(until).toISOString()}`);
  return { shipmentId: idFrom('shp', ctx.idempotencyKey), items: input.items.length };
}

export async function sendConfirmation(input: CheckoutInput, ctx: StepContext) {
  await simulatedWork(input, ctx);
  return { confirmationId: idFrom('cnf', ctx.idempotencyKey), to: input.customer.email };
}

function idFrom(prefix: string, key: string): string {
  return `${prefix}_${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/** Waits `simulate.stepDelayMs`, stopping early (and failing) when the step is aborted. */
async function simulatedWork(input: { simulate?: Simulate }, ctx: StepContext): Promise<void> {
  const ms = input?.simulate?.stepDelayMs ?? 0;
  if (ms <= 0) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    ctx.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted'));
    }, { once: true });
  });
}
