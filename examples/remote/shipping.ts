import { createHash } from 'node:crypto';
import type { StepContext } from '../../src/index.js';

/**
 * The example's business logic, kept apart from how it is reached (HTTP function or worker) so
 * that moving a step between kinds does not touch it.
 */

export interface FulfilmentInput {
  orderId: string;
  destination: { country: string };
  parcel: { kg: number };
  simulate?: {
    /** The quote function answers 503 CarrierBusy (with Retry-After: 1) to this many attempts. */
    carrierBusyAttempts?: number;
    /** The worker's packing takes this long (so stopping a worker mid-task can be seen). */
    packingMs?: number;
  };
}

export interface Quote {
  quoteId: string;
  carrier: string;
  priceCents: number;
}

/** A failure the quote function reports in the documented error body. */
export class QuoteError extends Error {
  constructor(readonly status: number, override readonly name: string, message: string) {
    super(message);
  }
}

const CARRIERS: Record<string, string> = { FR: 'La Poste', DE: 'DHL', GB: 'Royal Mail', US: 'USPS' };

/** Prices a parcel. Ids derive from the idempotency key, so a retried call quotes the same. */
export function quoteShipping(input: FulfilmentInput, context: { attempt: number; idempotencyKey: string }): Quote {
  if (context.attempt <= (input.simulate?.carrierBusyAttempts ?? 0)) {
    throw new QuoteError(503, 'CarrierBusy', `the carrier's rating service is busy (attempt ${context.attempt})`);
  }
  const country = String(input.destination?.country ?? '').toUpperCase();
  const carrier = CARRIERS[country];
  if (!carrier) throw new QuoteError(422, 'NoCarrier', `no carrier delivers to '${country}'`);
  const kg = Number(input.parcel?.kg);
  if (!(kg > 0 && kg <= 30)) throw new QuoteError(422, 'ParcelRefused', `a parcel of ${input.parcel?.kg} kg cannot be sent`);
  return { quoteId: `q-${digest(context.idempotencyKey)}`, carrier, priceCents: Math.round(500 + kg * 120) };
}

/** Packs and hands the parcel over; what the polling worker runs. */
export async function shipParcel(input: FulfilmentInput & { quote: Quote }, ctx: StepContext): Promise<{ trackingId: string; carrier: string }> {
  const packingMs = input.simulate?.packingMs ?? 0;
  if (packingMs > 0) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, packingMs);
      ctx.signal.addEventListener('abort', () => (clearTimeout(timer), reject(ctx.signal.reason)), { once: true });
    });
  }
  return { trackingId: `t-${digest(ctx.idempotencyKey)}`, carrier: input.quote.carrier };
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}
