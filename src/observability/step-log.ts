/**
 * Structured logs for handlers: each attempt's `ctx.log` is a child of the server's pino logger
 * bound to workflow, executionId, step, attempt and worker. The child is made on the first line a
 * handler writes, so attempts that log nothing cost one small object.
 */
import type { EngineObserver, StepAttemptInfo, StepAttemptScope } from '../core/observer.js';
import type { StepLogger } from '../dsl/definition.js';

/** The part of a pino logger used here. */
export interface ChildLogger extends StepLogger {
  child(bindings: Record<string, unknown>): ChildLogger;
}

class AttemptLogger implements StepLogger {
  private bound: StepLogger | undefined;
  constructor(private readonly base: () => ChildLogger | undefined, private readonly attempt: StepAttemptInfo) {}
  private get log(): StepLogger {
    const { workflow, executionId, step, attempt, worker } = this.attempt;
    return (this.bound ??= this.base()?.child({ workflow, executionId, step, attempt, worker }) ?? SILENT);
  }
  info(obj: object, msg?: string): void { this.log.info(obj, msg); }
  warn(obj: object, msg?: string): void { this.log.warn(obj, msg); }
  error(obj: object, msg?: string): void { this.log.error(obj, msg); }
  debug(obj: object, msg?: string): void { this.log.debug(obj, msg); }
}

const NOTHING = () => undefined;
const SILENT: StepLogger = { info: NOTHING, warn: NOTHING, error: NOTHING, debug: NOTHING };

/** Gives every handler a `ctx.log` bound to its attempt; `base` is read when a handler first logs. */
export function stepLogObserver(base: () => ChildLogger | undefined): EngineObserver {
  return {
    stepAttemptStarted: (info): StepAttemptScope => ({ context: { log: new AttemptLogger(base, info) }, end: NOTHING }),
  };
}
