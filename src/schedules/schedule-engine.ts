import type { ExecutionSummary } from '../core/store.js';

/**
 * What schedules need from the engine, and nothing more; the real `Engine` satisfies it
 * structurally.
 *
 * - `startExecution` with an id is idempotent: the same id and an equal input return the existing
 *   execution with `created: false`. It resolves once the start is committed, which is what lets
 *   the runner move the schedule's next slot on afterwards.
 * - `getExecution` tells whether a slot's execution exists (a start that a crash kept from being
 *   recorded) and whether the previous slot's execution still runs (the overlap policy);
 *   it throws EXECUTION_NOT_FOUND for an unknown id.
 * - `cancel` serves the `cancelPrevious` overlap policy.
 */
export interface ScheduleEngine {
  startExecution(workflow: string, input: unknown, options: { id: string }): Promise<{ execution: ExecutionSummary; created: boolean }>;
  getExecution(id: string): Promise<ExecutionSummary>;
  cancel(id: string): Promise<ExecutionSummary>;
  /** When present, schedules naming a workflow the engine does not have are refused. */
  listWorkflows?(): Array<{ name: string }>;
}

/** What the schedule runner reports to its listeners (logs, metrics, tests); listeners must not throw. */
export type ScheduleEvent =
  /** A slot's execution was started (`created: false` when an earlier attempt had started it). */
  | { type: 'fired'; schedule: string; slotAt: number; executionId: string; created: boolean }
  /** A slot was skipped because the previous execution still ran (overlap 'skip'). */
  | { type: 'skipped'; schedule: string; slotAt: number; runningId: string }
  /** Slots passed while no process ran the schedule and, by its catchUp policy, will not fire. */
  | { type: 'missed'; schedule: string; count: number }
  /** The previous execution was cancelled before a slot started (overlap 'cancelPrevious'). */
  | { type: 'cancelled-previous'; schedule: string; slotAt: number; cancelledId: string }
  /** A slot's start was refused for good (the workflow refused the input, or is unknown); it is counted and passed over. */
  | { type: 'failed'; schedule: string; slotAt: number; code: string; message: string }
  /** A start failed for a passing reason (store busy, engine stopping); the slot is tried again. */
  | { type: 'retrying'; schedule: string; slotAt: number; error: unknown }
  /** Another process handled the slot first (its compare-and-set won). */
  | { type: 'lost-race'; schedule: string; slotAt: number };

export type ScheduleListener = (event: ScheduleEvent) => void;
