/**
 * Step handlers whose work is finished outside the engine (docs/handlers.md): `worker(queue)`
 * binds a task to a named queue that polling workers take it from; `callback(fn)` runs `fn` here
 * with `ctx.taskToken` and then waits, durably, for an outside system to answer with that token.
 */
import { DefinitionError, StepErrorCodes, TerminalError } from '../core/errors.js';
import type { Handler, StepContext } from '../dsl/definition.js';

export interface WorkerOptions {
  /** A task with no heartbeat for this long fails with Stepwise.HeartbeatTimeout (retryable). */
  heartbeatMs?: number;
}

/** A handler bound to a queue: the engine never calls it, polling workers do the work. */
export type WorkerBinding = Handler & { readonly kind: 'worker'; readonly queue: string; readonly heartbeatMs?: number };

/** What a callback step's function gets: a step context with the task token to hand out. */
export type CallbackContext = StepContext & { taskToken: string };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as for task handlers: plain JS reads fields of the input
export type CallbackHandler<In = any> = Handler<In, never> & {
  readonly kind: 'callback';
  readonly start: (input: In, ctx: CallbackContext) => unknown;
};

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

export function worker(queue: string, options: WorkerOptions = {}): WorkerBinding {
  if (typeof queue !== 'string' || !QUEUE_NAME.test(queue)) {
    throw new DefinitionError(`worker(): queue name '${String(queue)}' must be 1-80 letters, digits, '.', '_' or '-'`);
  }
  const { heartbeatMs } = options;
  if (heartbeatMs !== undefined && (!Number.isInteger(heartbeatMs) || heartbeatMs < 100)) {
    throw new DefinitionError(`worker('${queue}'): heartbeatMs must be an integer of at least 100`);
  }
  const binding = () => {
    throw new TerminalError(StepErrorCodes.HandlerMissing, `the step is bound to worker queue '${queue}' and runs in a polling worker`);
  };
  return Object.assign(binding, { kind: 'worker' as const, queue, where: `queue:${queue}`, ...(heartbeatMs !== undefined ? { heartbeatMs } : {}) });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
export function callback<In = any>(start: (input: In, ctx: CallbackContext) => unknown): CallbackHandler<In> {
  if (typeof start !== 'function') throw new DefinitionError('callback(): expects a function that hands ctx.taskToken to the outside system');
  const handler = () => {
    throw new TerminalError(StepErrorCodes.HandlerMissing, 'a callback step is started by the engine, with a task token');
  };
  return Object.assign(handler, { kind: 'callback' as const, start });
}

export function workerBinding(handler: unknown): WorkerBinding | undefined {
  return typeof handler === 'function' && (handler as { kind?: unknown }).kind === 'worker' ? (handler as WorkerBinding) : undefined;
}

export function callbackHandler(handler: unknown): CallbackHandler | undefined {
  return typeof handler === 'function' && (handler as { kind?: unknown }).kind === 'callback' ? (handler as CallbackHandler) : undefined;
}
