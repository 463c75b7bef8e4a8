/** Reads of executions and their history for the public API, with the checks its callers need. */
import { StepwiseError } from '../core/errors.js';
import type { HistoryEvent } from '../core/events.js';
import { HISTORY_LIMIT, LIST_LIMIT } from '../core/limits.js';
import { EXECUTION_STATUSES, type ExecutionStatus } from '../core/status.js';
import type { ExecutionSummary, Store } from '../core/store.js';

export interface ListRequest {
  workflow?: string;
  status?: string;
  limit?: number;
  cursor?: string;
}

export interface HistoryRequest {
  /** The previous page's `nextCursor` (a sequence number). */
  after?: string;
  limit?: number;
}

export async function readExecution(store: Store, id: string): Promise<ExecutionSummary> {
  const stored = await store.getExecution(id);
  if (!stored) throw notFound(id);
  const { snapshot: _snapshot, lastSeq: _lastSeq, ...summary } = stored;
  return summary;
}

export async function listExecutions(store: Store, query: ListRequest): Promise<{ items: ExecutionSummary[]; nextCursor?: string }> {
  if (query.status !== undefined && !EXECUTION_STATUSES.includes(query.status as ExecutionStatus)) {
    throw new StepwiseError('VALIDATION_FAILED', `status must be one of ${EXECUTION_STATUSES.join(', ')}`, { field: 'status' });
  }
  const limit = checkedLimit(query.limit, LIST_LIMIT);
  return store.listExecutions({ workflow: query.workflow, status: query.status as ExecutionStatus | undefined, limit, cursor: query.cursor });
}

export async function readHistoryPage(store: Store, id: string, query: HistoryRequest): Promise<{ events: HistoryEvent[]; nextCursor?: string }> {
  const limit = checkedLimit(query.limit, HISTORY_LIMIT);
  let after = 0;
  if (query.after !== undefined && query.after !== '') {
    if (!/^\d{1,15}$/.test(query.after)) throw new StepwiseError('VALIDATION_FAILED', 'after must be a cursor this server returned', { field: 'after' });
    after = Number(query.after);
  }
  const events = await store.readHistory(id, after, limit + 1);
  if (events.length === 0 && !(await store.getExecution(id))) throw notFound(id);
  const page = events.slice(0, limit);
  return events.length > limit ? { events: page, nextCursor: String(page[page.length - 1].seq) } : { events: page };
}

function checkedLimit(limit: number | undefined, bounds: { min: number; max: number; default: number }): number {
  const value = limit ?? bounds.default;
  if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw new StepwiseError('VALIDATION_FAILED', `limit must be an integer from ${bounds.min} to ${bounds.max}`, { field: 'limit' });
  }
  return value;
}

function notFound(id: string): StepwiseError {
  return new StepwiseError('EXECUTION_NOT_FOUND', `no execution has id '${id}'`, { id });
}
