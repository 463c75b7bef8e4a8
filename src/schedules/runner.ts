import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { StepwiseError } from '../core/errors.js';
import type { ScheduleRow, ScheduleStore } from '../core/schedule-store.js';
import type { ExecutionSummary } from '../core/store.js';
import { silentTriggerLogger, type TriggerLogger } from '../triggers/trigger-engine.js';
import { cronTimes } from './cron.js';
import { fireDueSlots, type FiringContext } from './fire-slots.js';
import { sameDefinition, schedule, storedDefinition, type Schedule, type ScheduleOptions } from './schedule.js';
import type { ScheduleEngine, ScheduleEvent, ScheduleListener } from './schedule-engine.js';

export interface ScheduleRunnerOptions {
  engine: ScheduleEngine;
  /** From `scheduleStoreFor(store)`. */
  store: ScheduleStore;
  /** Schedules defined in code: created at start, or replaced when their definition changed. */
  schedules?: readonly Schedule[];
  clock?: Clock;
  logger?: TriggerLogger;
  /**
   * On a shared store (PostgreSQL) the longest sleep between looks at the table, so a schedule
   * another process created, resumed or advanced is seen. @default 2000; unused on SQLite, where
   * every change goes through this process.
   */
  pollIntervalMs?: number;
  /** The latest due slot fires under every catchUp policy while it is at most this late. @default 10000 */
  onTimeMs?: number;
}

/** A schedule as the API shows it: the row, with the next fire times computed. */
export interface ScheduleView extends ScheduleRow {
  /** The next fire times after now (none while paused). */
  upcoming: number[];
  /** The status of the execution the schedule started last, when it still exists. */
  lastStatus?: ExecutionSummary['status'];
}

const DUE_BATCH = 64;
const RETRY_MS = 1000;

/**
 * Fires durable schedules next to an engine. One wake-up timer for the earliest next slot of all
 * schedules (plus, on a shared store, a poll every `pollIntervalMs`); each wake fires the due
 * slots through `fireDueSlots`. Every change to schedules goes through this runner (the HTTP
 * routes call it), so the timer is re-armed at once. Start it after the engine; stop it before.
 */
export class ScheduleRunner {
  private readonly engine: ScheduleEngine;
  private readonly store: ScheduleStore;
  private readonly clock: Clock;
  private readonly log: TriggerLogger;
  private readonly pollIntervalMs: number;
  private readonly onTimeMs: number;
  private readonly code: readonly Schedule[];
  private readonly listeners = new Set<ScheduleListener>();
  private state: 'new' | 'started' | 'stopped' = 'new';
  private timer: TimerHandle | undefined;
  private ticking: Promise<void> | undefined;
  private tickAgain = false;
  private retryAt: number | undefined;
  private readonly firing: FiringContext;

  constructor(options: ScheduleRunnerOptions) {
    this.engine = options.engine;
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentTriggerLogger;
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.onTimeMs = options.onTimeMs ?? 10_000;
    this.code = [...(options.schedules ?? [])];
    const seen = new Set<string>();
    for (const s of this.code) {
      if (s?.kind !== 'schedule') throw new StepwiseError('INVALID_DEFINITION', 'ScheduleRunner: every schedule must come from schedule()');
      if (seen.has(s.id)) throw new StepwiseError('INVALID_DEFINITION', `ScheduleRunner: two schedules have the id '${s.id}'`);
      seen.add(s.id);
    }
    this.firing = { engine: this.engine, store: this.store, now: () => this.clock.now(), onTimeMs: this.onTimeMs, emit: (e) => this.emit(e) };
  }

  /** Subscribes to what the runner reports; returns the unsubscribe function. */
  on(listener: ScheduleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Creates the table if needed, upserts the schedules defined in code, and arms the timer. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new StepwiseError('INVALID_DEFINITION', 'ScheduleRunner: start() may be called once');
    await this.store.init();
    for (const s of this.code) this.checkWorkflow(s);
    await this.upsert(this.code);
    this.state = 'started';
    this.wake();
  }

  /** Stops the timer and waits for a wake under way to finish. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** Resolves once no wake is under way and the timer is armed (tests on a virtual clock). */
  async idle(): Promise<void> {
    while (this.ticking) await this.ticking;
  }

  // ---- managing schedules (the HTTP routes and code definitions) ----------------------------

  /**
   * Creates a schedule. The same id with an equal definition returns the existing one
   * (`created: false`); another definition is SCHEDULE_CONFLICT.
   */
  async create(options: ScheduleOptions | Schedule): Promise<{ schedule: ScheduleView; created: boolean }> {
    const s = 'kind' in options && options.kind === 'schedule' ? options : schedule(options);
    this.checkWorkflow(s);
    const now = this.clock.now();
    const definition = storedDefinition(s);
    const inserted = await this.store.insert(newRow(s, now));
    if (!inserted) {
      const existing = await this.store.get(s.id);
      if (existing && sameDefinition(existing.definition, definition)) return { schedule: await this.view(existing), created: false };
      if (existing) throw new StepwiseError('SCHEDULE_CONFLICT', `schedule '${s.id}' exists with another definition; delete it first to change it`, { id: s.id });
      return this.create(s); // deleted in between
    }
    this.rearm();
    return { schedule: await this.view((await this.store.get(s.id))!), created: true };
  }

