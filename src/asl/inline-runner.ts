/**
 * Runs the states of one Map iteration (its ItemProcessor) in process. A Map's items are the
 * durable unit: each item is one stored step of the engine (run again after a crash with the same
 * idempotency key); the states inside an item, retries and waits included, run here and are not
 * separate durable steps. The semantics are those of the translated top level (same data flow,
 * retry and catch matching), so a definition behaves the same inside and outside a Map.
 */
import { backoffDelay } from '../core/retry-policy.js';
import { normaliseError } from '../core/errors.js';
import type { StepContext } from '../dsl/definition.js';
import { AslRuntimeError, aslErrorName, errorEqualsMatches, States } from './asl-errors.js';
import { pickChoice } from './choice-rules.js';
import { applyResultPath, readPath } from './paths.js';
import { invokeResource, parseResource, type AslHandlers } from './resources.js';
import { errorOutput, filteredOutput, passOutput, stateInput, stateOutput, type AslContext } from './state-io.js';
import type { AslMachine, AslState } from './types.js';
import { itemInputs, toleranceExceeded, waitMs } from './state-rules.js';

export interface InlineOptions {
  handlers: AslHandlers;
  ctx: StepContext;
  /** Waits this long (retries and Wait states inside an iteration). */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  now: () => number;
}

/** The ASL error name and cause of anything thrown. */
export function describeError(thrown: unknown): { error: string; cause: string } {
  const e = normaliseError(thrown);
  return { error: aslErrorName(e.code, e.message), cause: e.message };
}

export async function runInline(machine: AslMachine, input: unknown, context: AslContext, opts: InlineOptions): Promise<unknown> {
  let name = machine.StartAt;
  let data = input;
  for (;;) {
    opts.ctx.signal.throwIfAborted();
    const state = machine.States[name];
    const stateContext: AslContext = { ...context, State: { Name: name, EnteredTime: new Date(opts.now()).toISOString(), RetryCount: 0 } };
    const step = await runState(name, state, data, stateContext, opts);
    if (step.next === undefined) return step.output;
    data = step.output;
    name = step.next;
  }
}

async function runState(name: string, state: AslState, raw: unknown, context: AslContext, opts: InlineOptions): Promise<{ output: unknown; next?: string }> {
  const flow = (output: unknown) => ({ output, next: state.Next });
  switch (state.Type) {
    case 'Pass': return flow(passOutput(state, raw, context));
    case 'Succeed': return { output: filteredOutput(state, raw) };
    case 'Fail': {
      const error = state.ErrorPath ? String(readPath(state.ErrorPath, raw, context)) : state.Error ?? 'States.Fail';
      const cause = state.CausePath ? String(readPath(state.CausePath, raw, context)) : state.Cause ?? '';
      throw new AslRuntimeError(error, cause);
    }
    case 'Choice': {
      const rules = state.Choices ?? [];
      const i = pickChoice(rules, readPathOrSelf(state.InputPath, raw), context);
      const next = i >= 0 ? (rules[i].Next as string) : state.Default;
      if (next === undefined) throw new AslRuntimeError(States.NoChoiceMatched, `no choice rule matched and '${name}' has no Default`);
      return { output: filteredOutput(state, raw), next };
    }
    case 'Wait': {
      await opts.sleep(waitMs(state, readPathOrSelf(state.InputPath, raw), opts.now()), opts.ctx.signal);
      return flow(filteredOutput(state, raw));
    }
    default:
      return withRetryAndCatch(name, state, raw, context, opts, async () => {
        const input = stateInput(state, raw, context);
        return stateOutput(state, raw, await work(state, input, context, opts), context);
      });
  }
}

function readPathOrSelf(path: string | null | undefined, raw: unknown): unknown {
  return path === undefined ? raw : path === null ? {} : readPath(path, raw, undefined);
}

async function work(state: AslState, input: unknown, context: AslContext, opts: InlineOptions): Promise<unknown> {
  if (state.Type === 'Task') {
    const call = invokeResource(parseResource(state.Resource!)!, input, opts.handlers, opts.ctx);
    if (state.TimeoutSeconds === undefined) return call;
    const controller = new AbortController();
    const timer = opts.sleep(state.TimeoutSeconds * 1000, controller.signal).then(() => {
      throw new AslRuntimeError(States.Timeout, `the task ran past its TimeoutSeconds (${state.TimeoutSeconds})`);
    });
    try {
      return await Promise.race([call, timer]);
    } finally {
      controller.abort();
      timer.catch(() => {});
    }
  }
  if (state.Type === 'Parallel') {
    return Promise.all((state.Branches ?? []).map((branch) => runInline(branch, input, context, opts)));
  }
  // A Map nested in an iteration.
  const items = itemInputs(state, input, context);
  const limit = state.MaxConcurrency ? state.MaxConcurrency : items.length || 1;
  const processor = (state.ItemProcessor ?? state.Iterator)!;
  const results: unknown[] = new Array(items.length);
  let failures = 0;
  let next = 0;
  const tolerant = state.ToleratedFailureCount !== undefined || state.ToleratedFailurePercentage !== undefined;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await runInline(processor, items[i].input, { ...context, Map: items[i].map }, opts);
      } catch (error) {
        if (!tolerant) throw error;
        failures++;
        const { error: code, cause } = describeError(error);
        results[i] = errorOutput(code, cause);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, Math.max(1, items.length)) }, worker));
  if (tolerant && toleranceExceeded(state, failures, items.length)) {
    throw new AslRuntimeError(States.ExceedToleratedFailureThreshold, `${failures} of ${items.length} items failed`);
  }
  return results;
}

async function withRetryAndCatch(
  name: string, state: AslState, raw: unknown, context: AslContext, opts: InlineOptions, attempt: () => Promise<unknown>,
): Promise<{ output: unknown; next?: string }> {
  const retried = new Map<number, number>();
  for (;;) {
    try {
      const output = await attempt();
      return { output, next: state.Next };
    } catch (thrown) {
      const { error, cause } = describeError(thrown);
      const r = (state.Retry ?? []).findIndex((rule) => errorEqualsMatches(rule.ErrorEquals, error));
      if (r >= 0) {
        const rule = state.Retry![r];
        const count = retried.get(r) ?? 0;
        if (count < (rule.MaxAttempts ?? 3)) {
          retried.set(r, count + 1);
          const delay = backoffDelay({
            errors: ['*'], intervalMs: (rule.IntervalSeconds ?? 1) * 1000, backoffRate: rule.BackoffRate ?? 2, maxAttempts: Infinity,
            maxDelayMs: rule.MaxDelaySeconds ? rule.MaxDelaySeconds * 1000 : Number.MAX_SAFE_INTEGER, jitter: rule.JitterStrategy === 'FULL' ? 'full' : 'none',
          }, count + 2, Math.random());
          await opts.sleep(delay, opts.ctx.signal);
          continue;
        }
      }
      const catcher = (state.Catch ?? []).find((rule) => errorEqualsMatches(rule.ErrorEquals, error));
      if (!catcher) throw thrown;
      const resultPath = catcher.ResultPath === undefined ? '$' : catcher.ResultPath;
      return { output: applyResultPath(raw, resultPath, errorOutput(error, cause)), next: catcher.Next };
    }
  }
}
