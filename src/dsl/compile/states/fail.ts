import type { StateDef } from '../../definition.js';
import { spin } from '../entry-actions.js';
import { faultRoutes } from '../failure-routes.js';
import type { CompileContext } from '../flow.js';
import { assign, command, type StateConfig } from '../machine-setup.js';
import { FINAL } from '../../machine-types.js';
import { copyOf, publicError, safely, without, type Attempt } from '../transition-helpers.js';

/**
 * A fail state raises its error as the state's own fault (code `error`, message from `cause`), so
 * it takes the same routes as any other failure: enclosing catches, then compensations and FAILED.
 */
export function compileFail(ctx: CompileContext, state: Extract<StateDef, { type: 'fail' }>): StateConfig {
  const name = state.name;
  const scope = ctx.info(name).scope;
  const { cause } = state;
  return {
    id: name,
    entry: [
      command('entered', () => ({ step: name })),
      assign(({ context }) => {
        const found: Attempt = typeof cause === 'function' ? safely(() => cause(copyOf(context.data[scope]))) : { ok: true, value: cause };
        const message = found.ok && typeof found.value === 'string' ? found.value : `failed at state '${name}'`;
        return { faults: { ...context.faults, [name]: { code: state.error, message, terminal: true } } };
      }),
      spin(name),
    ],
    always: state.compensate === false ? [held(name)] : faultRoutes(ctx, name),
  };
}

/**
 * A fail state with `compensate: false` holds the failure for redrive: it ends the execution
 * FAILED at once, with no catch route and no compensation. A redrive re-enters the state whose
 * error a catch route brought here (or this fail state, when it was reached another way).
 */
function held(name: string) {
  return {
    target: `#${FINAL.failed}`,
    actions: [assign(({ context }) => ({
      faults: without(context.faults, name),
      error: publicError(context.faults[name]!),
      failedAt: context.caught?.next === name ? context.caught.state : name,
      held: true,
    }))],
  };
}