  /**
   * Makes the stored schedules match these definitions (from code): each is created when
   * missing, and replaced when its definition changed (counters and last run kept, next slot
   * computed afresh). Schedules not listed are left alone.
   */
  async upsert(schedules: readonly Schedule[]): Promise<void> {
    for (const s of schedules) {
      const now = this.clock.now();
      if (await this.store.insert(newRow(s, now))) continue;
      const existing = await this.store.get(s.id);
      if (!existing || sameDefinition(existing.definition, storedDefinition(s))) continue;
      await this.store.replace(s.id, { definition: storedDefinition(s), paused: s.paused, nextSlotAt: cronTimes(s.cron, s.timezone).next(now), now });
      this.log.info({ schedule: s.id }, 'schedule definition replaced');
    }
    this.rearm();
  }

  async get(id: string): Promise<ScheduleView> {
    return this.view(await this.row(id), 5);
  }

  async list(): Promise<ScheduleView[]> {
    return Promise.all((await this.store.list()).map((row) => this.view(row, 1)));
  }

  /** Pauses, or resumes from the next future slot (slots passed while paused are not caught up). */
  async setPaused(id: string, paused: boolean): Promise<ScheduleView> {
    const row = await this.row(id);
    if (row.paused !== paused) {
      const now = this.clock.now();
      const next = paused ? row.nextSlotAt : cronTimes(row.definition.cron, row.definition.timezone).next(now);
      if (!(await this.store.setPaused(id, paused, next, now))) throw notFound(id);
      this.rearm();
    }
    return this.get(id);
  }

  /** Deletes a schedule; the executions it started are left alone. */
  async delete(id: string): Promise<void> {
    if (!(await this.store.delete(id))) throw notFound(id);
    this.rearm();
  }

  // ---- the wake-up loop ----------------------------------------------------------------------

  private rearm(): void {
    if (this.state === 'started' && !this.ticking) this.wake();
    else this.tickAgain = true;
  }

  private wake(): void {
    if (this.state !== 'started') return;
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = this.tick()
      .catch((error) => {
        this.log.error({ err: error }, 'schedule wake failed');
        this.retryAt = this.clock.now() + RETRY_MS;
      })
      .then(() => this.arm())
      .catch((error) => {
        // The store could not say when the next slot is: look again soon rather than never.
        this.log.error({ err: error }, 'arming the schedule timer failed; retrying');
        this.setTimer(this.clock.now() + RETRY_MS);
      })
      .finally(() => {
        this.ticking = undefined;
        if (this.tickAgain) {
          this.tickAgain = false;
          this.wake();
        }
      });
  }

  private async tick(): Promise<void> {
    this.tickAgain = false;
    this.retryAt = undefined;
    for (;;) {
      const due = await this.store.due(this.clock.now(), DUE_BATCH);
      const outcomes = await Promise.all(due.map((row) => this.fire(row)));
      if (outcomes.includes('retry')) this.retryAt = this.clock.now() + RETRY_MS;
      const moved = outcomes.filter((o) => o !== 'retry').length;
      if (due.length < DUE_BATCH || moved === 0 || this.state !== 'started') return;
    }
  }

  private async fire(row: ScheduleRow): Promise<'advanced' | 'lost' | 'retry'> {
    try {
      return await fireDueSlots(row, this.firing);
    } catch (error) {
      this.log.warn({ err: error, schedule: row.id }, 'firing a schedule slot failed; retrying');
      this.emit({ type: 'retrying', schedule: row.id, slotAt: row.nextSlotAt!, error });
      return 'retry';
    }
  }

  private async arm(): Promise<void> {
    if (this.state !== 'started' || this.tickAgain) return;
    const now = this.clock.now();
    let at = await this.store.nextSlotAt();
    if (this.retryAt !== undefined && (at === undefined || this.retryAt < at)) at = Math.max(this.retryAt, now);
    if (this.store.shared) at = Math.min(at ?? Infinity, now + this.pollIntervalMs);
    this.setTimer(at);
  }

  /** The one wake-up timer: replaced by every call; none when `at` is undefined. */
  private setTimer(at: number | undefined): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (at === undefined || this.state !== 'started') return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, Math.max(0, at - this.clock.now()));
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private emit(event: ScheduleEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log.error({ err: error }, 'schedule event listener threw');
      }
    }
  }

  private checkWorkflow(s: Schedule): void {
    const known = this.engine.listWorkflows?.();
    if (known && !known.some((w) => w.name === s.workflow)) {
      throw new StepwiseError('WORKFLOW_NOT_FOUND', `schedule '${s.id}' starts workflow '${s.workflow}', which the engine does not have`, { id: s.id });
    }
  }

  private async row(id: string): Promise<ScheduleRow> {
    const row = await this.store.get(id);
    if (!row) throw notFound(id);
    return row;
  }

  private async view(row: ScheduleRow, count = 5): Promise<ScheduleView> {
    const upcoming = row.paused || row.nextSlotAt === undefined ? [] : [row.nextSlotAt, ...cronTimes(row.definition.cron, row.definition.timezone).upcoming(row.nextSlotAt, count - 1)];
    let lastStatus: ExecutionSummary['status'] | undefined;
    if (row.lastExecutionId) lastStatus = await this.engine.getExecution(row.lastExecutionId).then((e) => e.status, () => undefined);
    return { ...row, upcoming, ...(lastStatus ? { lastStatus } : {}) };
  }
}

function newRow(s: Schedule, now: number): ScheduleRow {
  const next = cronTimes(s.cron, s.timezone).next(now);
  return {
    id: s.id,
    definition: storedDefinition(s),
    paused: s.paused,
    ...(next !== undefined ? { nextSlotAt: next } : {}),
    firedCount: 0,
    skippedCount: 0,
    missedCount: 0,
    failedCount: 0,
    createdAt: now,
    updatedAt: now,
  };
}

function notFound(id: string): StepwiseError {
  return new StepwiseError('SCHEDULE_NOT_FOUND', `no schedule has id '${id.length > 140 ? `${id.slice(0, 140)}…` : id}'`, { id });
}
