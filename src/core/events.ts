/** Every kind of event an execution's history holds, in the order they can happen. */
export const HistoryEventType = {
  /** The execution was created; `data.input` is its input, `data.version` its definition version. */
  ExecutionStarted: 'ExecutionStarted',
  /**
   * The execution waits QUEUED for a slot of its workflow's concurrency limits (`data.scopes`);
   * its first step follows when one frees, in arrival order.
   */
  ExecutionQueued: 'ExecutionQueued',
  /** A non-task state was entered (choice, pass, parallel, map, succeed, fail). */
  StateEntered: 'StateEntered',
  /**
   * A worker claimed a step attempt and called its handler; `data.worker` names the process.
   * `data.rerun` ({ previousWorker, reason: 'process-restarted' | 'lease-expired' }) when the same
   * attempt started before on a process that went away without its result committed.
   */
  StepStarted: 'StepStarted',
  /** A handler returned; `data.output` is what it returned. Exactly one per completed step. */
  StepSucceeded: 'StepSucceeded',
  /** A handler threw, timed out or returned something that is not JSON; `data.error` says what. */
  StepFailed: 'StepFailed',
  /** A failed step will run again at `data.dueAt` (attempt is the next attempt's number). */
  RetryScheduled: 'RetryScheduled',
  /** A result arrived from a worker that no longer held the step's lease; it was not applied. */
  StepResultRefused: 'StepResultRefused',
  /** A wait state armed its durable timer, due at `data.dueAt`. */
  TimerStarted: 'TimerStarted',
  /** A wait state's timer fired (never before `data.dueAt`). */
  TimerFired: 'TimerFired',
  /**
   * An event was delivered to the execution and kept in its mailbox: `data.id`, `data.name`,
   * `data.payload` (and `data.correlationKey` for a correlated delivery). Consumed at most once, in order.
   */
  EventReceived: 'EventReceived',
  /** A waitForEvent state took an event from the mailbox: `data.id`, `data.name`, `data.payload`, `data.key` (the step key). */
  EventConsumed: 'EventConsumed',
  /** A FAILED execution was resumed from the state that failed (`data.from`); `data.count` is 1 for the first redrive. */
  ExecutionRedriven: 'ExecutionRedriven',
  /** Cancellation was requested; compensations follow. */
  CancelRequested: 'CancelRequested',
  /**
   * The execution went past its workflow's `budget.maxTransitions` (`data.maxTransitions`):
   * `data.transitions` is its count of state transitions before this event, `data.error` the
   * Stepwise.BudgetExceeded it fails with. Compensations follow.
   */
  BudgetExceeded: 'BudgetExceeded',
  /** A compensation handler was called; `step` names the compensation, `data.for` the step it undoes (`data.rerun` as for StepStarted). */
  CompensationStarted: 'CompensationStarted',
  CompensationSucceeded: 'CompensationSucceeded',
  CompensationFailed: 'CompensationFailed',
  ExecutionSucceeded: 'ExecutionSucceeded',
  ExecutionFailed: 'ExecutionFailed',
  ExecutionCancelled: 'ExecutionCancelled',
} as const;
export type HistoryEventType = (typeof HistoryEventType)[keyof typeof HistoryEventType];

/** One stored history event. `seq` starts at 1 and has no gaps within an execution. */
export interface HistoryEvent {
  seq: number;
  type: HistoryEventType;
  /** Milliseconds since the epoch, from the engine's clock. */
  timestamp: number;
  step?: string;
  attempt?: number;
  data?: Record<string, unknown>;
}

/** An event about to be appended; the store assigns its `seq`. */
export type NewHistoryEvent = Omit<HistoryEvent, 'seq'>;
