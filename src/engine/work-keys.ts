import type { WorkRef } from '../core/store.js';

/** The engine's map key for one work row: at most one row exists per (execution, kind, key). */
export function refKey(ref: WorkRef): string {
  return `${ref.executionId}\u0000${ref.kind}\u0000${ref.key}`;
}

/** Just the identity of a row, without its attempt, due time or lease. */
export function toRef(w: WorkRef): WorkRef {
  return { executionId: w.executionId, kind: w.kind, key: w.key };
}
