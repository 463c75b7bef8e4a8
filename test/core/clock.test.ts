import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/index.js';

describe('the system clock', () => {
  afterEach(() => vi.useRealTimers());

  it('does not fire a 30-day timer early (Node fires delays over 24.8 days after 1 ms)', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    systemClock.setTimeout(fired, 30 * 24 * 3600 * 1000);
    vi.advanceTimersByTime(25 * 24 * 3600 * 1000);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(5 * 24 * 3600 * 1000);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('cancels a chained timer', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const handle = systemClock.setTimeout(fired, 40 * 24 * 3600 * 1000);
    vi.advanceTimersByTime(30 * 24 * 3600 * 1000);
    systemClock.clearTimeout(handle);
    vi.advanceTimersByTime(20 * 24 * 3600 * 1000);
    expect(fired).not.toHaveBeenCalled();
  });
});
