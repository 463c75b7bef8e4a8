import { describe, expect, it } from 'vitest';
import { normaliseError } from '../../src/core/errors.js';
import { backoffDelay, RETRY_DEFAULTS } from '../../src/core/retry-policy.js';

const policy = { ...RETRY_DEFAULTS, intervalMs: 1000, backoffRate: 2, maxDelayMs: 60_000, jitter: 'none' as const };

describe('backoffDelay', () => {
  it('grows exponentially from intervalMs and stops at maxDelayMs', () => {
    expect([2, 3, 4, 5].map((n) => backoffDelay(policy, n, 0.5))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelay(policy, 20, 0.5)).toBe(60_000);
  });

  it('spreads the delay over [0, computed] with full jitter', () => {
    const jittered = { ...policy, jitter: 'full' as const };
    expect(backoffDelay(jittered, 3, 0)).toBe(0);
    expect(backoffDelay(jittered, 3, 0.25)).toBe(500);
  });

  it("never retries sooner than the service's Retry-After (minDelayMs)", () => {
    expect(backoffDelay(policy, 2, 0.5, 7000)).toBe(7000);
    expect(backoffDelay({ ...policy, jitter: 'full' }, 2, 0, 7000)).toBe(7000);
    expect(backoffDelay(policy, 2, 0.5, 7000.2)).toBe(7001);
  });

  it('keeps the backoff when it is already longer than minDelayMs', () => {
    expect(backoffDelay(policy, 5, 0.5, 3000)).toBe(8000);
  });

  it('lets minDelayMs exceed maxDelayMs: the service knows when it will be back', () => {
    expect(backoffDelay(policy, 2, 0.5, 120_000)).toBe(120_000);
  });

  it('ignores a missing, negative or non-finite minDelayMs', () => {
    expect(backoffDelay(policy, 2, 0.5, undefined)).toBe(1000);
    expect(backoffDelay(policy, 2, 0.5, -5)).toBe(1000);
    expect(backoffDelay(policy, 2, 0.5, Number.NaN)).toBe(1000);
    expect(backoffDelay(policy, 2, 0.5, Number.POSITIVE_INFINITY)).toBe(1000);
  });
});

describe('normaliseError keeps retryAfterMs', () => {
  it('from a retryable Error that carries one', () => {
    const error = Object.assign(new Error('slow down'), { code: 'RateLimited', retryAfterMs: 2500.5 });
    expect(normaliseError(error)).toEqual({ code: 'RateLimited', message: 'slow down', retryAfterMs: 2501 });
  });

  it('not when it is not a finite, non-negative number', () => {
    for (const retryAfterMs of [-1, Number.NaN, '100', null]) {
      expect(normaliseError(Object.assign(new Error('x'), { retryAfterMs }))).not.toHaveProperty('retryAfterMs');
    }
  });
});
