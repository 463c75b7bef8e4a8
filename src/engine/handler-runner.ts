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
  abort: AbortController;
}

/**
 * Calls a handler once and settles exactly once: with its JSON-checked output, its normalised
 * error, or Stepwise.Timeout when `timeoutMs` passes first (whatever it does afterwards is
 * ignored). The input is a private copy, so a handler cannot corrupt the execution's state.
 */
export function runHandler(opts: RunOptions): Promise<HandlerOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: HandlerOutcome) => {
      if (settled) return;
      settled = true;
      opts.clock.clearTimeout(timer);
      resolve(outcome);
    };
    const timer = opts.clock.setTimeout(() => {
      settle({ ok: false, error: { code: StepErrorCodes.Timeout, message: `step '${opts.stepContext.step}' timed out after ${opts.timeoutMs} ms` } });
      opts.abort.abort(new Error(`timed out after ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    opts.abort.signal.addEventListener('abort', () => {
      settle({ ok: false, error: { code: StepErrorCodes.Cancelled, message: `step '${opts.stepContext.step}' was aborted`, terminal: true } });
    }, { once: true });
    let result: unknown;
    try {
      result = opts.handler(copy(opts.input), { ...opts.stepContext, signal: opts.abort.signal });
    } catch (error) {
      settle({ ok: false, error: normaliseError(error) });
      return;
    }
    Promise.resolve(result).then(
      (output) => settle(checkOutput(output, opts.maxOutputBytes)),
      (error) => settle({ ok: false, error: normaliseError(error) }),
    );
  });
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

function copy(value: unknown): unknown {
  return value === null || typeof value !== 'object' ? value : structuredClone(value);
}
