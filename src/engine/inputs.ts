/**
 * Inputs: everything that can move an execution forward arrives as one of these, queued per
 * execution for the commit loop. Each kind has one producer (the facade, the claimer, the
 * launcher) and one applier in the draft step; a new kind of waiting work adds a kind here.
 */
import type { StepError } from '../core/errors.js';
import type { ExecutionSummary, WorkItem } from '../core/store.js';
import type { ExecutionTrace } from '../core/trace-context.js';
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
  /** The concurrency scopes it counts against: non-empty, it is created QUEUED and begins when a slot is free. */
  scopes?: Array<{ scope: string; limit: number }>;
  /** Its trace context, kept with it when the create lands. */
  trace?: ExecutionTrace;
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
  /** A limited workflow's scopes, from the execution's input: the redrive waits QUEUED in them. */
  scopes?: Array<{ scope: string; limit: number }>;
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
  | { kind: 'timer'; work: WorkItem }
  | HandoutInput
  | AnswerInput
  /** A due 'outside' row the claimer leased here: the worker or callback did not answer in time. */
  | { kind: 'expired'; work: WorkItem }
  /** A callback step's function returned: its task row becomes an 'outside' row waiting for the token. */
  | AwaitInput
  /** A spawned execution's `start` row, claimed here: its first step is taken now. */
  | { kind: 'begin'; work: WorkItem }
  /** A `stop` row (a parent left the invoke step that started this child), claimed here: cancel. */
  | { kind: 'stop'; work: WorkItem }
  /**
   * A parent's `child` row came due, claimed here, with what the child came to: its end, or
   * `timedOut` when the row's timeout came first (the child still runs and is stopped).
   */
  | { kind: 'child'; work: WorkItem; childId: string; outcome: HandlerOutcome; timedOut: boolean }
  /**
   * An 'event' row (a correlated event delivered to the execution), claimed here, with the kept
   * event it names; `event` undefined when it is no longer kept (the row is consumed, nothing else).
   */
  | DeliveryInput;

export interface DeliveryInput {
  kind: 'delivery';
  work: WorkItem;
  event: { id: string; name: string; key: string; payload: unknown } | undefined;
}

export interface AwaitInput { kind: 'await'; work: WorkItem; tokenHash: string; deadline: number; settled(): void }

/**
 * A poll took a 'queued' row (leased here): once committed, the attempt is handed to `workerId`
 * under the token whose hash is given. `done` hears the task to answer the poll with, or undefined.
 */
export interface HandoutInput {
  kind: 'handout';
  work: WorkItem;
  workerId: string;
  tokenHash: string;
  done: Deferred<HandedTask | undefined>;
}

/** What a poll answers with, but the token (which only the door knows). */
export interface HandedTask {
  input: unknown;
  context: Record<string, unknown>;
}

/**
 * An answer to a task token, whose 'outside' row the door leased here: an outcome, or `requeue`
 * (the poll that took the task went away before hearing of it). `done` hears whether it applied.
 */
export interface AnswerInput {
  kind: 'answer';
  work: WorkItem;
  outcome: HandlerOutcome | 'requeue';
  done: Deferred<boolean>;
}

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

/**
 * Tells whoever waits on an input that it will not be applied here (the engine stops, the
 * execution is gone, or its definition version is not registered in this process): starts,
 * cancels, events and redrives hear `error`; a poll's handout answers "nothing" (the task stays
 * queued); an answer reports "not applied"; a callback's await lets held answers go on.
 */
export function settleUnapplied(input: Input, error: unknown): void {
  switch (input.kind) {
    case 'create':
    case 'cancel':
    case 'event':
    case 'redrive':
      input.done.reject(error);
      break;
    case 'handout':
      input.done.resolve(undefined);
      break;
    case 'answer':
      input.done.resolve(false);
      break;
    case 'await':
      input.settled();
      break;
    default:
      break; // work the claimer or launcher made: its row stays in the store for a later claim
  }
}
