/**
 * The row shapes both adapters store (the same columns, JSON kept as text) and their mapping to
 * the port's types.
 */
import type { StepError } from '../core/errors.js';
import type { HistoryEvent, HistoryEventType } from '../core/events.js';
import type { ExecutionStatus } from '../core/status.js';
import type { ExecutionSummary, StepState, StoredExecution, WorkItem, WorkKind } from '../core/store.js';

export interface ExecutionRow {
  id: string; workflow: string; version: string; status: string; input: string; output: string | null;
  error: string | null; snapshot?: string; last_seq?: number; started_at: number; ended_at: number | null;
  parent_id?: string | null; parent_key?: string | null; parent_attempt?: number | null; trace?: string | null;
}
export interface HistoryRow { seq: number; type: string; ts: number; step: string | null; attempt: number | null; data: string | null }
export interface WorkRow { execution_id: string; kind: string; key: string; attempt: number; due_at: number; lease_owner: string | null; lease_until: number | null;
  queue?: string | null; token_hash?: string | null; deadline?: number | string | null; heartbeat_ms?: number | string | null }

export function toSummary(row: ExecutionRow): ExecutionSummary {
  const summary: ExecutionSummary = {
    id: row.id, workflow: row.workflow, version: row.version, status: row.status as ExecutionStatus,
    input: JSON.parse(row.input), startedAt: row.started_at,
  };
  if (row.output !== null) summary.output = JSON.parse(row.output);
  if (row.error !== null) summary.error = JSON.parse(row.error) as StepError;
  if (row.ended_at !== null) summary.endedAt = row.ended_at;
  if (row.parent_id != null) summary.parentId = row.parent_id;
  return summary;
}

/** A row read with its snapshot and last_seq. */
export function toStored(row: ExecutionRow): StoredExecution {
  const stored: StoredExecution = { ...toSummary(row), snapshot: JSON.parse(row.snapshot!), lastSeq: row.last_seq! };
  if (row.parent_id != null && row.parent_key != null && row.parent_attempt != null) {
    stored.parent = { id: row.parent_id, key: row.parent_key, attempt: row.parent_attempt };
  }
  if (row.trace != null) stored.trace = row.trace;
  return stored;
}

/** The columns both adapters read for Store.getStepStates (input only while there is no snapshot). */
export const STEP_STATE_COLUMNS =
  "id, workflow, version, status, snapshot, last_seq, parent_id, parent_key, parent_attempt, trace, CASE WHEN snapshot = 'null' THEN input END AS input";
export interface StepStateRow {
  id: string; workflow: string; version: string; status: string; snapshot: string; last_seq: number;
  parent_id: string | null; parent_key: string | null; parent_attempt: number | null; trace: string | null; input: string | null;
}

export function toStepState(row: StepStateRow): StepState {
  const state: StepState = {
    id: row.id, workflow: row.workflow, version: row.version, status: row.status as ExecutionStatus,
    snapshot: JSON.parse(row.snapshot), lastSeq: row.last_seq,
  };
  if (row.input !== null) state.input = JSON.parse(row.input);
  if (row.parent_id !== null && row.parent_key !== null && row.parent_attempt !== null) {
    state.parent = { id: row.parent_id, key: row.parent_key, attempt: row.parent_attempt };
  }
  if (row.trace !== null) state.trace = row.trace;
  return state;
}

export function toEvent(row: HistoryRow): HistoryEvent {
  const event: HistoryEvent = { seq: row.seq, type: row.type as HistoryEventType, timestamp: row.ts };
  if (row.step !== null) event.step = row.step;
  if (row.attempt !== null) event.attempt = row.attempt;
  if (row.data !== null) event.data = JSON.parse(row.data);
  return event;
}

export function toWork(row: WorkRow): WorkItem {
  const item: WorkItem = { executionId: row.execution_id, kind: row.kind as WorkKind, key: row.key, attempt: row.attempt, dueAt: row.due_at };
  if (row.lease_owner !== null) item.leaseOwner = row.lease_owner;
  if (row.lease_until !== null) item.leaseUntil = row.lease_until;
  if (row.queue != null) item.queue = row.queue;
  if (row.token_hash != null) item.tokenHash = row.token_hash;
  if (row.deadline != null) item.deadline = Number(row.deadline);
  if (row.heartbeat_ms != null) item.heartbeatMs = Number(row.heartbeat_ms);
  return item;
}

