import type { ErrorCode } from '../core/errors.js';
import type { HistoryEvent } from '../core/events.js';
import type { ExecutionStatus } from '../core/status.js';
import type { ExecutionSummary } from '../core/store.js';

/**
 * What the HTTP API needs from the engine, and nothing more. The real `Engine` (src/engine)
 * satisfies it structurally; keeping the port here lets the API compile and be read on its own.
 */
export interface WorkflowDescriptionLike {
  name: string;
  version: string;
  mermaid: string;
  machine: unknown;
  /** The input's JSON Schema, when the workflow declares one. */
  input?: unknown;
}

export interface ApiEngine {
  /** Whether the engine can still commit (GET /healthz); absent: always. */
  health?(): { ok: true } | { ok: false; code: ErrorCode; message: string };
  listWorkflows(): WorkflowDescriptionLike[];
  describeWorkflow(name: string): WorkflowDescriptionLike;
  startExecution(
    workflowName: string,
    input: unknown,
    options?: { id?: string; traceparent?: string },
  ): Promise<{ execution: ExecutionSummary; created: boolean }>;
  getExecution(id: string): Promise<ExecutionSummary>;
  listExecutions(query: {
    workflow?: string;
    status?: ExecutionStatus;
    parentId?: string;
    limit?: number;
    cursor?: string;
  }): Promise<{ items: ExecutionSummary[]; nextCursor?: string }>;
  getHistory(id: string, options: { after?: string; limit?: number }): Promise<{ events: HistoryEvent[]; nextCursor?: string }>;
  cancel(id: string): Promise<ExecutionSummary>;
  sendEvent(executionId: string, name: string, payload: unknown, options?: { id?: string }): Promise<{ id: string; created: boolean }>;
  redrive(id: string): Promise<{ execution: ExecutionSummary; count: number }>;
  publishEvent(event: { name: string; key: string; payload?: unknown; id?: string }): Promise<{
    id: string; created: boolean; deliveredTo: string[]; retainedUntil: number;
  }>;
}
