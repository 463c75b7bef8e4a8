import type { StateDef } from '../../definition.js';
import { stepKey, type WorkflowContext } from '../../machine-types.js';
import { visit } from '../entry-actions.js';
import { faultRoutes } from '../failure-routes.js';
import { onComplete, type CompileContext } from '../flow.js';
import { assign, command, enqueueActions, type StateConfig } from '../machine-setup.js';
import { copyOf, dueOf, safely } from '../transition-helpers.js';

/**
 * A wait computes when it is due on entry (a duration or a timestamp, from the data), asks for a
 * durable timer (`startTimer`, as data) and completes on TIMER_FIRED for its own key.
 */
export function compileWait(ctx: CompileContext, state: Extract<StateDef, { type: 'wait' }>): StateConfig {
  const name = state.name;
  const scope = ctx.info(name).scope;
  const key = (c: WorkflowContext) => stepKey(name, c.visits[name] ?? 1);
  return {
    id: name,
    entry: [
      visit(name),
      assign(({ context }) => {
        const found = safely(() => dueOf(state, copyOf(context.data[scope])));
        if (!found.ok) return { faults: { ...context.faults, [name]: found.error } };
        const due = found.value;
        // A wait of some duration really waits; one of zero (or until a time that may have
        // passed) does not, and must not let a loop through it run for ever.
        return { spins: (due.durationMs ?? 0) > 0 ? 0 : context.spins, timers: { ...context.timers, [key(context)]: due } };
      }),
      enqueueActions(({ context, enqueue }) => {
        if (!context.faults[name]) enqueue({ type: 'startTimer', params: { key: key(context), step: name, ...context.timers[key(context)] } });
      }),
    ],
    exit: [
      command('cancelWork', ({ context }) => ({ kind: 'timer', keys: [key(context)] })),
      assign(({ context }) => {
        const { [key(context)]: _gone, ...timers } = context.timers;
        return { timers };
      }),
    ],
    always: faultRoutes(ctx, name),
    on: {
      TIMER_FIRED: { guard: ({ context, event }) => 'key' in event && event.key === key(context), ...onComplete(ctx, name) },
    },
  };
}
