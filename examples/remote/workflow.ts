import { http, workflow } from '../../src/index.js';
import { config } from './config.js';
import type { FulfilmentInput, Quote } from './shipping.js';

/**
 * Order fulfilment with work that runs elsewhere:
 *
 *   quoteShipping   an HTTP function (function-server.ts): retried while the carrier is busy,
 *                   NoCarrier caught and turned into the Undeliverable failure
 *   ship            a polling worker on queue 'shipping' (worker.ts)             [next: worker('shipping')]
 *   awaitDelivery   a callback the carrier completes with curl                  [next: callback step]
 */
export function buildFulfilment(options: { functionUrl: string; secret: string }) {
  return workflow<FulfilmentInput>('fulfilment')
    .task('quoteShipping', http<FulfilmentInput, Quote>(`${options.functionUrl}/quote`, { secret: options.secret }), {
      resultPath: 'quote',
      timeoutMs: 10_000,
      retry: [{ errors: ['CarrierBusy', 'Stepwise.HttpConnectionFailed', 'Stepwise.HttpServerError'], intervalMs: 500, maxAttempts: 5 }],
      catch: [{ errors: ['NoCarrier'], next: 'Undeliverable' }],
    })
    // Next: .task('ship', worker('shipping'), { resultPath: 'shipment', heartbeatMs: 30_000 })
    // Next: .task('awaitDelivery', <a handler that hands ctx.taskToken to the carrier>, { resultPath: 'delivery' })
    .succeed('done')
    .fail('Undeliverable', { error: 'Undeliverable', cause: (d) => (d as { error?: { message?: string } }).error?.message ?? 'no carrier delivers there' })
    .build();
}

export const fulfilment = buildFulfilment({ functionUrl: config.functionUrl, secret: config.functionSecret });
