import type { StateDef } from '../definition.js';
import { FINAL } from '../machine-types.js';
import type { StateInfo } from '../scopes.js';
import { assignOnAny, type AnyEvent, type Args, type Route, type RouteAction, type StateConfig } from './machine-setup.js';

/** What every state compiler is given: where states live, and how to compile a nested sequence. */
export interface CompileContext {
  /** Every state of the definition, by name. */
  readonly index: Map<string, StateInfo>;
  /** Where state `name` lives (its scope, successor, enclosing parallels). */
  info(name: string): StateInfo;
  /** Compiles a sequence of states (a parallel branch), ending in the final state `regionEnd`. */
  sequence(states: StateDef[], regionEnd?: string): Record<string, StateConfig>;
}

/** The compensation sub-machine's id: every failure that no catch takes goes there. */
export const COMPENSATING_ID = `${FINAL.failed}-compensating`;

/** The id of the final state that ends a parallel branch's sequence. */
export function regionEndId(scope: string): string {
  return `$end-${scope.replace('/', '-')}`;
}

/** Where a state goes when it completes, with the action that finishes its sequence if it is the last. */
export function onComplete<E extends AnyEvent>(ctx: CompileContext, name: string, extra: Array<RouteAction<E>> = []): Route<E> {
  const info = ctx.info(name);
  // A state that goes to itself must be re-entered (xstate's default keeps it, running no entry).
  if (info.successor) return { target: `#${info.successor}`, actions: extra, ...(info.successor === name ? { reenter: true } : {}) };
  if (info.scope === '') {
    return { target: `#${FINAL.succeeded}`, actions: [...extra, assignOnAny({ output: ({ context }: Args<AnyEvent>) => context.data[''] })] };
  }
  return { target: `#${regionEndId(info.scope)}`, actions: extra };
}
