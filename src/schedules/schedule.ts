import { StepwiseError } from '../core/errors.js';
import { isValidName } from '../core/ids.js';
import { canonicalJson, toJson } from '../core/json.js';
import type { StoredScheduleDefinition } from '../core/schedule-store.js';
import { CronTimes } from './cron.js';

/** What happens to a slot while the execution of the schedule's previous slot is still running. */
export type OverlapPolicy = 'skip' | 'allow' | 'cancelPrevious';
/** What happens to the slots that passed while no process was running the schedule. */
export type CatchUpPolicy = 'none' | 'latest' | 'all';

export interface ScheduleOptions {
  /** The schedule's id: a letter, then up to 63 letters, digits, `_` or `-`. Slot ids are `<id>@<ISO time>`. */
  id: string;
  /** Five fields (`*\/5 * * * *`), or six with seconds first (`*\/10 * * * * *`); nicknames like `@hourly`. */
  cron: string;
  /** The IANA time zone the cron is read in. @default 'UTC' */
  timezone?: string;
  /** The workflow each slot starts. */
  workflow: string;
  /** The input of every execution it starts (any JSON value). @default {} */
  input?: unknown;
  /**
   * While the execution the schedule started last is still running: `skip` the slot (and count
   * it), `allow` another, or `cancelPrevious` (cancel it, then start). @default 'skip'
   */
  overlap?: OverlapPolicy;
  /**
   * Slots missed while no process ran the schedule: `none` skips to the next future slot,
   * `latest` fires only the most recent missed one, `all` fires each (the latest `catchUpLimit`
   * of them). @default 'latest'
   */
  catchUp?: CatchUpPolicy;
  /** With catchUp 'all': the most missed slots fired after one downtime. @default 10, at most 1000 */
  catchUpLimit?: number;
  /** Whether the schedule starts paused (when it is created, or when a changed definition replaces it). @default false */
  paused?: boolean;
}

/** A checked schedule with its defaults filled, as `schedule()` returns it. */
export interface Schedule extends StoredScheduleDefinition {
  readonly kind: 'schedule';
  readonly id: string;
  readonly paused: boolean;
}

export const DEFAULT_CATCH_UP_LIMIT = 10;
export const MAX_CATCH_UP_LIMIT = 1000;
/** The largest input a schedule stores (it is copied into every execution it starts). */
export const MAX_SCHEDULE_INPUT_BYTES = 64 * 1024;
const OVERLAP: readonly OverlapPolicy[] = ['skip', 'allow', 'cancelPrevious'];
const CATCH_UP: readonly CatchUpPolicy[] = ['none', 'latest', 'all'];
const KNOWN = ['id', 'cron', 'timezone', 'workflow', 'input', 'overlap', 'catchUp', 'catchUpLimit', 'paused'];

/**
 * Defines a schedule (docs/triggers.md#schedules). Checks every option when called: a bad cron
 * throws INVALID_CRON, an unknown time zone UNKNOWN_TIME_ZONE, any other wrong option
 * INVALID_DEFINITION naming the schedule and the field.
 */
export function schedule(options: ScheduleOptions): Schedule {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new StepwiseError('INVALID_DEFINITION', 'schedule: options must be an object');
  }
  const id = typeof options.id === 'string' ? options.id : '?';
  const problems: string[] = [];
  for (const key of Object.keys(options)) if (!KNOWN.includes(key)) problems.push(`unknown option '${key}'`);
  if (!isValidName(id)) problems.push("id must be a letter followed by up to 63 letters, digits, '_' or '-'");
  if (typeof options.workflow !== 'string' || !isValidName(options.workflow)) {
    problems.push("workflow must be a letter followed by up to 63 letters, digits, '_' or '-'");
  }
  const overlap = options.overlap ?? 'skip';
  if (!OVERLAP.includes(overlap)) problems.push(`overlap must be one of ${OVERLAP.join(', ')}`);
  const catchUp = options.catchUp ?? 'latest';
  if (!CATCH_UP.includes(catchUp)) problems.push(`catchUp must be one of ${CATCH_UP.join(', ')}`);
  const catchUpLimit = options.catchUpLimit ?? DEFAULT_CATCH_UP_LIMIT;
  if (!(Number.isInteger(catchUpLimit) && catchUpLimit >= 1 && catchUpLimit <= MAX_CATCH_UP_LIMIT)) {
    problems.push(`catchUpLimit must be an integer from 1 to ${MAX_CATCH_UP_LIMIT}`);
  }
  if (options.paused !== undefined && typeof options.paused !== 'boolean') problems.push('paused must be a boolean');
  const checked = toJson(options.input === undefined ? {} : options.input, { maxBytes: MAX_SCHEDULE_INPUT_BYTES });
  if (!checked.ok) {
    const code = checked.reason === 'too-deep' ? 'INPUT_TOO_DEEP' : 'INVALID_DEFINITION';
    if (code === 'INPUT_TOO_DEEP') throw new StepwiseError(code, `schedule '${id}': input is ${checked.message}`, { field: 'input', schedule: id });
    problems.push(`input must be JSON of at most ${MAX_SCHEDULE_INPUT_BYTES} bytes: ${checked.message.replace(/^output /, '')}`);
  }
  if (problems.length > 0) {
    throw new StepwiseError('INVALID_DEFINITION', `schedule '${id}': ${problems.join('; ')}`, { schedule: id });
  }
  const timezone = options.timezone ?? 'UTC';
  try {
    new CronTimes(options.cron, timezone);
  } catch (error) {
    if (error instanceof StepwiseError) throw new StepwiseError(error.code, `schedule '${id}': ${error.message}`, { ...error.details, schedule: id });
    throw error;
  }
  return Object.freeze({
    kind: 'schedule' as const,
    id,
    cron: options.cron,
    timezone,
    workflow: options.workflow,
    input: JSON.parse((checked as { json: string }).json) as unknown,
    overlap,
    catchUp,
    catchUpLimit,
    paused: options.paused ?? false,
  });
}

/** The part of a schedule stored as its definition (id and paused are columns of their own). */
export function storedDefinition(s: Schedule): StoredScheduleDefinition {
  return { cron: s.cron, timezone: s.timezone, workflow: s.workflow, input: s.input, overlap: s.overlap, catchUp: s.catchUp, catchUpLimit: s.catchUpLimit };
}

/** True when two definitions would behave the same (the input compared as canonical JSON). */
export function sameDefinition(a: StoredScheduleDefinition, b: StoredScheduleDefinition): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
