import type { StepError } from '../../core/errors.js';
import { findRetryPolicy, type ResolvedRetryPolicy } from '../../core/retry-policy.js';
import { FINAL, type CompletedStep, type WorkflowContext } from '../machine-types.js';
import type { StateInfo } from '../scopes.js';
import { COMPENSATING_ID } from './flow.js';
import { assign, command, enqueueActions, type Args, type StateConfig } from './machine-setup.js';

/**
 * The compensation sub-machine every failure that no catch takes (and every cancel) enters: it
 * runs the compensations of completed steps, last completed first, each with its own retries,
 * then ends FAILED (or CANCELLED).
 */
export function compileCompensating(index: Map<string, StateInfo>): StateConfig {
  const policies = new Map<string, ResolvedRetryPolicy[]>();
  for (const info of index.values()) {
    const s = info.state;
    if ((s.type === 'task' || s.type === 'map') && s.compensation) policies.set(s.compensation.name, s.compensation.retry);
  }
  const top = (c: WorkflowContext): CompletedStep | undefined => c.compensating[c.compensating.length - 1];
  const isTop = ({ context, event }: Args) => 'key' in event && top(context)?.key === event.key;
  const errorOf = (args: Args) => (args.event as { error: StepError }).error;
  const pop = assign({ compensating: ({ context }) => context.compensating.slice(0, -1) });
  const attemptKey = (key: string) => `comp:${key}`;
  return {
    id: COMPENSATING_ID,
    // Once a compensation is due, the failure can no longer be redriven (its work is undone).
    entry: [assign(({ context }) => ({ compensating: context.completed.slice(), ...(context.completed.length > 0 ? { compensated: true } : {}) }))],
    initial: 'next',
    states: {
      next: {
        entry: [enqueueActions(({ context, enqueue }) => {
          const t = top(context);
          if (!t) return;
          enqueue.assign({ attempts: { ...context.attempts, [attemptKey(t.key)]: 0 } });
          enqueue({ type: 'runCompensation', params: { key: t.key, step: t.step, compensation: t.compensation } });
        })],
        always: [
          { guard: ({ context }) => context.compensating.length === 0 && context.cancelled, target: `#${FINAL.cancelled}` },
          { guard: ({ context }) => context.compensating.length === 0, target: `#${FINAL.failed}` },
        ],
        on: {
          COMPENSATION_SUCCEEDED: { guard: isTop, target: 'next', reenter: true, actions: [pop] },
          COMPENSATION_FAILED: [
            {
              guard: (args) => {
                if (!isTop(args)) return false;
                const t = top(args.context)!;
                const policy = findRetryPolicy(policies.get(t.compensation) ?? [], errorOf(args));
                return policy !== undefined && (args.context.attempts[attemptKey(t.key)] ?? 0) + 1 < policy.maxAttempts;
              },
              actions: [
                assign({ attempts: ({ context }) => ({ ...context.attempts, [attemptKey(top(context)!.key)]: (context.attempts[attemptKey(top(context)!.key)] ?? 0) + 1 }) }),
                command('retryCompensation', (args) => {
                  const t = top(args.context)!;
                  const list = policies.get(t.compensation) ?? [];
                  const policy = list.indexOf(findRetryPolicy(list, errorOf(args))!);
                  return { key: t.key, step: t.step, compensation: t.compensation, attempt: args.context.attempts[attemptKey(t.key)] + 1, policy };
                }),
              ],
            },
            {
              guard: isTop,
              target: 'next',
              reenter: true,
              actions: [
                assign({
                  compensationFailures: (args) => [
                    ...args.context.compensationFailures,
                    { step: top(args.context)!.step, compensation: top(args.context)!.compensation, error: errorOf(args) },
                  ],
                }),
                pop,
              ],
            },
          ],
        },
      },
    },
  };
}
