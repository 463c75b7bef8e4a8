import type { WorkflowContext } from '../machine-types.js';
import { FINAL } from '../machine-types.js';
import type { StateInfo } from '../scopes.js';
import { assign, type Route, type StateConfig } from './machine-setup.js';

/**
 * The FAILED end. It is not a final state (the engine reads FAILED from `matches('$failed')`), so
 * a REDRIVE can leave it: back to the state whose failure ended the execution (`failedAt`), with
 * the data it had there. The state's visit count is taken back by one so its re-entry keeps the
 * step key, and so the idempotency key, of the run that failed. A state inside a parallel
 * re-enters its outermost parallel (xstate enters a region only from its start). The engine
 * refuses a REDRIVE when compensations ran; the machine takes it only with a `failedAt`.
 */
export function compileFailedEnd(index: Map<string, StateInfo>): StateConfig {
  const routes: Route[] = [];
  for (const [name, info] of index) {
    const target = info.enclosing.length > 0 ? info.enclosing[info.enclosing.length - 1]! : name;
    routes.push({
      guard: ({ context }) => context.failedAt === name,
      target: `#${target}`,
      actions: [assign(({ context }) => redriven(context, target))],
    });
  }
  return { id: FINAL.failed, on: { REDRIVE: routes } };
}

function redriven(c: WorkflowContext, target: string): Partial<WorkflowContext> {
  const visits = { ...c.visits, [target]: Math.max(0, (c.visits[target] ?? 1) - 1) };
  return { visits, error: null, failedAt: null, held: false, caught: null, spins: 0, faults: {}, redrives: (c.redrives ?? 0) + 1 };
}

/** Whether a failed execution can be redriven, and if not, why (the engine turns it into an error). */
export function redriveBlocker(c: WorkflowContext): 'compensated' | 'no-state' | undefined {
  if (c.compensated) return 'compensated';
  if (!c.failedAt) return 'no-state';
  return undefined;
}
