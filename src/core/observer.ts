/**
 * What the engine tells an observer (metrics, logs, traces, usage alerts) as it works: a port of
 * plain callbacks, types only, so the engine never imports an observability library. Every
 * callback is optional and must be cheap and must not throw: it runs on the commit path.
 * Implementations live in src/observability.
 */
import type { HistoryEvent, NewHistoryEvent } from './events.js';
import type { WorkKind } from './store.js';
import type { ExecutionTrace, TraceParent } from './trace-context.js';

/** One step attempt as a handler is about to run it. */
export interface StepAttemptInfo {
  workflow: string;
  executionId: string;
  /** The state name (or the compensation's name). */
  step: string;
  attempt: number;
  kind: WorkKind;
  worker: string;
  /** The execution's trace context, when it has one. */
  trace?: ExecutionTrace;
}

/** How a step attempt ended, as its handler reported it (before its commit). */
export interface StepAttemptEnd {
  ok: boolean;
  /** The error code when not ok (Stepwise.Timeout, a handler's own code, ...). */
  errorCode?: string;
}

/** What an observer attaches to one running attempt. */
export interface StepAttemptScope {
  /** Extra fields merged into the handler's context (`ctx.log`, `ctx.trace`). */
  context?: Record<string, unknown>;
  /** Called once when the handler settles. */
  end(result: StepAttemptEnd): void;
}

export interface EngineObserver {
  /** A group commit landed: how many executions and events it wrote, and how long the write took. */
  commitDone?(info: { executions: number; events: number; durationMs: number }): void;
  /** A group commit failed with a storage error (`code`: STORE_UNAVAILABLE, ...). */
  storeError?(code: string): void;
  /**
   * One execution's commit landed with these events: execution started or ended, retry
   * scheduled, timer armed, compensation ran, ... are all read from them.
   */
  committed?(info: {
    workflow: string; executionId: string; events: readonly (NewHistoryEvent | HistoryEvent)[]; trace?: ExecutionTrace;
    /** The history sequence number of `events[0]` (the rest follow it without a gap), when known. */
    firstSeq?: number;
  }): void;
  /**
   * An execution is being started: the trace context to keep with it (its execution span's ids,
   * made up front so that whichever process ends it can export that span), or undefined for none.
   * `parent` is the start request's `traceparent`.
   */
  executionTrace?(info: { workflow: string; executionId: string; startedAt: number; parent?: TraceParent }): ExecutionTrace | undefined;
  /** A handler is about to run (its StepStarted or CompensationStarted is committed). */
  stepAttemptStarted?(info: StepAttemptInfo): StepAttemptScope | undefined;
}
