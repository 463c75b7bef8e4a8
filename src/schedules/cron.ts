import { Cron } from 'croner';
import { StepwiseError } from '../core/errors.js';

/** Longest cron expression accepted (the longest sensible one is well under 100 characters). */
const MAX_CRON_LENGTH = 200;

/**
 * A cron expression in a time zone, as croner reads it: five fields, or six with seconds first;
 * nicknames such as `@hourly` too. Croner only computes times here; it never runs a timer (no
 * callback is given), since firing is durable and belongs to the schedule runner.
 */
export class CronTimes {
  private readonly cron: Cron;

  /** Throws INVALID_CRON or UNKNOWN_TIME_ZONE, naming the field, when either is wrong. */
  constructor(
    readonly expression: string,
    readonly timezone: string,
    now: number = Date.now(),
  ) {
    assertTimeZone(timezone);
    if (typeof expression !== 'string' || expression.trim().length === 0 || expression.length > MAX_CRON_LENGTH) {
      throw new StepwiseError('INVALID_CRON', `cron must be a cron expression of at most ${MAX_CRON_LENGTH} characters`, { field: 'cron' });
    }
    try {
      // UTC (the default) as an offset: the same times (no DST, offset 0), without croner asking
      // Intl for the zone, whose first use loads ICU's time zone data (~15 ms of start-up CPU).
      this.cron = new Cron(expression, timezone === 'UTC' ? { utcOffset: 0, mode: '5-or-6-parts' } : { timezone, mode: '5-or-6-parts' });
    } catch (error) {
      const why = error instanceof Error ? error.message.replace(/^CronPattern: /, '') : String(error);
      throw new StepwiseError('INVALID_CRON', `cron '${clip(expression)}' is not valid: ${why}`, { field: 'cron' });
    }
    if (this.next(now) === undefined) {
      throw new StepwiseError('INVALID_CRON', `cron '${clip(expression)}' never fires`, { field: 'cron' });
    }
  }

  /** The first slot strictly after `after` (ms since the epoch), or undefined when none comes. */
  next(after: number): number | undefined {
    const next = this.cron.nextRun(new Date(after));
    return next ? next.getTime() : undefined;
  }

  /** The next `count` slots strictly after `after`. */
  upcoming(after: number, count: number): number[] {
    const out: number[] = [];
    let at = after;
    while (out.length < count) {
      const next = this.next(at);
      if (next === undefined) break;
      out.push(next);
      at = next;
    }
    return out;
  }
}

/** Throws UNKNOWN_TIME_ZONE unless `timezone` is an IANA zone (or UTC) this runtime knows. */
export function assertTimeZone(timezone: unknown): asserts timezone is string {
  let known = typeof timezone === 'string' && timezone.length > 0 && timezone.length <= 64;
  // Every runtime knows UTC; asking Intl would load ICU's time zone data just to say so.
  if (known && timezone !== 'UTC') {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone as string });
    } catch {
      known = false;
    }
  }
  if (!known) {
    const shown = typeof timezone === 'string' ? `'${clip(timezone)}'` : String(typeof timezone);
    throw new StepwiseError('UNKNOWN_TIME_ZONE', `timezone ${shown} is not a time zone this runtime knows (use an IANA name such as 'Europe/Paris' or 'UTC')`, {
      field: 'timezone',
    });
  }
}

const cache = new Map<string, CronTimes>();

/** A cached CronTimes for a definition already checked (the runner computes slots on every wake). */
export function cronTimes(expression: string, timezone: string): CronTimes {
  const key = `${timezone} ${expression}`;
  let times = cache.get(key);
  if (!times) {
    if (cache.size >= 1000) cache.clear();
    times = new CronTimes(expression, timezone);
    cache.set(key, times);
  }
  return times;
}

function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
