import type { InputSchema } from './input-schema-types.js';
import type { ResolvedRetryPolicy, RetryPolicy } from '../core/retry-policy.js';

/**
 * The runtime shape of a workflow definition: what the builders produce and what validation,
 * compilation and the engine read. Users write it through the builders in builder.ts, which
 * add the types that flow from step to step.
 */

/** What a handler gets besides its input. Everything it needs to be safe under retry. */
export interface StepContext {
  workflow: string;
  executionId: string;
  /** The state name (or the compensation's name). */
  step: string;
  /** 1 for the first try; a retry after a failure gets the next number. A crash re-run keeps it. */
  attempt: number;
  /** Stable across retries and crash re-runs of this step in this execution: pass it to payment APIs. */
  idempotencyKey: string;
  /** Fires on timeout and on cancel; a handler should stop soon after. */
  signal: AbortSignal;
  /** The item's position, for a map iteration. */
  index?: number;
  /** When the step's timeoutMs runs out, in ms since the epoch (an HTTP function sends it on). */
  deadline?: number;
  /** The execution's W3C trace context, when it has one. */
  traceparent?: string;
  /** A logger bound to workflow, executionId, step, attempt and worker, when the server set one up (docs/observability.md). */
  log?: StepLogger;
  /**
   * This attempt's span, when tracing is on (docs/observability.md, Traces): pass `traceparent` on
   * to services you call so that their spans become its children.
   */
  trace?: { traceparent: string; traceId: string; spanId: string };
}

/** The handler's logger: pino's call shape (an object of fields, then a message). */
export interface StepLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export type Handler<In = any, Out = unknown> = (input: In, ctx: StepContext) => Out | Promise<Out>;

/** A compensation undoes a completed step; it gets that step's input and output. */
export interface CompensationOptions<In = any, Out = any> {
  /** Names the compensation in history (e.g. 'refundPayment'); defaults to the handler's function name. */
  name?: string;
  handler: Handler<{ input: In; output: Out }, unknown>;
  /** @default [{ errors: ['*'], maxAttempts: 5 }] */
  retry?: RetryPolicy[];
  timeoutMs?: number;
}

export interface CatchRule {
  /** Error codes to match; '*' matches every error, terminal ones included. */
  errors: string[];
  /** The state to go to, in the same sequence as the failing state. */
  next: string;
  /** Where the error goes in the data; null drops it. @default 'error' */
  resultPath?: string | null;
}

export interface ResolvedCompensation {
  name: string;
  handler: Handler;
  retry: ResolvedRetryPolicy[];
  timeoutMs: number;
}

interface BaseState {
  name: string;
  /** Explicit successor; otherwise the next state declared in the same sequence. */
  next?: string;
  /** Ends the sequence here (the workflow, or the parallel branch). */
  end?: boolean;
}

/** Where a step's result goes: undefined replaces the data, a key merges it in, null discards it. */
export type ResultPath = string | null | undefined;

export interface TaskState extends BaseState {
  type: 'task';
  handler: Handler;
  retry: ResolvedRetryPolicy[];
  catch: CatchRule[];
  compensation?: ResolvedCompensation;
  timeoutMs: number;
  resultPath: ResultPath;
  /**
   * Set on an invoke state (a task whose step is an execution of another workflow): the engine
   * starts a child execution instead of calling `handler` (a placeholder that is never called).
   */
  invoke?: InvokeSpec;
}

/** What an invoke state starts: an execution of `workflow`, with `input(data)` (default: the data). */
export interface InvokeSpec {
  workflow: string;
  input?: (data: any) => unknown;
  /** The step fails with Stepwise.Timeout (and the child is cancelled) if the child has not ended by then. @default no limit */
  timeoutMs?: number;
}

export interface ChoiceRule {
  when: (data: any) => boolean;
  next: string;
  /** Shown on the graph's edge. */
  label?: string;
}

