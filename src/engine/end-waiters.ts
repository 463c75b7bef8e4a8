import type { StepError } from '../core/errors.js';
import { isTerminalStatus } from '../core/status.js';
import type { ExecutionCommit, ExecutionSummary } from '../core/store.js';

/** How an execution ended, as the commit here that ended it wrote it. */
export interface EndedHere {
  status: ExecutionSummary['status'];
  output?: unknown;
  error?: StepError;
  endedAt: number;
}

/** One registered wait: resolves with the end when a commit here ends the execution, undefined after its time. */
export interface EndWatch {
  ended: Promise<EndedHere | undefined>;
  /** The caller has what it waited for: forget the wait and its timer. */
  cancel(): void;
}

/**
 * Callers of waitForEnd, woken when a commit here ends their execution, with the end that commit
 * wrote (so the caller need not read the execution back). A wait also ends after its time, and
 * its caller reads the store again: the end may be committed by another process.
 */
export class EndWaiters {
  private readonly waiters = new Map<string, Set<(end: EndedHere | undefined) => void>>();

  /** Registers a wait for `id`, for at most `ms`. Register before reading the execution, so an end committed meanwhile is not missed. */
  watch(id: string, ms: number): EndWatch {
    let wake!: (end: EndedHere | undefined) => void;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ended = new Promise<EndedHere | undefined>((resolve) => {
      wake = (end) => {
        clearTimeout(timer);
        this.forget(id, wake);
        resolve(end);
      };
    });
    timer = setTimeout(() => wake(undefined), ms);
    const set = this.waiters.get(id);
    if (set) set.add(wake);
    else this.waiters.set(id, new Set([wake]));
    return { ended, cancel: () => wake(undefined) };
  }

  /** A commit here landed for `id` with a terminal status: every wait on it hears how it ended. */
  ended(id: string, commit: ExecutionCommit): void {
    const set = this.waiters.get(id);
    if (!set) return;
    this.waiters.delete(id);
    // Only a commit that wrote the end (endedAt) is what a read would now return; else read.
    const end: EndedHere | undefined = commit.endedAt !== undefined && isTerminalStatus(commit.status)
      ? {
        status: commit.status, endedAt: commit.endedAt,
        // As the store keeps them (JSON text): a read would return this, not the object itself.
        ...(commit.output !== undefined ? { output: JSON.parse(JSON.stringify(commit.output)) as unknown } : {}),
        ...(commit.error ? { error: JSON.parse(JSON.stringify(commit.error)) as StepError } : {}),
      }
      : undefined;
    for (const wake of set) wake(end);
  }

  private forget(id: string, wake: (end: EndedHere | undefined) => void): void {
    const set = this.waiters.get(id);
    if (!set) return;
    set.delete(wake);
    if (set.size === 0) this.waiters.delete(id);
  }
}

/** The execution as read before it ended, with the end a commit here wrote: what a read now returns. */
export function withEnd(before: ExecutionSummary, end: EndedHere): ExecutionSummary {
  const summary: ExecutionSummary = {
    id: before.id, workflow: before.workflow, version: before.version, status: end.status, input: before.input, startedAt: before.startedAt,
  };
  if (end.output !== undefined) summary.output = end.output;
  if (end.error !== undefined) summary.error = end.error;
  summary.endedAt = end.endedAt;
  if (before.parentId !== undefined) summary.parentId = before.parentId;
  return summary;
}
