import { workflow } from '../../src/index.js';
import {
  createOrder, processPayment, refundPayment, releaseInventory, reserveInventory, scheduleShipping, sendConfirmation,
  sendReceipt, validateCart, type CheckoutInput,
} from './handlers.js';

/**
 * The flagship: validate the cart, take payment (retried on gateway hiccups, refunded if a later
 * step fails for good), create the order and send the receipt while reserving inventory, wait
 * for the shipping slot, schedule shipping and confirm.
 */
export const checkout = workflow<CheckoutInput>('checkout')
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
