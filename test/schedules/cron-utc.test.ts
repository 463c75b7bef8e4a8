import { describe, expect, it } from 'vitest';
import { CronTimes } from '../../src/schedules/cron.js';

/** 'UTC' is computed as a zero offset (no Intl time zone lookup at start-up); it must give the times the zone gives. */
describe("cron times in 'UTC'", () => {
  it("are those of the IANA zone 'Etc/UTC', for every kind of expression", () => {
    const start = Date.UTC(2024, 1, 27, 22, 58, 31, 250);
    for (const expression of ['* * * * *', '0 0 * * *', '30 2 * * 0', '0 0 29 2 *', '*/7 * * * * *', '@hourly', '0 9 * * 1-5', '15 3 L * *', '59 23 31 12 *', '0 12 * * 5#2']) {
      expect(new CronTimes(expression, 'UTC', start).upcoming(start, 50), expression).toEqual(new CronTimes(expression, 'Etc/UTC', start).upcoming(start, 50));
    }
  });
});
