/**
 * Names for durable work rows that both the engine and the store adapters use: the list of work
 * kinds and the one string key of a work ref. They live here, in the shared core, so that neither
 * side imports the other.
 */
import type { WorkKind, WorkRef } from './store.js';

const KINDS = { task: true, timer: true, compensation: true, queued: true, outside: true, child: true, start: true, stop: true, event: true } as const satisfies Record<WorkKind, true>;

/** Every kind of durable work, in one fixed order (the type's own). */
export const WORK_KINDS: readonly WorkKind[] = Object.keys(KINDS) as WorkKind[];

/**
 * One string per work row: equal for equal refs, different otherwise (ids, kinds and keys never
 * hold NUL, which PostgreSQL text cannot store). Sorting by it sorts by execution id, then kind,
 * then key, which is also the lock order the PostgreSQL adapter uses.
 */
export function refKey(ref: WorkRef): string {
  return `${ref.executionId}\u0000${ref.kind}\u0000${ref.key}`;
}

/** The ref alone, without attempt, due time or lease. */
export function toRef(work: WorkRef): WorkRef {
  return { executionId: work.executionId, kind: work.kind, key: work.key };
}
