import { StepwiseError } from '../core/errors.js';
import type { ScheduleRow, ScheduleStore } from '../core/schedule-store.js';
import { ExecutionStatus } from '../core/status.js';
import type { ExecutionSummary } from '../core/store.js';
import { cronTimes } from './cron.js';
import type { ScheduleEngine, ScheduleEvent } from './schedule-engine.js';
import { planSlots } from './slot-plan.js';

/** Refusals a retry cannot fix: the slot is counted as failed and passed over. */
const PERMANENT = new Set(['VALIDATION_FAILED', 'INPUT_TOO_DEEP', 'EXECUTION_CONFLICT', 'WORKFLOW_NOT_FOUND', 'INVALID_DEFINITION']);

/** `<schedule id>@<slot time in ISO 8601>`: the same slot always maps to the same execution. */
export function slotExecutionId(scheduleId: string, slotAt: number): string {
  return `${scheduleId}@${new Date(slotAt).toISOString()}`;
}

export interface FiringContext {
  engine: ScheduleEngine;
  store: ScheduleStore;
  now(): number;
  /** How late the latest due slot may be and still count as on time rather than missed. */
  onTimeMs: number;
  emit(event: ScheduleEvent): void;
}

/** 'advanced': this process moved the row on; 'lost': another did first; 'retry': a passing failure, try again soon. */
export type FiringOutcome = 'advanced' | 'lost' | 'retry';

/**
 * Handles one due schedule row: plans its due slots (catch-up policy), starts each slot's
 * execution with the slot's deterministic id (overlap policy), then moves the row's next slot on
 * with a compare-and-set on the slot it read. Two processes racing start the same ids, which the
 * engine creates once, and only one moves the row. A crash after a start and before the move
 * only repeats the start, which finds the execution and creates nothing. Events are reported
 * only by the process whose move landed.
 */
export async function fireDueSlots(row: ScheduleRow, ctx: FiringContext): Promise<FiringOutcome> {
  const def = row.definition;
  const from = row.nextSlotAt!;
  const plan = planSlots(cronTimes(def.cron, def.timezone), from, ctx.now(), { ...def, onTimeMs: ctx.onTimeMs });
  const events: ScheduleEvent[] = plan.missed > 0 ? [{ type: 'missed', schedule: row.id, count: plan.missed }] : [];
  const done = { fired: 0, skipped: 0, failed: 0 };
  let lastSlotAt = row.lastSlotAt;
  let lastExecutionId = row.lastExecutionId;
  let lastError: string | undefined;

  for (const slotAt of plan.fire) {
    const id = slotExecutionId(row.id, slotAt);
    try {
      const existing = await find(ctx.engine, id);
      if (existing) {
        // Started before a crash (or by a racing process): record it, start nothing.
        events.push({ type: 'fired', schedule: row.id, slotAt, executionId: id, created: false });
      } else {
        const previous = def.overlap !== 'allow' && lastExecutionId ? await find(ctx.engine, lastExecutionId) : undefined;
        if (previous?.status === ExecutionStatus.RUNNING) {
          if (def.overlap === 'skip') {
            done.skipped++;
            lastSlotAt = slotAt;
            events.push({ type: 'skipped', schedule: row.id, slotAt, runningId: previous.id });
            continue;
          }
          await cancelQuietly(ctx.engine, previous.id);
          events.push({ type: 'cancelled-previous', schedule: row.id, slotAt, cancelledId: previous.id });
        }
        const { created } = await ctx.engine.startExecution(def.workflow, def.input, { id });
        events.push({ type: 'fired', schedule: row.id, slotAt, executionId: id, created });
      }
      done.fired++;
      lastSlotAt = slotAt;
      lastExecutionId = id;
      lastError = undefined;
    } catch (error) {
      if (error instanceof StepwiseError && PERMANENT.has(error.code)) {
        done.failed++;
        lastSlotAt = slotAt;
        lastError = `${error.code}: ${error.message}`.slice(0, 500);
        events.push({ type: 'failed', schedule: row.id, slotAt, code: error.code, message: error.message });
        continue;
      }
      ctx.emit({ type: 'retrying', schedule: row.id, slotAt, error });
      // Keep what was done: move the row on to the slot that failed, which stays due.
      const progressed = slotAt !== from && (await advance(ctx, row, from, slotAt, { lastSlotAt, lastExecutionId, lastError }, done, plan.missed));
      if (progressed) for (const event of events) ctx.emit(event);
      return 'retry';
    }
  }
  if (!(await advance(ctx, row, from, plan.next, { lastSlotAt, lastExecutionId, lastError }, done, plan.missed))) {
    ctx.emit({ type: 'lost-race', schedule: row.id, slotAt: from });
    return 'lost';
  }
  for (const event of events) ctx.emit(event);
  return 'advanced';
}

function advance(
  ctx: FiringContext,
  row: ScheduleRow,
  from: number,
  to: number | undefined,
  last: { lastSlotAt?: number; lastExecutionId?: string; lastError?: string },
  done: { fired: number; skipped: number; failed: number },
  missed: number,
): Promise<boolean> {
  return ctx.store.advance({
    id: row.id,
    fromSlotAt: from,
    toSlotAt: to,
    ...(last.lastSlotAt !== undefined ? { lastSlotAt: last.lastSlotAt } : {}),
    ...(last.lastExecutionId !== undefined ? { lastExecutionId: last.lastExecutionId } : {}),
    ...(last.lastError !== undefined ? { lastError: last.lastError } : {}),
    ...done,
    missed,
    now: ctx.now(),
  });
}

async function find(engine: ScheduleEngine, id: string): Promise<ExecutionSummary | undefined> {
  try {
    return await engine.getExecution(id);
  } catch (error) {
    if (error instanceof StepwiseError && error.code === 'EXECUTION_NOT_FOUND') return undefined;
    throw error;
  }
}

async function cancelQuietly(engine: ScheduleEngine, id: string): Promise<void> {
  try {
    await engine.cancel(id);
  } catch (error) {
    // It ended between the look and the cancel: nothing left to cancel.
    if (error instanceof StepwiseError && (error.code === 'EXECUTION_ENDED' || error.code === 'EXECUTION_NOT_FOUND')) return;
    throw error;
  }
}
