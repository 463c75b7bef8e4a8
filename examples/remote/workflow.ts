import { callback, http, worker, workflow } from '../../src/index.js';
import { config } from './config.js';
import type { FulfilmentInput, Quote, shipParcel } from './shipping.js';

/**
 * Order fulfilment with work that runs elsewhere:
 *
 *   quoteShipping   an HTTP function (function-server.ts): retried while the carrier is busy,
 *                   NoCarrier caught and turned into the Undeliverable failure
 *   ship            a polling worker on queue 'shipping' (worker.ts)
 *   awaitDelivery   a callback: the carrier gets the task token and answers, possibly days
 *                   later, with POST /v1/tasks/:token/succeed (here: curl)
 */

/** What the carrier is told when a parcel leaves: where to report its delivery. */
export interface DeliveryRequest {
  orderId: string;
  trackingId: string;
  taskToken: string;
}

export interface FulfilmentOptions {
  functionUrl: string;
  secret: string;
  /**
   * Hands the delivery report's task token to the carrier. The default prints the curl command
   * that completes the step: fine on one machine, but a token answers the step, so a real
   * integration sends it to the carrier and keeps it out of logs.
   */
  notifyCarrier?: (request: DeliveryRequest) => void | Promise<void>;
}

function printCurl(request: DeliveryRequest): void {
  console.log(
    `[fulfilment] order ${request.orderId} shipped (${request.trackingId}); to report its delivery:\n` +
    `  curl -s -X POST ${config.stepwiseUrl}/v1/tasks/${request.taskToken}/succeed -H 'Content-Type: application/json' ` +
    `-d '{"output":{"deliveredAt":"${new Date().toISOString().slice(0, 10)}","signedBy":"A. Customer"}}'`,
  );
}

type Shipment = Awaited<ReturnType<typeof shipParcel>>;

export function buildFulfilment(options: FulfilmentOptions) {
  const notify = options.notifyCarrier ?? printCurl;
  return workflow<FulfilmentInput>('fulfilment')
    .task('quoteShipping', http<FulfilmentInput, Quote>(`${options.functionUrl}/quote`, { secret: options.secret }), {
      resultPath: 'quote',
      timeoutMs: 10_000,
      retry: [{ errors: ['CarrierBusy', 'Stepwise.HttpConnectionFailed', 'Stepwise.HttpServerError'], intervalMs: 500, maxAttempts: 5 }],
      catch: [{ errors: ['NoCarrier'], next: 'Undeliverable' }],
    })
    // Packing can take a while: the worker heartbeats, and a worker that dies is noticed within 30 s.
    .task('ship', worker('shipping', { heartbeatMs: 30_000 }), {
      resultPath: 'shipment',
      timeoutMs: 60 * 60_000,
      retry: [{ errors: ['Stepwise.HeartbeatTimeout', 'Stepwise.WorkerStopped'], intervalMs: 1000, maxAttempts: 3 }],
    })
    // The worker's answer is JSON from another process: its shape is the worker's contract (shipping.ts).
    .task('awaitDelivery', callback((input, ctx) => notify({ orderId: input.orderId, trackingId: (input.shipment as Shipment).trackingId, taskToken: ctx.taskToken })), {
      resultPath: 'delivery',
      timeoutMs: 14 * 24 * 60 * 60_000, // two weeks for the carrier to report
    })
    .succeed('done')
    .fail('Undeliverable', { error: 'Undeliverable', cause: (d) => (d as { error?: { message?: string } }).error?.message ?? 'no carrier delivers there' })
    .build();
}

export const fulfilment = buildFulfilment({ functionUrl: config.functionUrl, secret: config.functionSecret });
