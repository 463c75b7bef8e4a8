import { workflow } from '../../src/index.js';
import {
  bookCarrier, createOrder, processPayment, refundPayment, releaseInventory, reserveInventory, sendConfirmation,
  sendReceipt, validateCart, type CheckoutInput, type ShippingInput,
} from './handlers.js';
import { checkoutSchedules } from './schedules.js';
import { checkoutTriggers } from './triggers.js';

/*
 * What `stepwise serve` (and so `npm start`) serves from this module: every exported workflow,
 * queue trigger, webhook and schedule. Without STEPWISE_NATS_URL, STEPWISE_AMQP_URL and
 * STEPWISE_HOOK_SECRET the trigger lists are empty and only the workflows and the schedule run.
 */

/** The sweep the `abandoned-carts` schedule runs every minute (./schedules.ts). */
export { abandonedCarts } from './schedules.js';
/** NATS on `orders.checkout`, RabbitMQ on queue `checkout`, the webhook `checkout`: each when its variable is set. */
export const { triggers, hooks } = checkoutTriggers(process.env);
/** `abandoned-carts`, every minute. */
export const schedules = checkoutSchedules();

/**
 * What a checkout input must look like, checked at the door: a start whose input does not match is
 * refused with 400 VALIDATION_FAILED naming the first mismatch (`input.customer is required`).
 * Business rules (an empty cart, a zero quantity) stay in validateCart, which fails the execution
 * with InvalidCart so the history shows why.
 */
export const checkoutInputSchema = {
  type: 'object',
  required: ['orderId', 'customer', 'items'],
  properties: {
    orderId: { type: 'string', minLength: 1 },
    customer: {
      type: 'object',
      required: ['id', 'email'],
      properties: { id: { type: 'string' }, email: { type: 'string' } },
    },
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['sku', 'qty', 'price'],
        properties: { sku: { type: 'string' }, qty: { type: 'number' }, price: { type: 'number' } },
      },
    },
    simulate: {
      type: 'object',
      additionalProperties: false,
      properties: {
        stepDelayMs: { type: 'number', minimum: 0 },
        paymentTransientFailures: { type: 'integer', minimum: 0 },
        paymentDeclined: { type: 'boolean' },
        outOfStock: { type: 'boolean' },
        shippingDelayMs: { type: 'number', minimum: 0 },
        fraudReview: { type: 'boolean' },
        reviewTimeoutMs: { type: 'number', exclusiveMinimum: 0 },
        shippingUnavailableUntil: { type: 'number', minimum: 0 },
      },
    },
  },
};

/** How long a fraud review may take unless `simulate.reviewTimeoutMs` says otherwise. */
const REVIEW_TIMEOUT_MS = 3_600_000;

/**
 * The child the checkout invokes to ship an order: book a carrier, retrying while none answers
 * (about a second in all), then failing with Shipping.Unavailable.
 */
export const shipping = workflow<ShippingInput>('shipping')
  .task('bookCarrier', bookCarrier, {
    retry: [{ errors: ['Shipping.Unavailable'], intervalMs: 250, backoffRate: 2, maxAttempts: 3, jitter: 'none' }],
    timeoutMs: 30_000,
  })
  .build();

/**
 * The flagship: validate the cart, take payment (retried on gateway hiccups, refunded if a later
 * step fails for good), hold for a fraud review when asked (`simulate.fraudReview`), create the
 * order and send the receipt while reserving inventory, wait for the shipping slot, ship (the
 * child workflow `shipping`) and confirm. Orders of one customer run one at a time: a second
 * order waits QUEUED until the first ends. A shipping failure is held, not compensated: the
 * checkout ends FAILED with the payment kept, and a redrive ships it later, paying nothing twice.
 */
export const checkout = workflow<CheckoutInput>('checkout', {
  input: checkoutInputSchema,
  concurrency: { key: (input) => input.customer.id, limit: 1 },
})
  .task('validateCart', validateCart, { resultPath: 'validation', timeoutMs: 10_000 })
  .choice('cartValid', {
    choices: [{ when: (d) => d.validation.valid, next: 'processPayment', label: 'valid' }],
    default: 'InvalidCart',
  })
  .fail('InvalidCart', { error: 'InvalidCart', cause: (d) => d.validation.reason ?? 'the cart is invalid' })
  .task('processPayment', processPayment, {
    resultPath: 'payment',
    retry: [{ errors: ['PaymentGatewayUnavailable', 'Stepwise.Timeout'], intervalMs: 100, backoffRate: 2, maxAttempts: 5, maxDelayMs: 2000 }],
    compensate: { name: 'refundPayment', handler: refundPayment },
    timeoutMs: 30_000,
  })
  .choice('needsReview', {
    choices: [{ when: (d) => d.simulate?.fraudReview === true, next: 'awaitReview', label: 'fraud review' }],
    default: 'fulfil',
  })
  // A person approves or rejects: POST /v1/executions/:id/events/review { "payload": { "approved": true } }.
  .waitForEvent<{ approved: boolean }, 'review'>('awaitReview', {
    event: 'review', resultPath: 'review', timeoutMs: (d) => d.simulate?.reviewTimeoutMs ?? REVIEW_TIMEOUT_MS,
  })
  .choice('reviewDecision', {
    choices: [{ when: (d) => d.review?.approved === true, next: 'fulfil', label: 'approved' }],
    default: 'Rejected',
  })
  .fail('Rejected', { error: 'Checkout.Rejected', cause: 'the fraud review rejected the order' })
  .parallel('fulfil', [
    (b) => b.task('createOrder', createOrder).task('sendReceipt', sendReceipt),
    (b) => b.task('reserveInventory', reserveInventory, { compensate: { name: 'releaseInventory', handler: releaseInventory } }),
  ], { resultPath: 'fulfilment' })
  .wait('waitForShipping', { durationMs: (d) => Math.max(0, Number(d.simulate?.shippingDelayMs ?? 0)) })
  // The child's id (`<checkout id>:scheduleShipping:<attempt>`) is data.childId on this step's events.
  .invoke<{ shipmentId: string; items: number }, 'shipment'>('scheduleShipping', 'shipping', {
    input: (d) => ({ orderId: d.orderId, items: d.items, ...(d.simulate ? { simulate: d.simulate } : {}) }),
    resultPath: 'shipment',
    catch: [{ errors: ['Shipping.Unavailable'], next: 'holdShipping' }],
  })
  .task('sendConfirmation', sendConfirmation, { resultPath: 'confirmation' })
  .succeed('done', {
    output: (d) => ({
      orderId: d.fulfilment[0].orderId,
      paymentId: d.payment.paymentId,
      receiptId: d.fulfilment[0].receiptId,
      reservationId: d.fulfilment[1].reservationId,
      shipmentId: d.shipment.shipmentId,
      confirmationId: d.confirmation.confirmationId,
      amount: d.payment.amount,
    }),
  })
  // Held for redrive: no refund runs; a redrive re-enters scheduleShipping with a new child.
  .fail('holdShipping', { error: 'Shipping.Unavailable', cause: 'no carrier answered; redrive the checkout to ship it', compensate: false })
  .build();
