import type { StateDef } from '../../definition.js';
import { stepKey, type WorkflowContext } from '../../machine-types.js';
import { failureRoutes, retryRoute } from '../failure-routes.js';
import { onComplete, type CompileContext } from '../flow.js';
import { visit } from '../entry-actions.js';
import { assign, command, type Args, type StateConfig } from '../machine-setup.js';
import { applyResult } from '../transition-helpers.js';

/**
 * A task asks for its handler on entry (`runTask`, as data) and waits for the engine's
 * STEP_SUCCEEDED or STEP_FAILED for its own step key: the result goes into the data (and onto
 * the compensation stack), a failure to a retry, a catch or the workflow's failure.
 */
export function compileTask(ctx: CompileContext, state: Extract<StateDef, { type: 'task' }>): StateConfig {
  const name = state.name;
  const scope = ctx.info(name).scope;
  const key = (c: WorkflowContext) => stepKey(name, c.visits[name] ?? 1);
  const mine = ({ context, event }: Args) => 'key' in event && event.key === key(context);
  const errorOf = ({ event }: Args) => (event as Extract<typeof event, { type: 'STEP_FAILED' }>).error;
  return {
    id: name,
    entry: [
      visit(name),
      assign({ attempts: ({ context }) => ({ ...context.attempts, [key(context)]: 0 }), spins: 0 }),
      command('runTask', ({ context }) => ({ key: key(context), step: name })),
    ],
    exit: [command('cancelWork', ({ context }) => ({ kind: 'task', keys: [key(context)] }))],
    on: {
      STEP_SUCCEEDED: {
        guard: mine,
        ...onComplete(ctx, name, [assign(({ context, event }) => {
          const output = (event as Extract<typeof event, { type: 'STEP_SUCCEEDED' }>).output;
          const input = context.data[scope];
          return {
            data: { ...context.data, [scope]: applyResult(input, state.resultPath, output) },
            completed: state.compensation
              ? [...context.completed, { key: key(context), step: name, compensation: state.compensation.name, input, output }]
              : context.completed,
          };
        })]),
      },
      STEP_FAILED: [
        retryRoute(state.retry, mine, errorOf, (c) => ({ key: key(c), step: name })),
        ...failureRoutes(ctx, name, errorOf, mine, state.catch),
      ],
    },
  };
}
