import { normaliseError, StepErrorCodes } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { toJson } from '../core/json.js';
import type { Handler, StepContext } from '../dsl/definition.js';
import type { HandlerOutcome } from './inputs.js';

export interface RunOptions {
  handler: Handler;
  input: unknown;
  /** What the handler's second argument carries, but its AbortSignal (added here). */
  stepContext: Omit<StepContext, 'signal'>;
  timeoutMs: number;
  maxOutputBytes: number;
  clock: Clock;
  /** Aborted by the engine on cancel, lease loss or shutdown. */
  abort: StepAbort;
}

/**
 * A handler run's abort switch. Most handlers never read `ctx.signal`, and an AbortController
 * with its signal and listener cost about a tenth of a no-op step's CPU (measured), so the
 * controller is made only when the handler reads the signal; an abort before then is replayed
 * onto it, so the handler sees the same signal either way.
 */
export class StepAbort {
  private controller: AbortController | undefined;
  private reason: unknown;
  private listener: (() => void) | undefined;
  private aborted = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    this.listener?.();
  }

  /** The runner's own hook: called once, on abort. */
  onAbort(listener: () => void): void {
    this.listener = listener;
  }
}

/**
 * Calls a handler once and settles exactly once, by calling `done` (never synchronously): with
 * its JSON-checked output, its normalised error, or Stepwise.Timeout when `timeoutMs` passes first
 * (whatever it does afterwards is ignored). The input is a private copy, so a handler cannot
 * corrupt the execution's state. A callback rather than a promise of its own: one promise and
 * one microtask hop less per step (measured, docs/performance.md).
 */
export function runHandler(opts: RunOptions, done: (outcome: HandlerOutcome) => void): void {
  let settled = false;
  const { abort, clock } = opts;
  const settle = (outcome: HandlerOutcome) => {
    if (settled) return;
    settled = true;
    clock.clearTimeout(timer);
    done(outcome);
  };
  const timer = clock.setTimeout(() => {
    settle({ ok: false, error: { code: StepErrorCodes.Timeout, message: `step '${opts.stepContext.step}' timed out after ${opts.timeoutMs} ms` } });
    abort.abort(new Error(`timed out after ${opts.timeoutMs} ms`));
  }, opts.timeoutMs);
  abort.onAbort(() => {
    settle({ ok: false, error: { code: StepErrorCodes.Cancelled, message: `step '${opts.stepContext.step}' was aborted`, terminal: true } });
  });
  let result: unknown;
  try {
    // `signal` is a getter, own and enumerable, so a handler that spreads ctx still gets it.
    result = opts.handler(copy(opts.input), { ...opts.stepContext, get signal() { return abort.signal; } });
  } catch (error) {
    const outcome: HandlerOutcome = { ok: false, error: normaliseError(error) };
    queueMicrotask(() => settle(outcome));
    return;
  }
  Promise.resolve(result).then(
    (output) => settle(checkOutput(output, opts.maxOutputBytes)),
    (error) => settle({ ok: false, error: normaliseError(error) }),
  );
}

function checkOutput(output: unknown, maxBytes: number): HandlerOutcome {
  if (output === undefined || output === null) return { ok: true, output: null };
  if (typeof output === 'boolean' || (typeof output === 'number' && Number.isFinite(output))) return { ok: true, output };
  if (typeof output === 'string' && output.length * 3 <= maxBytes) return { ok: true, output };
  const checked = toJson(output, { maxBytes });
  if (checked.ok) return { ok: true, output: JSON.parse(checked.json) };
  const code = checked.reason === 'too-large' ? StepErrorCodes.OutputTooLarge : StepErrorCodes.OutputNotJson;
  return { ok: false, error: { code, message: `handler output refused: ${checked.message}` } };
}

/** The input is JSON (the machine's context is), so a JSON round trip copies it, at half structuredClone's cost. */
function copy(value: unknown): unknown {
  return value === null || typeof value !== 'object' ? value : JSON.parse(JSON.stringify(value));
}