export interface ChoiceState {
  type: 'choice';
  name: string;
  choices: ChoiceRule[];
  default: string;
}

export interface ParallelState extends BaseState {
  type: 'parallel';
  branches: StateDef[][];
  catch: CatchRule[];
  resultPath: ResultPath;
}

export interface MapState extends BaseState {
  type: 'map';
  /** Dotted path to the array in the data, e.g. 'items' or 'order.lines'. */
  itemsPath: string;
  handler: Handler;
  /** How many items run at once. @default 10 */
  concurrency: number;
  retry: ResolvedRetryPolicy[];
  catch: CatchRule[];
  compensation?: ResolvedCompensation;
  timeoutMs: number;
  resultPath: ResultPath;
}

export interface WaitState extends BaseState {
  type: 'wait';
  durationMs?: number | ((data: any) => number);
  until?: (data: any) => Date | string | number;
}

/**
 * Waits for a named event delivered to the execution (or, with `key`, a correlated one). Events
 * that arrive before the state is reached wait in the execution's mailbox, in order. Without
 * `timeoutMs` or `until` it waits for ever; with one, it fails with Stepwise.Timeout.
 */
export interface WaitForEventState extends BaseState {
  type: 'waitForEvent';
  event: string;
  timeoutMs?: number | ((data: any) => number);
  until?: (data: any) => Date | string | number;
  /** The correlation key: a correlated delivery (POST /v1/events) reaches this wait only with this key. */
  key?: (data: any) => string;
  retry: ResolvedRetryPolicy[];
  catch: CatchRule[];
  resultPath: ResultPath;
}

export interface PassState extends BaseState {
  type: 'pass';
  transform?: (data: any) => unknown;
  resultPath: ResultPath;
}

export interface SucceedState {
  type: 'succeed';
  name: string;
  output?: (data: any) => unknown;
}

export interface FailState {
  type: 'fail';
  name: string;
  error: string;
  cause?: string | ((data: any) => string);
  /**
   * false: the failure is held for redrive. No compensation runs and the execution ends FAILED at
   * once; a redrive re-enters the state whose error a catch route brought here (or this state).
   * @default true
   */
  compensate?: boolean;
}

export type StateDef = TaskState | ChoiceState | ParallelState | MapState | WaitState | WaitForEventState | PassState | SucceedState | FailState;
export type StateType = StateDef['type'];

export interface WorkflowDefinition {
  name: string;
  states: StateDef[];
  /** An explicit version; otherwise a hash of the structure. */
  version?: string;
  /** Checked when an execution starts; not part of the version (running executions are past it). */
  input?: InputSchema;
  /** How many executions may run at once (see ConcurrencyOptions). */
  concurrency?: ConcurrencyOptions;
  /** What one execution may spend (see BudgetOptions). */
  budget?: BudgetOptions;
}

/**
 * What one execution may spend. Past `maxTransitions` state transitions (counted as usage counts
 * them, docs/observability.md) the engine fails it with Stepwise.BudgetExceeded, which no catch
 * route takes, and its compensations run. Not part of the version: a changed budget applies to
 * running executions from their next step.
 */
export interface BudgetOptions {
  maxTransitions: number;
}

/**
 * Limits on executions running at once. With `key`, at most `limit` per key (computed from the
 * input at the start); without it, `limit` is the workflow's total. `total` adds a workflow-wide
 * limit to a keyed one. Starts beyond a limit are accepted with status QUEUED and begin in
 * arrival order as slots free.
 */
export interface ConcurrencyOptions {
  key?: (input: any) => string;
  limit?: number;
  total?: number;
}

/** Defaults, documented in docs/dsl.md. */
export const DSL_DEFAULTS = {
  taskTimeoutMs: 300_000,
  mapConcurrency: 10,
  compensationRetry: { errors: ['*'], maxAttempts: 5 } satisfies RetryPolicy,
  catchResultPath: 'error',
} as const;
