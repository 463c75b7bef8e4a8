/**
 * Delivers alerts to webhooks: a JSON body, signed like HTTP-function calls
 * (`stepwise-signature: t=<unix seconds>,v1=<HMAC-SHA256 hex of "t.body">`, src/handlers/signature.ts),
 * retried with exponential backoff on a network error or a non-2xx answer, up to `attempts` tries.
 * Delivery never blocks the engine: it runs in the background, and close() stops the retries.
 */
import pRetry, { AbortError } from 'p-retry';
import { SIGNATURE_HEADER, signatureHeader } from '../handlers/signature.js';

export interface AlertWebhook {
  url: string;
  /** Signs every delivery; the receiver verifies with verifySignature. */
  secret: string;
  /** @default 5 */
  attempts?: number;
}

export interface Alert {
  rule: string;
  kind: 'failureRate' | 'stepTimeouts' | 'dailyBudget';
  workflow?: string;
  message: string;
  /** ISO 8601. */
  at: string;
  details: Record<string, unknown>;
}

export class AlertWebhooks {
  private readonly stop = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly hooks: readonly AlertWebhook[],
    private readonly onFailure: (url: string, error: unknown) => void,
    private readonly minTimeoutMs = 200,
  ) {}

  send(alert: Alert): void {
    const body = JSON.stringify(alert);
    for (const hook of this.hooks) {
      const p = this.deliver(hook, body).catch((error) => this.onFailure(hook.url, error)).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  /** Resolves once every delivery under way has succeeded or given up. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  close(): void {
    this.stop.abort();
  }

  private deliver(hook: AlertWebhook, body: string): Promise<void> {
    return pRetry(async () => {
      const res = await fetch(hook.url, {
        method: 'POST', body, signal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(10_000)]),
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signatureHeader(body, hook.secret) },
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return;
      const error = new Error(`alert webhook answered ${res.status}`);
      // A 4xx other than 408/429 will not get better by retrying.
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new AbortError(error);
      throw error;
    }, { retries: (hook.attempts ?? 5) - 1, minTimeout: this.minTimeoutMs, factor: 2, maxTimeout: 30_000, signal: this.stop.signal });
  }
}
