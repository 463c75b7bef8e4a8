/**
 * States in JSONata mode. jsonata evaluates asynchronously and `$now()` differs per call, so every
 * state that evaluates an expression runs it in a handler (a stored step): its result (output,
 * variables, the chosen Choice rule, a Wait's due time) is recorded in history and never
 * evaluated again; the DSL states that follow (choice routes, waits) only read what was stored.
 * Variables (Assign) travel in the envelope's `a`; Output and Assign of a state both see the
 * variables as they were before it, as AWS specifies.
 */
import { TerminalError } from '../../core/errors.js';
import type { Handler, StepContext } from '../../dsl/definition.js';
import { AslRuntimeError, aslErrorName, States } from '../asl-errors.js';
import { invokeResource, resolveResource } from '../resources.js';
import { retryPolicies } from '../rules.js';
import type { Envelope, Scope, Translator } from '../translate.js';
import type { AslCatcher, AslState } from '../types.js';
import { AslDefinitionError } from '../validate.js';
import { evaluateTemplate, expressionOf, type JsonataBindings } from './evaluate.js';

const DEFAULT_TASK_TIMEOUT_MS = 24 * 3600 * 1000;

function bindings(t: Translator, env: Envelope, aslName: string, ctx: StepContext, extra: Partial<JsonataBindings['states']> = {}): JsonataBindings {
  return { states: { input: env.v, context: t.taskContext(env, aslName, ctx), ...extra }, variables: env.a ?? {} };
}

/** Output (default `fallback`) and Assign, both evaluated with the variables from before the state. */
async function finish(rule: { Output?: unknown; Assign?: Record<string, unknown> }, env: Envelope, b: JsonataBindings, fallback: unknown): Promise<Envelope> {
  const output = rule.Output !== undefined ? await evaluateTemplate(rule.Output, b, 'Output') : fallback;
  const assigned = rule.Assign !== undefined ? ((await evaluateTemplate(rule.Assign, b, 'Assign')) as Record<string, unknown>) : {};
  return { v: output, x: env.x, a: { ...env.a, ...assigned } };
}

/** A Catch in JSONata mode: Output (default: the error output) and Assign see `$states.errorOutput`. */
export function jsonataCatchHandler(t: Translator, aslName: string, catcher: AslCatcher): Handler {
  return async (env: Envelope, ctx: StepContext) => {
    const errorOutput = { Error: aslErrorName(env.e!.code, env.e!.message), Cause: env.e!.message };
    const b = bindings(t, env, aslName, ctx, { errorOutput });
    return finish(catcher, env, b, errorOutput);
  };
}

