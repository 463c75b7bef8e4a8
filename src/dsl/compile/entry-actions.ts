import { StepErrorCodes } from '../../core/errors.js';
import { assign } from './machine-setup.js';

/** A run of states entered without waiting is stopped after this many (see `spin`). */
export const MAX_SPINS = 10_000;

/** Counts a visit of state `name`: a loop's second visit gets new step keys ('name#2'). */
export function visit(name: string) {
  return assign({ visits: ({ context }) => ({ ...context.visits, [name]: (context.visits[name] ?? 0) + 1 }) });
}

/**
 * Counts a state entered without waiting (choice, pass, parallel, map with nothing to run,
 * succeed, fail); a task, a map item or a real wait resets the count. A loop that never waits
 * would spin inside one transition for ever: past MAX_SPINS it fails, bypassing catch routes.
 */
export function spin(name: string) {
  return assign(({ context }) => {
    const spins = (context.spins ?? 0) + 1;
    if (spins <= MAX_SPINS) return { spins };
    const error = {
      code: StepErrorCodes.EndlessLoop,
      message: `state '${name}' was entered after ${MAX_SPINS} others in a row without a task or wait`,
      terminal: true,
    };
    return { spins, faults: { ...context.faults, [name]: error } };
  });
}
