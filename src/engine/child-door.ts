/**
 * The door through which a child's end reaches its parent: a parent's `child` row the claimer
 * leased here (made due by the child's end commit, or by the invoke's timeout) is turned into a
 * `child` input carrying what the child came to, read from the store.
 */
import { StepErrorCodes } from '../core/errors.js';
import { ExecutionStatus, isTerminalStatus } from '../core/status.js';
import type { ExecutionSummary, Store, WorkItem } from '../core/store.js';
import { childIdOf } from './child-id.js';
import type { HandlerOutcome, Input } from './inputs.js';

export interface ChildDoorDeps {
  store: Store;
  deliver(executionId: string, input: Input): void;
}

/** Reads the children of due `child` rows (one batched read) and delivers each row's outcome. */
export async function deliverChildOutcomes(rows: WorkItem[], deps: ChildDoorDeps): Promise<void> {
  if (rows.length === 0) return;
  const ids = rows.map((w) => childIdOf(w.executionId, w.key, w.attempt));
  const children = await deps.store.getExecutions(ids);
  rows.forEach((work, i) => {
    const childId = ids[i];
    const child = children.get(childId);
    const ended = child !== undefined && isTerminalStatus(child.status);
    const outcome: HandlerOutcome = ended ? outcomeOf(child) : {
      ok: false,
      error: child
        ? { code: StepErrorCodes.Timeout, message: `child execution '${childId}' did not end within the invoke's timeoutMs` }
        : { code: StepErrorCodes.ChildNotStarted, message: `child execution '${childId}' does not exist` },
    };
    deps.deliver(work.executionId, { kind: 'child', work, childId, outcome, timedOut: !ended && child !== undefined });
  });
}

function outcomeOf(child: ExecutionSummary): HandlerOutcome {
  if (child.status === ExecutionStatus.SUCCEEDED) return { ok: true, output: child.output ?? null };
  if (child.status === ExecutionStatus.CANCELLED) {
    return { ok: false, error: { code: StepErrorCodes.Cancelled, message: `child execution '${child.id}' was cancelled` } };
  }
  return { ok: false, error: child.error ?? { code: StepErrorCodes.Unknown, message: `child execution '${child.id}' failed` } };
}
