/**
 * The schedule store port: durable schedule rows, one per schedule. A slot is fired by starting
 * its execution (idempotent, keyed by the slot) and then moving `nextSlotAt` on with
 * `advance`, a compare-and-set on the slot: of two processes racing for one slot, one advances
 * and the other finds the row moved. Every method is one atomic statement or transaction.
 */

/** What a schedule's stored definition holds (the schedule's id and paused state are columns). */
export interface StoredScheduleDefinition {
  cron: string;
  timezone: string;
  workflow: string;
  input: unknown;
  overlap: 'skip' | 'allow' | 'cancelPrevious';
  catchUp: 'none' | 'latest' | 'all';
  catchUpLimit: number;
}

export interface ScheduleRow {
  id: string;
  definition: StoredScheduleDefinition;
  paused: boolean;
  /** The next slot to fire, ms since the epoch; undefined when the cron never fires again. */
  nextSlotAt?: number;
  /** The last slot handled (fired, skipped or failed), and the execution it started. */
  lastSlotAt?: number;
  lastExecutionId?: string;
  /** Why the last slot could not start, when it could not (e.g. the workflow refused the input). */
  lastError?: string;
  /** Slots started, skipped by the overlap policy, missed during downtime, and refused. */
  firedCount: number;
  skippedCount: number;
  missedCount: number;
  failedCount: number;
  createdAt: number;
  updatedAt: number;
}

/** One move of `nextSlotAt`, applied only while the row still holds `fromSlotAt`. */
export interface ScheduleAdvance {
  id: string;
  fromSlotAt: number;
  toSlotAt: number | undefined;
  /** The slot handled and the execution it started (none when it was skipped or failed). */
  lastSlotAt?: number;
  lastExecutionId?: string;
  lastError?: string;
  fired: number;
  skipped: number;
  missed: number;
  failed: number;
  now: number;
}

export interface ScheduleStore {
  /** True when other processes may change the rows too (PostgreSQL): the runner then polls. */
  readonly shared: boolean;
  /** Creates the table if it is missing. Idempotent; safe when several processes call it at once. */
  init(): Promise<void>;
  /** Inserts the row; false (and nothing written) when a schedule with that id exists. */
  insert(row: ScheduleRow): Promise<boolean>;
  /** Replaces an existing row's definition, paused state and next slot; counters stay. False when it is gone. */
  replace(id: string, change: { definition: StoredScheduleDefinition; paused: boolean; nextSlotAt: number | undefined; now: number }): Promise<boolean>;
  get(id: string): Promise<ScheduleRow | undefined>;
  /** Every schedule, by id. */
  list(): Promise<ScheduleRow[]>;
  delete(id: string): Promise<boolean>;
  /** Pauses, or resumes with a new next slot. False when the schedule is gone. */
  setPaused(id: string, paused: boolean, nextSlotAt: number | undefined, now: number): Promise<boolean>;
  /** Unpaused schedules whose next slot is at or before `now`, earliest first, at most `limit`. */
  due(now: number, limit: number): Promise<ScheduleRow[]>;
  /** The earliest next slot of an unpaused schedule, if any. */
  nextSlotAt(): Promise<number | undefined>;
  /** Compare-and-set: true when this call moved the slot, false when another got there first. */
  advance(change: ScheduleAdvance): Promise<boolean>;
}
