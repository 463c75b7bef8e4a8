import type { StateDef } from './definition.js';

/**
 * Where each state lives. The root sequence is scope ''; branch i of parallel P is scope 'P/i'.
 * Each scope has its own data in the machine's context, and jumps (choice, catch, next) stay
 * inside their scope.
 */
export interface StateInfo {
  state: StateDef;
  scope: string;
  /** The states of the same sequence, in declaration order. */
  sequence: StateDef[];
  /** The parallel states enclosing this one, innermost first. */
  enclosing: string[];
  /** The state that follows when this one completes, or undefined at the end of its sequence. */
  successor?: string;
}

export function indexStates(root: StateDef[]): Map<string, StateInfo> {
  const index = new Map<string, StateInfo>();
  const walk = (sequence: StateDef[], scope: string, enclosing: string[]) => {
    sequence.forEach((state, i) => {
      const explicit = 'next' in state ? state.next : undefined;
      const ends = 'end' in state && state.end;
      const successor = explicit ?? (ends ? undefined : sequence[i + 1]?.name);
      if (!index.has(state.name)) index.set(state.name, { state, scope, sequence, enclosing, successor });
      if (state.type === 'parallel') {
        state.branches.forEach((branch, b) => walk(branch, branchScope(state.name, b), [state.name, ...enclosing]));
      }
    });
  };
  walk(root, '', []);
  return index;
}

export function branchScope(parallel: string, branch: number): string {
  return `${parallel}/${branch}`;
}

/** The names a state can go to next (successor, choice targets, catch targets). */
export function targetsOf(info: StateInfo): string[] {
  const s = info.state;
  const out: string[] = [];
  switch (s.type) {
    case 'choice':
      out.push(...s.choices.map((c) => c.next), s.default);
      break;
    case 'succeed':
    case 'fail':
      break;
    default:
      if (info.successor) out.push(info.successor);
  }
  if ('catch' in s) out.push(...s.catch.map((c) => c.next));
  return out.filter((t): t is string => typeof t === 'string');
}
