/**
 * What the step loop passes around: the inputs that wait for a commit, what the engine keeps in
 * memory per execution, and a draft (one execution's share of a group commit).
 */
import type { ExecutionStatus } from '../core/status.js';
import type { ExecutionCommit, ExecutionSummary, NewWork, WorkItem, WorkRef } from '../core/store.js';
import type { Workflow } from '../dsl/workflow.js';
import type { Snapshot } from './decide.js';
import type { HandlerOutcome } from './handler-runner.js';

export type Input =
  /** `done` resolves with the new execution, or undefined when the id was taken. */
  | { kind: 'create'; wf: Workflow; input: unknown; done: Deferred<ExecutionSummary | undefined> }
  | { kind: 'claimed'; work: WorkItem }
  | { kind: 'result'; work: WorkItem; outcome: HandlerOutcome; leaseLost?: boolean }
  | { kind: 'timer'; work: WorkItem }
  | { kind: 'cancel'; done: Deferred<void> };

export interface Running {
  work: WorkItem;
  abort: AbortController;
  /** Set when the result must not be applied: the engine is handing the work back, or the step was left. */
  discard?: boolean;
  leaseLost?: boolean;
}

/** What the engine holds in memory for an execution while it has work in flight here. */
export interface Live {
  id: string;
  wf: Workflow;
  snapshot: Snapshot;
  lastSeq: number;
  status: ExecutionStatus;
}

/** One execution's share of a group commit, built from its inputs on top of its live state. */
export interface Draft {
  live: Live;
  inputs: Input[];
  commit: ExecutionCommit;
  snapshot: Snapshot;
  schedule: Map<string, NewWork>;
  drop: Map<string, WorkRef>;
  launches: Map<string, WorkItem>;
  aborts: string[];
  /** Earliest due time of work scheduled for later, to set the wake timer. */
  wakeAt?: number;
  backlog: boolean;
  /** The start whose input this draft's create commit writes (other starts of the id read it back). */
  creator?: Input;
}

/** The summary of an execution as its creating commit wrote it, without reading it back. */
export function summaryOf(draft: Draft): ExecutionSummary {
  const c = draft.commit;
  const summary: ExecutionSummary = {
    id: c.executionId, workflow: c.create!.workflow, version: c.create!.version, status: c.status,
    input: c.create!.input, startedAt: c.create!.startedAt,
  };
  if (c.output !== undefined) summary.output = c.output;
  if (c.error) summary.error = c.error;
  if (c.endedAt !== undefined) summary.endedAt = c.endedAt;
  return summary;
}

export function refKey(ref: WorkRef): string {
  return `${ref.executionId}\u0000${ref.kind}\u0000${ref.key}`;
}

export function toRef(w: WorkRef): WorkRef {
  return { executionId: w.executionId, kind: w.kind, key: w.key };
}

export function withIndex(data: Record<string, unknown>, index: number | undefined): Record<string, unknown> {
  return index === undefined ? data : { ...data, index };
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}


/** True when a draft has nothing to write: its inputs only settle (a repeated start, a late result). */
export function isEmptyDraft(draft: Draft): boolean {
  return draft.commit.events.length === 0 && draft.drop.size === 0 && (draft.commit.consume?.length ?? 0) === 0;
}

