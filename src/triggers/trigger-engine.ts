import type { ExecutionStatus } from '../core/status.js';
import type { ExecutionSummary } from '../core/store.js';

/**
 * What triggers need from the engine, and nothing more. The real `Engine` satisfies it
 * structurally, so the engine can change shape without touching src/triggers.
 *
 * - `startExecution` with an id is idempotent: the same id and an equal input return the existing
 *   execution with `created: false`; another input is EXECUTION_CONFLICT; an input the engine
 *   refuses throws a StepwiseError (VALIDATION_FAILED, INPUT_TOO_DEEP). It resolves only once the
 *   start is committed, which is what lets a trigger acknowledge a message afterwards.
 * - `waitForEnd` resolves once the execution has ended, or throws WAIT_TIMEOUT.
 * - `listExecutions` is used once per trigger at start-up, to find the executions it started
 *   before a restart that are still running (back-pressure and the outbound event count them).
 */
export interface TriggerEngine {
  startExecution(workflow: string, input: unknown, options: { id: string }): Promise<{ execution: ExecutionSummary; created: boolean }>;
  waitForEnd(id: string, timeoutMs?: number): Promise<ExecutionSummary>;
  listExecutions(query: { workflow?: string; status?: ExecutionStatus; limit?: number; cursor?: string }): Promise<{
    items: ExecutionSummary[];
    nextCursor?: string;
  }>;
  /** When present, the runner checks at start that every trigger's workflow is registered. */
  listWorkflows?(): Array<{ name: string }>;
}

/** The subset of a logger triggers write to (the engine's Logger and pino both fit). */
export interface TriggerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentTriggerLogger: TriggerLogger = {
  info() {},
  warn: (o, m) => console.warn(m ?? '', o),
  error: (o, m) => console.error(m ?? '', o),
};
