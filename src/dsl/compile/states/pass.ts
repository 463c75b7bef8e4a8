import type { StateDef } from '../../definition.js';
import { spin } from '../entry-actions.js';
import { faultRoutes } from '../failure-routes.js';
import { onComplete, type CompileContext } from '../flow.js';
import { assign, command, type StateConfig } from '../machine-setup.js';
import { safeJson } from '../transition-helpers.js';

/** A pass state hands the data on, reshaped by `transform` when there is one. */
export function compilePass(ctx: CompileContext, state: Extract<StateDef, { type: 'pass' }>): StateConfig {
  const name = state.name;
  const scope = ctx.info(name).scope;
  return {
    id: name,
    entry: [
      command('entered', () => ({ step: name })),
      assign(({ context }) => {
        if (!state.transform) return {};
        const found = safeJson(state.transform, context.data[scope]);
        return found.ok ? { data: { ...context.data, [scope]: found.value ?? null } } : { faults: { ...context.faults, [name]: found.error } };
      }),
      spin(name),
    ],
    always: [...faultRoutes(ctx, name), onComplete(ctx, name)],
  };
}
