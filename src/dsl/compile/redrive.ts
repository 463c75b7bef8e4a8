import type { WorkflowContext } from '../machine-types.js';
import { FINAL } from '../machine-types.js';
import type { StateInfo } from '../scopes.js';
import { assign, type Route, type StateConfig } from './machine-setup.js';

/**
 * The FAILED end. It is not a final state (the engine reads FAILED from `matches('$failed')`), so
 * a REDRIVE can leave it: back to the state whose failure ended the execution (`failedAt`), with
 * the data it had there. The state's visit count is taken back by one so its re-entry keeps the
 * step key, and so the idempotency key, of the run that failed (not for an invoke state, whose
 * re-entry must start a new child). A state inside a parallel
 * re-enters its outermost parallel (xstate enters a region only from its start). The engine
 * refuses a REDRIVE when compensations ran; the machine takes it only with a `failedAt`.
 */
export function compileFailedEnd(index: Map<string, StateInfo>): StateConfig {
  const routes: Route[] = [];
  for (const [name, info] of index) {
    const target = info.enclosing.length > 0 ? info.enclosing[info.enclosing.length - 1]! : name;
    // An invoke state keeps its visit: its re-entry gets the next step key, so it starts a new
    // child (the child's id derives from the key) instead of waiting on the one that failed.
    const newChild = index.get(target)?.state.type === 'task' && (index.get(target)!.state as { invoke?: unknown }).invoke !== undefined;
    routes.push({
      guard: ({ context }) => context.failedAt === name,
      target: `#${target}`,
      actions: [assign(({ context }) => redriven(context, target, newChild))],
    });
  }
  return { id: FINAL.failed, on: { REDRIVE: routes } };
}

function redriven(c: WorkflowContext, target: string, newChild: boolean): Partial<WorkflowContext> {
  const visits = newChild ? c.visits : { ...c.visits, [target]: Math.max(0, (c.visits[target] ?? 1) - 1) };
  return { visits, error: null, failedAt: null, held: false, caught: null, spins: 0, faults: {}, redrives: (c.redrives ?? 0) + 1 };
}

/** Whether a failed execution can be redriven, and if not, why (the engine turns it into an error). */
export function redriveBlocker(c: WorkflowContext): 'compensated' | 'no-state' | undefined {
  if (c.compensated) return 'compensated';
  if (!c.failedAt) return 'no-state';
  return undefined;
}
