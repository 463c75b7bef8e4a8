import type { StateDef } from '../../definition.js';
import { spin } from '../entry-actions.js';
import { faultRoutes } from '../failure-routes.js';
import type { CompileContext } from '../flow.js';
import { assign, command, type Route, type StateConfig } from '../machine-setup.js';
import { copyOf, safely } from '../transition-helpers.js';

/**
 * A choice evaluates its rules once, on entry, on a private copy of the data, and keeps the index
 * of the first that holds in the context; its eventless routes then read that index. A rule that
 * throws is the state's fault.
 */
export function compileChoice(ctx: CompileContext, state: Extract<StateDef, { type: 'choice' }>): StateConfig {
  const name = state.name;
  const scope = ctx.info(name).scope;
  return {
    id: name,
    entry: [
      command('entered', () => ({ step: name })),
      assign(({ context }) => {
        const found = safely(() => {
          const data = copyOf(context.data[scope]);
          return state.choices.findIndex((rule) => rule.when(data) === true);
        });
        return found.ok ? { choice: { ...context.choice, [name]: found.value } } : { faults: { ...context.faults, [name]: found.error } };
      }),
      spin(name),
    ],
    always: [
      ...faultRoutes(ctx, name),
      ...state.choices.map((rule, i): Route => ({ guard: ({ context }) => context.choice[name] === i, target: `#${rule.next}` })),
      { target: `#${state.default}` },
    ],
  };
}
