import { DefinitionError } from '../core/errors.js';
import { isValidName } from '../core/ids.js';
import type { StateDef, WorkflowDefinition } from './definition.js';
import { indexStates, targetsOf, type StateInfo } from './scopes.js';

/**
 * Checks a definition and throws a DefinitionError naming the first problem's state. Run by
 * `build()`, so a broken workflow never reaches an engine.
 */
export function validateDefinition(def: WorkflowDefinition): Map<string, StateInfo> {
  if (!isValidName(def.name ?? '')) {
    throw new DefinitionError(`workflow name '${def.name}' must start with a letter and hold only letters, digits, '_' or '-' (64 at most)`);
  }
  if (def.states.length === 0) throw new DefinitionError(`workflow '${def.name}' has no states`);

  const seen = new Set<string>();
  const compensations = new Map<string, string>();
  const visit = (sequence: StateDef[], where: string, owner?: string) => {
    // An empty parallel branch is blamed on its parallel.
    if (sequence.length === 0) throw new DefinitionError(`${where} has no states`, owner);
    for (const state of sequence) {
      if (!isValidName(state.name ?? '')) {
        throw new DefinitionError(`state name '${state.name}' must start with a letter and hold only letters, digits, '_' or '-' (64 at most)`, state.name);
      }
      if (seen.has(state.name)) throw new DefinitionError(`duplicate state name '${state.name}'`, state.name);
      seen.add(state.name);
      checkState(state);
      if ((state.type === 'task' || state.type === 'map') && state.compensation) {
        const c = state.compensation.name;
        if (!isValidName(c)) throw new DefinitionError(`state '${state.name}': compensation name '${c}' is not a valid name`, state.name);
        if (compensations.has(c)) throw new DefinitionError(`compensation '${c}' is used by both '${compensations.get(c)}' and '${state.name}'`, state.name);
        compensations.set(c, state.name);
        checkTimeout(state.name, state.compensation.timeoutMs);
        // A compensation runs in process: a saga's undo must not wait on a worker or an outside
        // answer that the compensation path has no door for (docs/handlers.md).
        const kind = (state.compensation.handler as { kind?: unknown } | undefined)?.kind;
        if (kind === 'worker' || kind === 'callback') {
          throw new DefinitionError(`state '${state.name}': compensation '${c}' must be an in-process function, not a ${kind}() handler`, state.name);
        }
      }
      if (state.type === 'parallel') state.branches.forEach((b, i) => visit(b, `branch ${i + 1} of parallel '${state.name}'`, state.name));
    }
  };
  visit(def.states, `workflow '${def.name}'`);
  for (const [c, owner] of compensations) {
    if (seen.has(c)) throw new DefinitionError(`compensation '${c}' of '${owner}' has the name of a state`, owner);
  }

  const index = indexStates(def.states);
  for (const info of index.values()) {
    for (const target of targetsOf(info)) {
      const t = index.get(target);
      if (!t) throw new DefinitionError(`state '${info.state.name}' goes to unknown state '${target}'`, info.state.name);
      if (t.scope !== info.scope) {
        throw new DefinitionError(`state '${info.state.name}' goes to '${target}', which is outside its ${info.scope ? 'parallel branch' : 'sequence'}`, info.state.name);
      }
    }
  }
  checkReachable(index);
  checkEventlessLoops(index);
  return index;
}

/**
 * Choice states move on at once and never change the data, so a loop made only of choices would
 * spin forever once taken; so would a pass that goes to itself. (A loop through a pass that
 * changes the data may end; the machine stops one that runs 10,000 times without waiting.)
 */
function checkEventlessLoops(index: Map<string, StateInfo>): void {
  for (const info of index.values()) {
    if (info.state.type === 'pass' && info.successor === info.state.name) {
      throw new DefinitionError(`pass '${info.state.name}' goes to itself and would loop forever`, info.state.name);
    }
  }
  const isChoice = (name: string) => index.get(name)?.state.type === 'choice';
  const done = new Set<string>();
  const visit = (name: string, path: string[]) => {
    const at = path.indexOf(name);
    if (at !== -1) {
      const loop = [...path.slice(at), name];
      throw new DefinitionError(`choice states ${loop.map((n) => `'${n}'`).join(' -> ')} loop forever (nothing between them changes the data or waits)`, name);
    }
    if (done.has(name)) return;
    for (const t of targetsOf(index.get(name)!)) if (isChoice(t)) visit(t, [...path, name]);
    done.add(name);
  };
  for (const name of index.keys()) if (isChoice(name)) visit(name, []);
}

