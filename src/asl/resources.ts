/**
 * A Task's Resource names a handler registered by name. Accepted forms:
 * - `NAME` (a bare name);
 * - `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:alias]`;
 * - `arn:aws:states:::lambda:invoke` with Parameters `{ FunctionName, Payload }`: the handler gets
 *   the Payload and the result is `{ Payload, StatusCode: 200, ExecutedVersion: '$LATEST' }`, as
 *   the optimised Lambda integration answers;
 * - `arn:aws:states:::lambda:invoke.waitForTaskToken`: the handler gets the Payload (which passes
 *   `$$.Task.Token` on) and the result is what SendTaskSuccess answers with that token (`callback()`);
 * - `arn:aws:states:REGION:ACCOUNT:activity:NAME`: the worker queue NAME (`worker(NAME)`), whose
 *   tasks polling workers take, over GetActivityTask or Stepwise's own task routes (remote-task.ts).
 */
import type { Handler, StepContext } from '../dsl/definition.js';
import { AslDefinitionError } from './validate.js';

export type AslHandlers = Record<string, Handler>;

export interface ResolvedResource {
  /** The handler's name, or undefined for lambda:invoke (the name comes from Parameters). */
  name?: string;
  kind: 'function' | 'invoke' | 'activity' | 'callback';
}

const LAMBDA_INVOKE = /^arn:aws[\w-]*:states:::lambda:invoke$/;
const LAMBDA_INVOKE_WAIT = /^arn:aws[\w-]*:states:::lambda:invoke\.waitForTaskToken$/;

/** Reads a Resource; returns undefined for a form Stepwise does not run. */
export function parseResource(resource: string): ResolvedResource | undefined {
  if (LAMBDA_INVOKE.test(resource)) return { kind: 'invoke' };
  if (LAMBDA_INVOKE_WAIT.test(resource)) return { kind: 'callback' };
  const lambda = /^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)(:[^:]+)?$/.exec(resource);
  if (lambda) return { kind: 'function', name: lambda[1] };
  const activity = /^arn:aws[\w-]*:states:[^:]*:[^:]*:activity:([^:]+)$/.exec(resource);
  if (activity) return /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/.test(activity[1]) ? { kind: 'activity', name: activity[1] } : undefined;
  if (/^[A-Za-z0-9_.-]{1,140}$/.test(resource)) return { kind: 'function', name: resource };
  return undefined;
}

/** The name of a function ARN or a bare name (`FunctionName` of lambda:invoke). */
export function functionName(value: string): string {
  const m = /^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)(:[^:]+)?$/.exec(value);
  return m ? m[1] : value.split(':')[0];
}

/**
 * Reads a Task's Resource at definition time, refusing a form Stepwise does not run, a name with
 * no registered handler (an activity is a worker queue and needs none), and a resource waiting
 * on a worker or a token where `activityWhy` says it cannot (inside a Map iteration, in JSONata mode).
 */
export function resolveResource(state: string, resource: string, handlers: AslHandlers, activityWhy?: string): ResolvedResource {
  const r = parseResource(resource);
  if (!r) throw new AslDefinitionError(`state '${state}', field 'Resource': '${resource}' is not a resource Stepwise runs`, state, 'Resource');
  if (r.kind === 'function' && typeof handlers[r.name!] !== 'function') {
    throw new AslDefinitionError(`state '${state}', field 'Resource': no handler is registered as '${r.name}'`, state, 'Resource');
  }
  if ((r.kind === 'activity' || r.kind === 'callback') && activityWhy) {
    throw new AslDefinitionError(`state '${state}', field 'Resource': an activity or a .waitForTaskToken resource is not supported ${activityWhy}`, state, 'Resource');
  }
  return r;
}

/** Calls the handler a Resource names with the state's effective input. */
export async function invokeResource(resource: ResolvedResource, input: unknown, handlers: AslHandlers, ctx: StepContext): Promise<unknown> {
  if (resource.kind === 'function') return handlers[resource.name!](input, ctx);
  const params = (input ?? {}) as { FunctionName?: unknown; Payload?: unknown };
  const name = typeof params.FunctionName === 'string' ? functionName(params.FunctionName) : '';
  const handler = handlers[name];
  if (!handler) {
    const error = new Error(`no handler is registered as '${name}' (lambda:invoke FunctionName)`);
    error.name = 'Lambda.ResourceNotFoundException';
    throw error;
  }
  const payload = await handler(params.Payload ?? {}, ctx);
  return { ExecutedVersion: '$LATEST', Payload: payload ?? null, StatusCode: 200 };
}