export function jsonataState(t: Translator, scope: Scope, aslName: string, d: string, state: AslState): void {
  const { seq } = scope;
  // Only states that flow on call t.flow: it marks the root's End state as used.
  const flow = () => t.flow(scope, state);
  switch (state.Type) {
    case 'Task': {
      const resource = resolveResource(aslName, state.Resource!, t.opts.handlers, 'in JSONata mode yet');
      seq.task(d, async (env: Envelope, ctx: StepContext) => {
        const b = bindings(t, env, aslName, ctx);
        const args = state.Arguments !== undefined ? await evaluateTemplate(state.Arguments, b, 'Arguments') : env.v;
        const result = (await invokeResource(resource, args, t.opts.handlers, ctx)) ?? null;
        return finish(state, env, { ...b, states: { ...b.states, result } }, result);
      }, {
        ...flow(), retry: retryPolicies(state.Retry), catch: t.catches(scope, d, state),
        timeoutMs: state.TimeoutSeconds !== undefined ? state.TimeoutSeconds * 1000 : DEFAULT_TASK_TIMEOUT_MS,
      });
      return;
    }
    case 'Pass':
      seq.task(d, async (env: Envelope, ctx: StepContext) => finish(state, env, bindings(t, env, aslName, ctx), env.v), flow());
      return;
    case 'Choice': {
      const rules = state.Choices ?? [];
      const route = t.alloc(`${d}-route`);
      const noMatch = state.Default === undefined ? t.alloc(`${d}-nomatch`) : undefined;
      seq.task(d, async (env: Envelope, ctx: StepContext) => {
        const b = bindings(t, env, aslName, ctx);
        for (const [i, rule] of rules.entries()) {
          const holds = await evaluateTemplate(rule.Condition, b, `Choices[${i}].Condition`);
          if (typeof holds !== 'boolean') throw new AslRuntimeError(States.QueryEvaluationError, `Choices[${i}].Condition gave ${JSON.stringify(holds)}, not a boolean`);
          if (holds) {
            const r = rule as { Output?: unknown; Assign?: Record<string, unknown> };
            return { ...(await finish({ Output: r.Output ?? state.Output, Assign: r.Assign ?? state.Assign }, env, b, env.v)), k: i };
          }
        }
        return { ...(await finish(state, env, b, env.v)), k: -1 };
      }, { next: route });
      seq.choice(route, {
        choices: rules.map((rule, i) => ({ when: (env: Envelope) => env.k === i, next: scope.names.get(rule.Next as string)!, label: `rule ${i + 1}` })),
        default: noMatch ?? scope.names.get(state.Default!)!,
      });
      if (noMatch) scope.after.push(() => seq.fail(noMatch, { error: States.NoChoiceMatched, cause: `no choice rule matched in state '${aslName}', which has no Default` }));
      return;
    }
    case 'Wait': {
      const timer = t.alloc(`${d}-timer`);
      seq.task(d, async (env: Envelope, ctx: StepContext) => {
        const b = bindings(t, env, aslName, ctx);
        const out = await finish(state, env, b, env.v);
        if (state.Seconds !== undefined) {
          const seconds = await evaluateTemplate(state.Seconds, b, 'Seconds');
          if (!Number.isInteger(seconds) || (seconds as number) < 0) throw new AslRuntimeError(States.Runtime, `Seconds gave ${JSON.stringify(seconds)}, not a non-negative integer`);
          return { ...out, w: (seconds as number) * 1000 };
        }
        const at = await evaluateTemplate(state.Timestamp, b, 'Timestamp');
        if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) throw new AslRuntimeError(States.Runtime, `Timestamp gave ${JSON.stringify(at)}, not an ISO-8601 timestamp`);
        return { ...out, t: at };
      }, { next: timer });
      if (state.Seconds !== undefined) seq.wait(timer, { ...flow(), durationMs: (env: Envelope) => env.w ?? 0 });
      else seq.wait(timer, { ...flow(), until: (env: Envelope) => env.t! });
      return;
    }
    case 'Succeed': {
      const output = (env: Envelope) => (scope.rootEnd ? env.v : env);
      if (state.Output === undefined) {
        seq.succeed(d, { output });
        return;
      }
      const end = t.alloc(`${d}-end`);
      seq.task(d, async (env: Envelope, ctx: StepContext) => finish(state, env, bindings(t, env, aslName, ctx), env.v), { next: end });
      seq.succeed(end, { output });
      return;
    }
    case 'Fail': {
      if (expressionOf(state.Error) === undefined && expressionOf(state.Cause) === undefined) {
        seq.fail(d, { error: state.Error ?? 'States.Fail', ...(state.Cause !== undefined ? { cause: state.Cause } : {}) });
        return;
      }
      seq.task(d, async (env: Envelope, ctx: StepContext) => {
        const b = bindings(t, env, aslName, ctx);
        const error = state.Error !== undefined ? String(await evaluateTemplate(state.Error, b, 'Error')) : 'States.Fail';
        const cause = state.Cause !== undefined ? String(await evaluateTemplate(state.Cause, b, 'Cause')) : '';
        throw new TerminalError(error, cause);
      }, { end: true });
      return;
    }
    default:
      throw new AslDefinitionError(`state '${aslName}': ${state.Type} states are not supported in JSONata mode yet`, aslName, 'Type');
  }
}