function checkState(state: StateDef): void {
  const name = state.name;
  switch (state.type) {
    case 'task':
      if (typeof state.handler !== 'function') throw new DefinitionError(`task '${name}' has no handler`, name);
      checkTimeout(name, state.timeoutMs);
      break;
    case 'map':
      if (typeof state.itemsPath !== 'string' || state.itemsPath.length === 0) throw new DefinitionError(`map '${name}' has no itemsPath`, name);
      if (typeof state.handler !== 'function') throw new DefinitionError(`map '${name}' has no handler`, name);
      if (!Number.isInteger(state.concurrency) || state.concurrency < 1) throw new DefinitionError(`map '${name}': concurrency must be an integer >= 1`, name);
      checkTimeout(name, state.timeoutMs);
      break;
    case 'choice':
      if (!Array.isArray(state.choices) || state.choices.length === 0) throw new DefinitionError(`choice '${name}' has no choices`, name);
      state.choices.forEach((c, i) => {
        if (typeof c.when !== 'function') throw new DefinitionError(`choice '${name}': rule ${i + 1} has no 'when' function`, name);
      });
      if (typeof state.default !== 'string') throw new DefinitionError(`choice '${name}' has no default`, name);
      break;
    case 'parallel':
      if (!Array.isArray(state.branches) || state.branches.length === 0) throw new DefinitionError(`parallel '${name}' has no branches`, name);
      break;
    case 'wait': {
      const hasDuration = state.durationMs !== undefined;
      const hasUntil = state.until !== undefined;
      if (hasDuration === hasUntil) throw new DefinitionError(`wait '${name}' needs exactly one of durationMs or until`, name);
      if (typeof state.durationMs === 'number' && !(state.durationMs >= 0)) throw new DefinitionError(`wait '${name}': durationMs must be >= 0`, name);
      break;
    }
    case 'waitForEvent': {
      if (typeof state.event !== 'string' || !EVENT_NAME.test(state.event)) {
        throw new DefinitionError(`waitForEvent '${name}': event must be 1-128 letters, digits, '_', '-', '.' or ':' (got ${JSON.stringify(state.event)})`, name);
      }
      if (state.timeoutMs !== undefined && state.until !== undefined) throw new DefinitionError(`waitForEvent '${name}' takes timeoutMs or until, not both`, name);
      if (typeof state.timeoutMs === 'number' && !(state.timeoutMs > 0)) throw new DefinitionError(`waitForEvent '${name}': timeoutMs must be > 0`, name);
      if (state.timeoutMs !== undefined && typeof state.timeoutMs !== 'number' && typeof state.timeoutMs !== 'function') {
        throw new DefinitionError(`waitForEvent '${name}': timeoutMs must be a number or a function of the data`, name);
      }
      if (state.until !== undefined && typeof state.until !== 'function') throw new DefinitionError(`waitForEvent '${name}': until must be a function of the data`, name);
      if (state.key !== undefined && typeof state.key !== 'function') throw new DefinitionError(`waitForEvent '${name}': key must be a function of the data`, name);
      break;
    }
    case 'fail':
      if (typeof state.error !== 'string' || state.error.length === 0) throw new DefinitionError(`fail '${name}' has no error code`, name);
      break;
    default:
      break;
  }
  if ('catch' in state) {
    state.catch.forEach((rule, i) => {
      if (!Array.isArray(rule.errors) || rule.errors.length === 0) throw new DefinitionError(`state '${name}': catch rule ${i + 1} matches no errors`, name);
      if (typeof rule.next !== 'string') throw new DefinitionError(`state '${name}': catch rule ${i + 1} has no next`, name);
    });
  }
}

/** What an event's name may hold (also checked by the HTTP routes). */
export const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

function checkTimeout(name: string, timeoutMs: number): void {
  if (!(timeoutMs > 0)) throw new DefinitionError(`state '${name}': timeoutMs must be > 0`, name);
}

/** Every state must be reachable from the first state of its sequence. */
function checkReachable(index: Map<string, StateInfo>): void {
  const reached = new Set<string>();
  const firsts = new Set<string>();
  for (const info of index.values()) firsts.add(info.sequence[0].name);
  const queue = [...firsts];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (reached.has(name)) continue;
    reached.add(name);
    for (const t of targetsOf(index.get(name)!)) queue.push(t);
  }
  for (const name of index.keys()) {
    if (!reached.has(name)) throw new DefinitionError(`state '${name}' is unreachable (no state goes to it)`, name);
  }
}
