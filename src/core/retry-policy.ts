import type { StepError } from './errors.js';

/** How a failed step is tried again. Every field has a default; see docs/dsl.md. */
export interface RetryPolicy {
  /** Error codes this policy applies to; '*' matches any error that is not terminal. @default ['*'] */
  errors?: string[];
  /** Delay before the first retry, in ms. @default 1000 */
  intervalMs?: number;
  /** Each further retry waits this many times longer. @default 2 */
  backoffRate?: number;
  /** Total attempts, the first one included; 1 means never retry. @default 3 */
  maxAttempts?: number;
  /** No delay exceeds this, in ms. @default 60000 */
  maxDelayMs?: number;
  /** 'full' picks a delay uniformly in [0, computed]; 'none' uses the computed delay. @default 'full' */
  jitter?: 'full' | 'none';
}

export type ResolvedRetryPolicy = Required<RetryPolicy>;

export const RETRY_DEFAULTS: ResolvedRetryPolicy = {
  errors: ['*'],
  intervalMs: 1000,
  backoffRate: 2,
  maxAttempts: 3,
  maxDelayMs: 60_000,
  jitter: 'full',
};

/** Fills defaults and checks ranges; returns a list of problems (empty when valid). */
export function resolveRetryPolicy(policy: RetryPolicy): { policy: ResolvedRetryPolicy; problems: string[] } {
  const resolved = { ...RETRY_DEFAULTS, ...stripUndefined(policy) };
  const problems: string[] = [];
  if (!Array.isArray(resolved.errors) || resolved.errors.length === 0) problems.push('errors must be a non-empty list');
  if (!(resolved.intervalMs >= 0)) problems.push('intervalMs must be >= 0');
  if (!(resolved.backoffRate >= 1)) problems.push('backoffRate must be >= 1');
  if (!Number.isInteger(resolved.maxAttempts) || resolved.maxAttempts < 1) problems.push('maxAttempts must be an integer >= 1');
  if (!(resolved.maxDelayMs >= 0)) problems.push('maxDelayMs must be >= 0');
  if (resolved.jitter !== 'full' && resolved.jitter !== 'none') problems.push("jitter must be 'full' or 'none'");
  return { policy: resolved, problems };
}

/** Whether a rule listing `codes` applies to `error`. Terminal errors match only by exact code. */
export function errorMatches(codes: readonly string[], error: StepError): boolean {
  if (codes.includes(error.code)) return true;
  return !error.terminal && codes.includes('*');
}

/** The first policy that applies to `error`, if any. Terminal errors are never retried. */
export function findRetryPolicy(policies: readonly ResolvedRetryPolicy[], error: StepError): ResolvedRetryPolicy | undefined {
  if (error.terminal) return undefined;
  return policies.find((p) => errorMatches(p.errors, error));
}

/**
 * The delay before attempt `nextAttempt` (2 for the first retry). Pure: randomness comes in as
 * `random` in [0, 1). Full jitter (AWS's "exponential backoff and jitter") spreads a burst of
 * failures over the whole window so that retries do not arrive at the failing service together.
 *
 * `minDelayMs` is the earliest the failed service asked to be called again (an HTTP Retry-After,
 * carried as StepError.retryAfterMs): the delay is never shorter. It may exceed `maxDelayMs`,
 * which bounds our own backoff, not the service's instruction; whoever reads Retry-After caps it.
 */
export function backoffDelay(policy: ResolvedRetryPolicy, nextAttempt: number, random: number, minDelayMs = 0): number {
  const exponent = Math.max(0, nextAttempt - 2);
  const computed = Math.min(policy.maxDelayMs, policy.intervalMs * policy.backoffRate ** exponent);
  const backoff = Math.round(policy.jitter === 'full' ? computed * random : computed);
  return Number.isFinite(minDelayMs) && minDelayMs > backoff ? Math.ceil(minDelayMs) : backoff;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
