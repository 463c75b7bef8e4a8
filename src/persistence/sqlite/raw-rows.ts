/**
 * Rows of the SQLite store's hottest reads, taken as arrays (better-sqlite3's `raw` mode) rather
 * than one object per row: a timer burst claims and reads thousands of rows a second, and the
 * object cost ~1.2 µs of a 4–6 µs row (measured on 10,000 claims and 2,000 reads). The column
 * lists fix each array's order; the converters give what toWork and toStepState (rows.ts, the
 * PostgreSQL store's) give. Every read of `work` in the SQLite store goes through workFromTuple.
 */
import type { ExecutionStatus } from '../../core/status.js';
import type { StepState, WorkItem, WorkKind } from '../../core/store.js';

/** Every column of `work`, in the order workFromTuple reads them. */
export const WORK_COLUMNS = 'execution_id, kind, key, attempt, due_at, lease_owner, lease_until, queue, token_hash, deadline, heartbeat_ms';

export function workFromTuple(t: unknown[]): WorkItem {
  const item: WorkItem = { executionId: t[0] as string, kind: t[1] as WorkKind, key: t[2] as string, attempt: t[3] as number, dueAt: t[4] as number };
  if (t[5] !== null) item.leaseOwner = t[5] as string;
  if (t[6] !== null) item.leaseUntil = t[6] as number;
  if (t[7] !== null) item.queue = t[7] as string;
  if (t[8] !== null) item.tokenHash = t[8] as string;
  if (t[9] !== null) item.deadline = Number(t[9]);
  if (t[10] !== null) item.heartbeatMs = Number(t[10]);
  return item;
}

/** A row of STEP_STATE_COLUMNS (rows.ts): id, workflow, version, status, snapshot, last_seq, parent_id, parent_key, parent_attempt, trace, input. */
export function stepStateFromTuple(t: unknown[]): StepState {
  const state: StepState = {
    id: t[0] as string, workflow: t[1] as string, version: t[2] as string, status: t[3] as ExecutionStatus,
    snapshot: JSON.parse(t[4] as string), lastSeq: t[5] as number,
  };
  if (t[10] !== null) state.input = JSON.parse(t[10] as string);
  if (t[6] !== null && t[7] !== null && t[8] !== null) state.parent = { id: t[6] as string, key: t[7] as string, attempt: t[8] as number };
  if (t[9] !== null) state.trace = t[9] as string;
  return state;
}
