/**
 * A draft: one execution's share of a group commit, as data. The draft step computes it without
 * I/O; the commit loop writes `commit` and, once that has landed, applies the rest.
 */
import { StepwiseError } from '../core/errors.js';
import type { ExecutionStatus } from '../core/status.js';
import type { ExecutionTrace } from '../core/trace-context.js';
import type { ExecutionCommit, ExecutionSummary, ParentRef, WorkItem } from '../core/store.js';
import type { Workflow } from '../dsl/workflow.js';
import type { Snapshot } from './decide.js';
import type { AnswerInput, AwaitInput, CancelInput, CreateInput, EventInput, HandedTask, HandoutInput, Input, RedriveInput } from './inputs.js';

/** What the engine holds in memory for an execution while it has work in flight here. */
export interface Live {
  id: string;
  wf: Workflow;
  /** Undefined for an execution whose creating commit has not landed yet. */
  snapshot: Snapshot | undefined;
  lastSeq: number;
  status: ExecutionStatus;
  /** An execution created without its first step (a spawned child): its input, for `begin`. */
  pending?: { input: unknown };
  /** A child execution's parent step, woken by its end. */
  parent?: ParentRef;
  /** Its trace context, when it has one (docs/observability.md, Traces). */
  trace?: ExecutionTrace;
  /** State transitions so far, for a workflow with a budget (src/engine/execution-budget.ts). */
  transitions?: number;
}

/**
 * What the draft step needs besides the execution and its inputs. Read only during the call (no
 * draft keeps it), so the commit loop reuses one per round.
 */
export interface StepEnv {
  now: number;
  /** Handlers this process may still start: concurrency minus running, reserved and committing. */
  freeCapacity: number;
  workerId: string;
  leaseMs: number;
  /** Source of retry jitter. */
  random: () => number;
  /** Shutting down: claims are given back unrun and no task starts inline. */
  stopping: boolean;
  /** The version new executions of a workflow start on (an invoke's child), if registered here. */
  workflowNamed?(name: string): Workflow | undefined;
}

/** A caller waiting on an input, and what it hears once the draft applies. */
export type Settlement =
  /** A start: the new execution, or undefined when the id exists (the caller compares inputs). */
  | { kind: 'created'; input: CreateInput; summary: ExecutionSummary | undefined }
  /** A cancel whose CancelRequested is committed. */
  | { kind: 'cancelled'; input: CancelInput }
  /** A cancel, event or redrive that cannot apply (the execution has ended, or is not FAILED). */
  | { kind: 'refused'; input: CancelInput | EventInput | RedriveInput; error: StepwiseError }
  /** An event whose EventReceived is committed, or one whose id was received before. */
  | { kind: 'event'; input: EventInput; outcome: 'accepted' | 'duplicate' }
  /** A redrive whose ExecutionRedriven is committed; `count` is its number. */
  | { kind: 'redriven'; input: RedriveInput; count: number }
  /** A handout that committed (with the task) or was dropped (undefined). */
  | { kind: 'handed'; input: HandoutInput; task: HandedTask | undefined }
  /** An answer that applied, or not (the step no longer waits for it). */
  | { kind: 'answered'; input: AnswerInput; applied: boolean }
  /** A callback step's wait committed (or dropped): answers held for it may go ahead. */
  | { kind: 'awaited'; input: AwaitInput };

export interface Draft {
  /** The state the draft was computed from. */
  base: Live;
  /** Its inputs, in order: requeued as they are when the commit is refused. */
  inputs: Input[];
  /** The store write; undefined when the inputs only settle (a repeated start, a late result). */
  commit: ExecutionCommit | undefined;
  /** The execution's snapshot once the commit lands. */
  snapshot: Snapshot | undefined;
  /** Rows the commit leases to this worker, with their StepStarted: run once it lands. */
  launches: WorkItem[];
  /** Keys of launches that take capacity (those not already reserved by their claim). */
  reserve: string[];
  /** Keys of claims whose reserved capacity is given back (not run here). */
  release: string[];
  /** Keys of rows this process no longer holds once the commit lands (consumed or dropped). */
  unhold: string[];
  /** Keys of running handlers to abort: the machine left their steps. */
  aborts: string[];
  settle: Settlement[];
  /** Earliest due time of work scheduled for later, for the wake-up timer. */
  wakeAt?: number;
  /** A task could not start here for want of capacity: look for due work again soon. */
  backlog: boolean;
  /** Queues with new work for polls once the commit lands. */
  queued: string[];
  /** The execution's state transitions once the commit lands, for a workflow with a budget. */
  transitions?: number;
}

/** Tells a waiting caller what its input came to. */
export function settle(s: Settlement): void {
  switch (s.kind) {
    case 'created': s.input.done.resolve(s.summary); break;
    case 'cancelled': s.input.done.resolve(); break;
    case 'refused': s.input.done.reject(s.error); break;
    case 'event': s.input.done.resolve(s.outcome); break;
    case 'redriven': s.input.done.resolve(s.count); break;
    case 'handed': s.input.done.resolve(s.task); break;
    case 'answered': s.input.done.resolve(s.applied); break;
    case 'awaited': s.input.settled(); break;
  }
}

/** The summary of an execution as its creating commit wrote it, without reading it back. */
export function summaryOf(c: ExecutionCommit): ExecutionSummary {
  const summary: ExecutionSummary = {
    id: c.executionId, workflow: c.create!.workflow, version: c.create!.version, status: c.status,
    input: c.create!.input, startedAt: c.create!.startedAt,
  };
  if (c.output !== undefined) summary.output = c.output;
  if (c.error) summary.error = c.error;
  if (c.endedAt !== undefined) summary.endedAt = c.endedAt;
  return summary;
}

/** The error a cancel of an ended execution hears. */
export function endedError(id: string): StepwiseError {
  return new StepwiseError('EXECUTION_ENDED', `execution '${id}' has already ended`, { id });
}
