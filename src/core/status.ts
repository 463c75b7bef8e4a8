/** The lifecycle of one execution. Terminal statuses never change again. */
export const ExecutionStatus = {
  /**
   * Accepted, waiting for a slot of its workflow's concurrency limit (its key's, or the
   * workflow's total); begins in arrival order as slots free. Not terminal.
   */
  QUEUED: 'QUEUED',
  /** Started and not yet ended: a step, timer, retry or compensation is pending. */
  RUNNING: 'RUNNING',
  /** Reached a succeed state (or the end of the workflow); `output` holds the result. */
  SUCCEEDED: 'SUCCEEDED',
  /** Ended by an uncaught error or a fail state, after its compensations ran; `error` says why. */
  FAILED: 'FAILED',
  /** Cancelled on request, after its compensations ran. */
  CANCELLED: 'CANCELLED',
} as const;
export type ExecutionStatus = (typeof ExecutionStatus)[keyof typeof ExecutionStatus];

export const EXECUTION_STATUSES: readonly ExecutionStatus[] = Object.values(ExecutionStatus);

export function isTerminalStatus(status: ExecutionStatus): boolean {
  return status !== ExecutionStatus.RUNNING && status !== ExecutionStatus.QUEUED;
}
