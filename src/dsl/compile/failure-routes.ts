import { StepErrorCodes, type StepError } from '../../core/errors.js';
import { findRetryPolicy, type ResolvedRetryPolicy } from '../../core/retry-policy.js';
import { DSL_DEFAULTS, type CatchRule } from '../definition.js';
import type { WorkflowContext, WorkflowEvent } from '../machine-types.js';
import { COMPENSATING_ID, type CompileContext } from './flow.js';
import { assign, enqueueActions, type Args, type Route } from './machine-setup.js';
import { applyResult, publicError, without } from './transition-helpers.js';

/** Where a step's failure or a state's fault goes: a retry, a catch route, or the workflow's failure. */

/**
 * Routes for an error raised in state `name`: its own catch rules, then those of every
 * enclosing parallel (innermost first), then the workflow's failure (compensations, FAILED).
 */
export function failureRoutes(
  ctx: CompileContext, name: string, errorOf: (args: Args) => StepError, guard: (args: Args) => boolean, ownCatch: CatchRule[],
): Route[] {
  const info = ctx.info(name);
  const routes: Route[] = [];
  const addCatches = (rules: CatchRule[], scope: string) => {
    for (const rule of rules) {
      const resultPath = rule.resultPath === undefined ? DSL_DEFAULTS.catchResultPath : rule.resultPath;
      routes.push({
        guard: (args) => guard(args) && catchMatches(rule, errorOf(args)),
        target: `#${rule.next}`,
        ...(rule.next === name ? { reenter: true } : {}),
        actions: [assign(({ context, event }) => ({
          faults: without(context.faults, name),
          caught: { state: name, next: rule.next },
          data: { ...context.data, [scope]: applyResult(context.data[scope], resultPath, publicError(errorOf({ context, event }))) },
        }))],
      });
    }
  };
  addCatches(ownCatch, info.scope);
  for (const parallel of info.enclosing) {
    const p = ctx.info(parallel);
    if (p.state.type === 'parallel') addCatches(p.state.catch, p.scope);
  }
  routes.push({
    guard,
    target: `#${COMPENSATING_ID}`,
    actions: [assign(({ context, event }) => ({ faults: without(context.faults, name), error: publicError(errorOf({ context, event })), failedAt: name }))],
  });
  return routes;
}

/**
 * Routes for an error a definition function raised while entering `name` (its own fault only:
 * in a parallel, another branch's fault is not this state's business).
 */
export function faultRoutes(ctx: CompileContext, name: string, ownCatch: CatchRule[] = []): Route[] {
  return failureRoutes(ctx, name, ({ context }) => context.faults[name]!, ({ context }) => context.faults[name] !== undefined, ownCatch);
}

/** A retry route for a failed step: applies when a policy matches and attempts remain. */
export function retryRoute(
  policies: ResolvedRetryPolicy[],
  mine: (args: Args) => boolean,
  errorOf: (args: Args) => StepError,
  target: (c: WorkflowContext, e: WorkflowEvent) => { key: string; step: string; index?: number },
): Route {
  const attemptsOf = (c: WorkflowContext, e: WorkflowEvent) => c.attempts[(e as { key: string }).key] ?? 0;
  return {
    guard: (args) => {
      if (!mine(args)) return false;
      const policy = findRetryPolicy(policies, errorOf(args));
      return policy !== undefined && attemptsOf(args.context, args.event) + 1 < policy.maxAttempts;
    },
    actions: [
      enqueueActions(({ context, event, enqueue }) => {
        const t = target(context, event);
        const failures = attemptsOf(context, event) + 1;
        const policy = policies.indexOf(findRetryPolicy(policies, errorOf({ context, event }))!);
        enqueue({ type: 'retryTask', params: { ...t, attempt: failures + 1, policy } });
        enqueue.assign({ attempts: { ...context.attempts, [(event as { key: string }).key]: failures } });
      }),
    ],
  };
}

/** Catch rules see every error, terminal ones included: '*' catches all. */
function catchMatches(rule: CatchRule, error: StepError): boolean {
  if (error.code === StepErrorCodes.EndlessLoop) return false; // catching it would only loop again
  return rule.errors.includes('*') || rule.errors.includes(error.code);
}
