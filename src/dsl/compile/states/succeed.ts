import type { StateDef } from '../../definition.js';
import { FINAL } from '../../machine-types.js';
import { spin } from '../entry-actions.js';
import { faultRoutes } from '../failure-routes.js';
import { regionEndId, type CompileContext } from '../flow.js';
import { assign, command, type Route, type StateConfig } from '../machine-setup.js';
import { safeJson } from '../transition-helpers.js';

/**
 * A succeed state ends its sequence at once: the workflow (SUCCEEDED, with the data or
 * `output(data)` as output) or, inside a parallel branch, the branch.
 */
export function compileSucceed(ctx: CompileContext, state: Extract<StateDef, { type: 'succeed' }>): StateConfig {
  const name = state.name;
  const info = ctx.info(name);
  const end: Route = info.scope === ''
    ? { target: `#${FINAL.succeeded}`, actions: [assign(({ context }) => ({ output: context.data[''] }))] }
    : { target: `#${regionEndId(info.scope)}` };
  return {
    id: name,
    entry: [
      command('entered', () => ({ step: name })),
      assign(({ context }) => {
        if (!state.output) return {};
        const found = safeJson(state.output, context.data[info.scope]);
        return found.ok ? { data: { ...context.data, [info.scope]: found.value ?? null } } : { faults: { ...context.faults, [name]: found.error } };
      }),
      spin(name),
    ],
    always: [...faultRoutes(ctx, name), end],
  };
}
