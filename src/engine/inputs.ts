/**
 * Inputs: everything that can move an execution forward arrives as one of these, queued per
 * execution for the commit loop. Each kind has one producer (the facade, the claimer, the
 * launcher) and one applier in the draft step; a new kind of waiting work adds a kind here.
 */
import type { StepError } from '../core/errors.js';
import type { ExecutionSummary, WorkItem } from '../core/store.js';
import type { Workflow } from '../dsl/workflow.js';

export type HandlerOutcome = { ok: true; output: unknown } | { ok: false; error: StepError };

/**
 * Why a claimed step runs again: the same attempt has a StepStarted in the history and no result,
 * so the process that ran it died or lost its lease before its result was committed.
 */
export interface Rerun {
  /** The worker named by the attempt's last StepStarted (or CompensationStarted). */
  previousWorker: string;
  /**
   * 'process-restarted': an exclusive store (SQLite) voided the leases of the process that ran it.
   * 'lease-expired': on a shared store its lease ran out or was handed back at shutdown.
   */
  reason: 'lease-expired' | 'process-restarted';
}

/** A start from the API. `done` resolves with the new execution, or undefined when the id was taken. */
export interface CreateInput {
  kind: 'create';
  wf: Workflow;
  input: unknown;
  done: Deferred<ExecutionSummary | undefined>;
}

/** A cancel from the API. `done` resolves once CancelRequested is committed. */
export interface CancelInput {
  kind: 'cancel';
  done: Deferred<void>;
}

/**
 * An event delivered to the execution (POST /v1/executions/:id/events/:name). `done` hears
 * 'accepted' once EventReceived is committed, 'duplicate' when an event with this id was already
 * received (nothing changes), or EXECUTION_ENDED.
 */
export interface EventInput {
  kind: 'event';
  id: string;
  name: string;
  payload: unknown;
  /** Set by a correlated delivery: only a wait with this key takes it. */
  correlation?: string;
  done: Deferred<'accepted' | 'duplicate'>;
}

/** A redrive of a FAILED execution. `done` hears the redrive's count once ExecutionRedriven is committed. */
export interface RedriveInput {
  kind: 'redrive';
  done: Deferred<number>;
}

export type Input =
  | CreateInput
  | CancelInput
  | EventInput
  | RedriveInput
  /** A due task or compensation row the claimer leased here; `rerun` when it ran before. */
  | { kind: 'claimed'; work: WorkItem; rerun?: Rerun }
  /** A handler's outcome; `leaseLost` when another worker took the row over meanwhile. */
  | { kind: 'result'; work: WorkItem; outcome: HandlerOutcome; leaseLost?: boolean }
  /** A due timer row the claimer leased here. */
  | { kind: 'timer'; work: WorkItem };

/** Inputs that name a work row this process holds. */
export type WorkInput = Extract<Input, { work: WorkItem }>;

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}
