/**
 * Task states whose work is finished outside the engine (docs/handlers.md).
 *
 * An activity (`arn:aws:states:…:activity:NAME`) runs on the worker queue NAME (`worker(NAME)`),
 * as three DSL steps:
 * - `D` computes the effective input (InputPath, Parameters) and keeps it in the envelope as `i`;
 * - `D-activity` is the worker step polling workers take (GetActivityTask hands them `i`, see
 *   `activityInput`); its result is kept as `r`; HeartbeatSeconds is the worker's heartbeatMs;
 * - `D-result` applies ResultSelector, ResultPath and OutputPath to `r`.
 * `D` and `D-result` are stored steps, not transforms: Parameters and ResultSelector may call
 * States.UUID or read `$$.State.EnteredTime`, which must not change on replay. Retry applies to
 * the worker step; Catch to all three. GetExecutionHistory shows the worker step as the Task.
 *
 * `lambda:invoke.waitForTaskToken` is `D`, a `callback()` step whose function computes the
 * effective input with `$$.Task.Token` and calls the handler FunctionName names with the Payload;
 * the answer to that token (SendTaskSuccess) is kept as `r`, and `D-result` is as above.
 */
import type { StepContext } from '../dsl/definition.js';
import { callback, worker } from '../handlers/remote-steps.js';
import { retryPolicies } from './rules.js';
import { invokeResource } from './resources.js';
import { stateInput, stateOutput } from './state-io.js';
import { DEFAULT_TASK_TIMEOUT_MS, type Envelope, type Scope, type Translator } from './translate.js';
import type { AslState } from './types.js';

type ActivityEnvelope = Envelope & { i?: unknown; r?: unknown };

export function activityTask(t: Translator, scope: Scope, aslName: string, d: string, state: AslState, queue: string): void {
  const { seq } = scope;
  const work = t.alloc(`${d}-activity`);
  const result = t.alloc(`${d}-result`);
  // The worker step stands for the ASL state in presentations (its StepStarted is TaskStarted).
  t.stateNames.delete(d);
  t.synthetic.delete(work);
  t.synthetic.add(d);
  t.stateNames.set(work, aslName);
  const catches = t.catches(scope, d, state);
  seq.task(d, async (env: Envelope, ctx: StepContext): Promise<ActivityEnvelope> => ({ ...env, i: stateInput(state, env.v, t.taskContext(env, aslName, ctx)) }), {
    next: work, catch: catches,
  });
  const heartbeatMs = state.HeartbeatSeconds !== undefined ? state.HeartbeatSeconds * 1000 : undefined;
  seq.task(work, worker(queue, heartbeatMs !== undefined ? { heartbeatMs } : {}), {
    next: result, resultPath: 'r', retry: retryPolicies(state.Retry), catch: catches,
    timeoutMs: state.TimeoutSeconds !== undefined ? state.TimeoutSeconds * 1000 : DEFAULT_TASK_TIMEOUT_MS,
  } as never);
  seq.task(result, resultHandler(t, aslName, state), { ...t.flow(scope, state), catch: catches });
}

export function tokenTask(t: Translator, scope: Scope, aslName: string, d: string, state: AslState): void {
  const result = t.alloc(`${d}-result`);
  const catches = t.catches(scope, d, state);
  const start = async (env: Envelope, ctx: StepContext & { taskToken: string }) => {
    const context = { ...t.taskContext(env, aslName, ctx), Task: { Token: ctx.taskToken } };
    await invokeResource({ kind: 'callback' }, stateInput(state, env.v, context), t.opts.handlers, ctx);
  };
  scope.seq.task(d, callback(start), {
    next: result, resultPath: 'r', retry: retryPolicies(state.Retry), catch: catches,
    timeoutMs: state.TimeoutSeconds !== undefined ? state.TimeoutSeconds * 1000 : DEFAULT_TASK_TIMEOUT_MS,
  } as never);
  scope.seq.task(result, resultHandler(t, aslName, state), { ...t.flow(scope, state), catch: catches });
}

function resultHandler(t: Translator, aslName: string, state: AslState) {
  return async (env: ActivityEnvelope, ctx: StepContext): Promise<Envelope> => {
    const { i: _input, r, ...rest } = env;
    return { ...rest, v: stateOutput(state, env.v, r ?? null, t.taskContext(env, aslName, ctx)) };
  };
}

/** What a polling worker of an activity gets as its input: the effective input kept in `i`. */
export function activityInput(stepInput: unknown): unknown {
  if (stepInput !== null && typeof stepInput === 'object' && 'i' in stepInput && 'x' in stepInput) return (stepInput as { i: unknown }).i;
  return stepInput;
}
