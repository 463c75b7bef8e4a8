import { workflow } from '../../src/index.js';
import {
  createOrder, processPayment, refundPayment, releaseInventory, reserveInventory, scheduleShipping, sendConfirmation,
  sendReceipt, validateCart, type CheckoutInput,
} from './handlers.js';

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
      },
    },
  },
};

/** How long a fraud review may take unless `simulate.reviewTimeoutMs` says otherwise. */
const REVIEW_TIMEOUT_MS = 3_600_000;

/**
 * The flagship: validate the cart, take payment (retried on gateway hiccups, refunded if a later
 * step fails for good), hold for a fraud review when asked (`simulate.fraudReview`), create the order and send the receipt while reserving inventory, wait
 * for the shipping slot, schedule shipping and confirm.
 */
export const checkout = workflow<CheckoutInput>('checkout', { input: checkoutInputSchema })
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
  .task('scheduleShipping', scheduleShipping, { resultPath: 'shipment' })
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
  .build();
