/** schedule() checks its options when called; planSlots decides which due slots fire. */
import { describe, expect, it } from 'vitest';
import { StepwiseError, collectSchedules, schedule } from '../../src/index.js';
import { CronTimes } from '../../src/schedules/cron.js';
import { MAX_COUNTED_SLOTS, planSlots } from '../../src/schedules/slot-plan.js';

function refusal(fn: () => unknown): StepwiseError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StepwiseError) return error;
    throw error;
  }
  throw new Error('expected a StepwiseError');
}

const base = { id: 'tick', cron: '* * * * *', workflow: 'quick' };

describe('schedule()', () => {
  it('fills the defaults', () => {
    expect(schedule(base)).toEqual({
      kind: 'schedule', id: 'tick', cron: '* * * * *', timezone: 'UTC', workflow: 'quick', input: {},
      overlap: 'skip', catchUp: 'latest', catchUpLimit: 10, paused: false,
    });
  });

  it('refuses a bad cron with INVALID_CRON naming the field', () => {
    const error = refusal(() => schedule({ ...base, cron: '* * * 13 *' }));
    expect(error.code).toBe('INVALID_CRON');
    expect(error.details).toMatchObject({ field: 'cron', schedule: 'tick' });
    expect(error.message).toMatch(/^schedule 'tick': cron '\* \* \* 13 \*' is not valid/);
    expect(refusal(() => schedule({ ...base, cron: '' })).code).toBe('INVALID_CRON');
    expect(refusal(() => schedule({ ...base, cron: 42 as unknown as string })).code).toBe('INVALID_CRON');
  });

  it('refuses an unknown time zone with UNKNOWN_TIME_ZONE naming the field', () => {
    const error = refusal(() => schedule({ ...base, timezone: 'Europe/Atlantis' }));
    expect(error.code).toBe('UNKNOWN_TIME_ZONE');
    expect(error.details).toMatchObject({ field: 'timezone' });
    expect(error.message).toMatch(/timezone 'Europe\/Atlantis'/);
  });

  it('lists every other wrong option in one INVALID_DEFINITION', () => {
    const error = refusal(() =>
      schedule({ ...base, id: '1st', workflow: 'no spaces', overlap: 'never' as 'skip', catchUp: 'some' as 'all', catchUpLimit: 0, paused: 'no' as unknown as boolean, every: 1 } as never),
    );
    expect(error.code).toBe('INVALID_DEFINITION');
    for (const field of ["unknown option 'every'", 'id must', 'workflow must', 'overlap must', 'catchUp must', 'catchUpLimit must', 'paused must']) {
      expect(error.message).toContain(field);
    }
  });

  it('refuses an input that is not JSON or too large', () => {
    expect(refusal(() => schedule({ ...base, input: { n: 10n } })).message).toMatch(/input must be JSON/);
    expect(refusal(() => schedule({ ...base, input: 'x'.repeat(70_000) })).message).toMatch(/at most 65536 bytes/);
  });

  it('collectSchedules finds the schedules among exports', () => {
    const a = schedule(base);
    const b = schedule({ ...base, id: 'other' });
    expect(collectSchedules({ a, list: [b, a], other: 42, fn: () => a })).toEqual([a, b]);
  });
});

describe('cron times across DST (Europe/Paris, 2026)', () => {
  const daily = new CronTimes('0 30 2 * * *', 'Europe/Paris');
  it('a fixed time that does not exist that day fires at the jump', () => {
    expect(daily.upcoming(Date.parse('2026-03-27T12:00:00Z'), 3).map((t) => new Date(t).toISOString())).toEqual([
      '2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z',
    ]);
  });
  it('a fixed time that happens twice fires once', () => {
    expect(daily.upcoming(Date.parse('2026-10-24T12:00:00Z'), 2).map((t) => new Date(t).toISOString())).toEqual([
      '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z',
    ]);
  });
});

describe('planSlots', () => {
  const T = Date.UTC(2026, 0, 1);
  const minutely = new CronTimes('* * * * *', 'UTC');
  const plan = (catchUp: 'none' | 'latest' | 'all', from: number, now: number, catchUpLimit = 3) =>
    planSlots(minutely, from, now, { catchUp, catchUpLimit, onTimeMs: 10_000 });

  it('fires a slot that is on time under every policy', () => {
    for (const policy of ['none', 'latest', 'all'] as const) {
      expect(plan(policy, T, T + 50)).toEqual({ fire: [T], missed: 0, next: T + 60_000 });
    }
  });

  it('after downtime: none fires nothing, latest the last, all the last few', () => {
    const now = T + 5 * 60_000 + 30_000; // slots T .. T+5min are due, the last 30 s late
    expect(plan('none', T, now)).toEqual({ fire: [], missed: 6, next: T + 6 * 60_000 });
    expect(plan('latest', T, now)).toEqual({ fire: [T + 5 * 60_000], missed: 5, next: T + 6 * 60_000 });
    expect(plan('all', T, now)).toEqual({ fire: [3, 4, 5].map((n) => T + n * 60_000), missed: 3, next: T + 6 * 60_000 });
  });

  it('counts a huge backlog without walking all of it', () => {
    const perSecond = new CronTimes('* * * * * *', 'UTC');
    const now = T + 2 * 86_400_000;
    const result = planSlots(perSecond, T, now, { catchUp: 'all', catchUpLimit: 5, onTimeMs: 10_000 });
    expect(result.fire).toEqual([4, 3, 2, 1, 0].map((n) => now - n * 1000));
    expect(result.missed).toBe(MAX_COUNTED_SLOTS - 5);
    expect(result.next).toBe(now + 1000);
  });

  it('fires nothing before the slot', () => {
    expect(plan('all', T, T - 1)).toEqual({ fire: [], missed: 0, next: T });
  });
});
