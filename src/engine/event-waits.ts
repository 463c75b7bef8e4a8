/**
 * Pure: which keyed waitForEvent states an execution waits in (the store's index that correlated
 * events are routed by), and whether a draft changed them. The set is read from the snapshot's
 * `eventKeys` (step key → correlation key, kept by the machine while a keyed wait is active) and
 * each state's event name, so the index is written in the very commit that enters or leaves a
 * wait, and an ended execution waits in none.
 */
import type { EventWait } from '../core/store.js';
import { parseStepKey } from '../dsl/machine-types.js';
import type { Workflow } from '../dsl/workflow.js';
import { expectsWork, type Snapshot } from './decide.js';

/** The (name, key) pairs the snapshot waits on (in states active on this visit), sorted and without repeats. */
export function keyedWaits(wf: Workflow, snapshot: Snapshot | undefined): EventWait[] {
  const keys = snapshot?.context.eventKeys;
  if (!keys) return [];
  const seen = new Map<string, EventWait>();
  for (const [stepKey, key] of Object.entries(keys as Record<string, string>)) {
    const state = wf.index.get(parseStepKey(stepKey).step)?.state;
    if (state?.type !== 'waitForEvent' || !expectsWork(snapshot, { kind: 'timer', key: stepKey })) continue;
    seen.set(`${state.event}\u0000${key}`, { name: state.event, key });
  }
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, w]) => w);
}

/**
 * The commit's `eventWaits` when the set changed from `before` to `after` (undefined when it did
 * not), and whether a wait was entered (kept events may then be delivered by the commit).
 */
export function waitsChange(before: EventWait[], after: EventWait[]): { waits: EventWait[]; entered: boolean } | undefined {
  const had = new Set(before.map((w) => `${w.name}\u0000${w.key}`));
  const entered = after.some((w) => !had.has(`${w.name}\u0000${w.key}`));
  if (!entered && before.length === after.length) return undefined;
  return { waits: after, entered };
}
