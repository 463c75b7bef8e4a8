/**
 * The edges of a workflow description, shared by the graph layout (what to draw) and the status
 * derivation (whether a state's successor was reached). Pure: no DOM.
 */
import type { StateDescription } from './types.js';

export type EdgeKind = 'next' | 'choice' | 'catch';

/** One way out of a state; several routes to the same target merge into one edge with every label. */
export interface Successor {
  to: string;
  kind: EdgeKind;
  labels: string[];
}

/** The distinct targets a state can move to, in the order: next, choices, default, catch routes. */
export function successors(state: StateDescription): Successor[] {
  const out: Successor[] = [];
  const byTarget = new Map<string, Successor>();
  const add = (to: string | undefined, kind: EdgeKind, label: string) => {
    if (typeof to !== 'string' || !to) return;
    const seen = byTarget.get(to);
    if (seen) {
      if (label && !seen.labels.includes(label)) seen.labels.push(label);
      return;
    }
    const edge: Successor = { to, kind, labels: label ? [label] : [] };
    byTarget.set(to, edge);
    out.push(edge);
  };
  add(state.next, 'next', '');
  for (const c of state.choices ?? []) add(c.next, 'choice', typeof c.label === 'string' ? c.label : '');
  add(state.default, 'choice', 'default');
  for (const c of state.catch ?? []) {
    const errors = Array.isArray(c.errors) ? c.errors.join(', ') : '';
    add(c.next, 'catch', `catch${errors ? ` ${errors}` : ''}`);
  }
  return out;
}

/** Every state, top level first, then each parallel branch's states, depth first. */
export function allStates(states: readonly StateDescription[] | undefined): StateDescription[] {
  const out: StateDescription[] = [];
  const walk = (list: readonly StateDescription[]) => {
    for (const state of list) {
      if (!state || typeof state.name !== 'string') continue;
      out.push(state);
      for (const branch of state.branches ?? []) walk(Array.isArray(branch) ? branch : []);
    }
  };
  walk(states ?? []);
  return out;
}

/** The states of a parallel state's branches (empty for any other state). */
export function branchChildren(state: StateDescription): StateDescription[] {
  const out: StateDescription[] = [];
  for (const branch of state.branches ?? []) {
    for (const child of Array.isArray(branch) ? branch : []) if (child && typeof child.name === 'string') out.push(child);
  }
  return out;
}
