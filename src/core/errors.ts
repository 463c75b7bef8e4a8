/**
 * The error catalog. Every error Stepwise raises carries a stable `code`; the HTTP API maps the
 * code to a status. docs/errors.md lists the same table, and test/errors-catalog.test.ts fails
 * when the two disagree.
 */
export const ErrorCodes = {
  INVALID_DEFINITION: { status: 400, summary: 'A workflow definition is invalid (names the state).' },
  VALIDATION_FAILED: { status: 400, summary: "A request body, parameter or query failed its schema, or an input its workflow's input schema." },
  MALFORMED_JSON: { status: 400, summary: 'The request body is not valid JSON.' },
  INPUT_TOO_DEEP: { status: 400, summary: 'A JSON value is nested deeper than allowed.' },
  UNAUTHORIZED: { status: 401, summary: 'A token is configured and the request lacks it.' },
  INVALID_CRON: { status: 400, summary: "A schedule's cron expression is not valid, or never fires." },
  UNKNOWN_TIME_ZONE: { status: 400, summary: 'A schedule names a time zone this runtime does not know.' },
  SIGNATURE_INVALID: { status: 401, summary: "A webhook delivery's signature is missing, malformed, out of date or wrong." },
  WORKFLOW_NOT_FOUND: { status: 404, summary: 'No workflow is registered under that name.' },
  EXECUTION_NOT_FOUND: { status: 404, summary: 'No execution has that id.' },
  ROUTE_NOT_FOUND: { status: 404, summary: 'No route matches the method and path.' },
  HOOK_NOT_FOUND: { status: 404, summary: 'No webhook is registered under that name.' },
  SCHEDULE_NOT_FOUND: { status: 404, summary: 'No schedule has that id.' },
  QUEUE_NOT_FOUND: { status: 404, summary: 'No registered workflow has a step bound to that worker queue.' },
  EXECUTION_CONFLICT: { status: 409, summary: 'An execution with that id exists with another input or workflow.' },
  EXECUTION_ENDED: { status: 409, summary: 'The execution has already ended.' },
  EXECUTION_NOT_FAILED: { status: 409, summary: 'Only a FAILED execution can be redriven; this one is running, queued, succeeded or cancelled.' },
  EXECUTION_COMPENSATED: { status: 409, summary: "The failed execution's compensations already ran, so it cannot be redriven; start a new one." },
  EXECUTION_OVER_BUDGET: { status: 409, summary: 'The execution failed with Stepwise.BudgetExceeded: its budget is spent, so a redrive would be over it again at once; start a new one.' },
  EXECUTION_NOT_STARTED: { status: 409, summary: 'The execution is QUEUED behind its concurrency limit (a start, or a redrive) and has not started; send the event or cancel once it runs.' },
  REDRIVE_NOT_SUPPORTED: { status: 409, summary: 'The workflow has a concurrency limit and this process lacks the execution\'s version, so it cannot tell which queues the redrive waits in; redrive it where that version is registered.' },
  SCHEDULE_CONFLICT: { status: 409, summary: 'A schedule with that id exists with another definition.' },
  TASK_NOT_CURRENT: { status: 409, summary: 'The task token is no longer current: the step was retried, cancelled or timed out, or the task was already answered.' },
  PAYLOAD_TOO_LARGE: { status: 413, summary: 'The request body is over the size limit.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: 'The request body is not application/json.' },
  WAIT_TIMEOUT: { status: 408, summary: 'The execution did not end within the time the caller waited.' },
  RATE_LIMITED: { status: 429, summary: 'Too many starts from this client; retry later.' },
  BUDGET_EXCEEDED: { status: 429, summary: "The workflow has used its daily budget of state transitions; new starts resume at 00:00 UTC." },
  STORE_UNAVAILABLE: { status: 503, summary: 'The store is busy, locked or out of space; retry later.' },
  STORE_LOCKED: { status: 503, summary: 'The SQLite file is open in another Stepwise process; one process owns it at a time.' },
  STORE_SYNC_FAILED: { status: 503, summary: 'The SQLite write-ahead log could not be synced to disk; restart the process (it recovers from what is on disk).' },
  ENGINE_STOPPING: { status: 503, summary: 'The engine is shutting down and takes no new work.' },
  INTERNAL: { status: 500, summary: 'A bug in Stepwise; the log has the details.' },
} as const;
export type ErrorCode = keyof typeof ErrorCodes;

/**
 * Brands recognised across copies of the package: a user's module loaded through a TypeScript
 * loader may import Stepwise's sources while the server runs the compiled package, and an error
 * thrown by one copy must still be recognised by the other (a prototype check would fail).
 */
const STEPWISE_ERROR = Symbol.for('stepwise.StepwiseError');
const TERMINAL_ERROR = Symbol.for('stepwise.TerminalError');

function branded(value: unknown, brand: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/** The one error class Stepwise throws; `code` is stable, `message` is for people. */
export class StepwiseError extends Error {
  /** `x instanceof StepwiseError` holds for a StepwiseError of any copy of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== StepwiseError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return branded(value, STEPWISE_ERROR);
  }
  override readonly name = 'StepwiseError';
  readonly [STEPWISE_ERROR] = true;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
  get status(): number {
    return ErrorCodes[this.code].status;
  }
}

/** Thrown when a workflow definition is invalid; `state` names the offending state when there is one. */
export class DefinitionError extends StepwiseError {
  constructor(
    message: string,
    readonly state?: string,
  ) {
    super('INVALID_DEFINITION', message, state ? { state } : undefined);
  }
}

/**
 * Thrown by a handler to fail its step for good: no retry policy applies (a catch route still
 * does, and compensations run). `code` is what retry and catch rules match, e.g. 'PaymentDeclined'.
 */
export class TerminalError extends Error {
  /** `x instanceof TerminalError` holds for a TerminalError of any copy of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== TerminalError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return branded(value, TERMINAL_ERROR);
  }
  override readonly name = 'TerminalError';
  readonly [TERMINAL_ERROR] = true;
  constructor(
    readonly code: string,
    message?: string,
  ) {
    super(message ?? code);
  }
}

/** A step failure as it is stored in history and matched by retry and catch rules. */
export interface StepError {
  code: string;
  message: string;
  /** True when no retry may apply (TerminalError, or an engine-detected misbehaviour marked so). */
  terminal?: boolean;
  /**
   * The earliest the next attempt may start, in ms after the failure (an HTTP function's
   * Retry-After). The retry delay is the larger of this and the policy's backoff.
   */
  retryAfterMs?: number;
}

/** Error codes the engine itself assigns to step failures. */
export const StepErrorCodes = {
  /** The handler ran past its `timeoutMs`. */
  Timeout: 'Stepwise.Timeout',
  /** The execution was cancelled while the handler ran. */
  Cancelled: 'Stepwise.Cancelled',
  /** An invoke state could not start its child: its workflow is not registered, or its input function threw or returned non-JSON. */
  ChildNotStarted: 'Stepwise.ChildNotStarted',
  /** The handler threw something that is not an Error (a string, null, ...). */
  NonErrorThrown: 'Stepwise.NonErrorThrown',
  /** The handler returned a value JSON cannot hold (BigInt, a cycle, a function, ...). */
  OutputNotJson: 'Stepwise.OutputNotJson',
  /** The handler's output is over the engine's `maxOutputBytes`. */
  OutputTooLarge: 'Stepwise.OutputTooLarge',
  /** No handler is registered for the step (a definition version the process does not know). */
  HandlerMissing: 'Stepwise.HandlerMissing',
  /** An HTTP function answered 5xx without a documented error body (retryable). */
  HttpServerError: 'Stepwise.HttpServerError',
  /** An HTTP function answered 429 without a documented error body (retryable, Retry-After honoured). */
  HttpRateLimited: 'Stepwise.HttpRateLimited',
  /** An HTTP function answered another 4xx without a documented error body (terminal). */
  HttpClientError: 'Stepwise.HttpClientError',
  /** An HTTP function could not be reached, or the connection broke before the answer ended (retryable). */
  HttpConnectionFailed: 'Stepwise.HttpConnectionFailed',
  /** An HTTP function answered 2xx with a body that is not JSON, or a status Stepwise does not follow (1xx, 3xx). */
  HttpBadResponse: 'Stepwise.HttpBadResponse',
  /** A polling worker was stopped before its handler finished; the task was handed back as failed. */
  WorkerStopped: 'Stepwise.WorkerStopped',
  /** A worker task declared `heartbeatMs` and no heartbeat (or answer) came in time (retryable). */
  HeartbeatTimeout: 'Stepwise.HeartbeatTimeout',
  /** A map state's `itemsPath` does not hold an array. */
  MapItemsNotArray: 'Stepwise.MapItemsNotArray',
  /** A definition function (choice rule, transform, wait, output, cause) threw. */
  ExpressionFailed: 'Stepwise.ExpressionFailed',
  /** Too many states were entered in a row without a task, map item or real wait; no catch route takes it. */
  EndlessLoop: 'Stepwise.EndlessLoop',
  /** The execution made more state transitions than its workflow's `budget.maxTransitions`; no catch route takes it, its compensations run. */
  BudgetExceeded: 'Stepwise.BudgetExceeded',
  /** The execution failed without a recorded error (a bug in Stepwise; never expected). */
  Unknown: 'Stepwise.Unknown',
} as const;

const MAX_MESSAGE = 2000;

/**
 * Turns anything a handler threw into stored error data. The code is, in order: a TerminalError's
 * code, a string `code` property (Node's 'ECONNRESET', ...), the error's `name`. A retryable Error
 * with a finite, non-negative `retryAfterMs` property keeps it (see StepError.retryAfterMs).
 */
export function normaliseError(thrown: unknown): StepError {
  if (thrown instanceof TerminalError) {
    return { code: thrown.code, message: clip(thrown.message), terminal: true };
  }
  if (thrown instanceof Error) {
    const code = (thrown as { code?: unknown }).code;
    const name = typeof code === 'string' && code.length > 0 ? code : thrown.name || 'Error';
    const error: StepError = { code: clip(name, 200), message: clip(String(thrown.message ?? '')) };
    const retryAfterMs = (thrown as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) error.retryAfterMs = Math.ceil(retryAfterMs);
    return error;
  }
  let shown: string;
  try {
    shown = typeof thrown === 'string' ? thrown : JSON.stringify(thrown) ?? String(thrown);
  } catch {
    shown = Object.prototype.toString.call(thrown);
  }
  return { code: StepErrorCodes.NonErrorThrown, message: clip(`handler threw a non-Error: ${shown}`) };
}

function clip(text: string, max = MAX_MESSAGE): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A storage fault that wrote nothing (busy, locked, disk full, connection lost): the same write may be tried again. */
export function isStoreUnavailable(error: unknown): boolean {
  return error instanceof StepwiseError && error.code === 'STORE_UNAVAILABLE';
}
