/**
 * Evidence that a claimed step ran before: the same attempt has a StepStarted (or
 * CompensationStarted) in the history and no result, because the process that ran it died or lost
 * its lease before its result was committed. The claim's StepStarted then says so in `data.rerun`,
 * so the history explains its second StepStarted for one attempt.
 */
import { HistoryEventType, type HistoryEvent } from '../core/events.js';
import type { Store, WorkItem } from '../core/store.js';
import type { Rerun } from './inputs.js';
import type { Logger } from './logger.js';
import { refKey } from '../core/work-ref.js';
import { readWholeHistory } from '../core/history-read.js';

/** Work for a definition version this process lacks is handed back, due again after this. */
export const HAND_BACK_DELAY_MS = 60_000;

/**
 * Whether a claimed row can have been started before, which only the history can settle. On an
 * exclusive store (SQLite) only a previous process can have started it, so only rows due before
 * this one could hand them over can be: due before start-up, or handed back by a process that
 * lacked the version (due a minute later). On a shared store a lease can lapse at any time.
 */
export function mayHaveRunBefore(work: WorkItem, store: { exclusive: boolean; startedAt: number }): boolean {
  if (work.kind === 'timer') return false;
  return !store.exclusive || work.dueAt < store.startedAt + HAND_BACK_DELAY_MS;
}

/**
 * For each claimed row, the attempt's last started event if no result followed it. A result
 * consumes the row and a retry schedules the next attempt, so while a row of attempt N exists,
 * every started event of attempt N is one without a result.
 */
export function previousRunsIn(events: HistoryEvent[], claims: WorkItem[], reason: Rerun['reason']): Map<string, Rerun> {
  const wanted = new Map(claims.map((w) => [`${w.kind}\u0000${w.key}\u0000${w.attempt}`, refKey(w)]));
  const found = new Map<string, Rerun>();
  for (const e of events) {
    const kind = e.type === HistoryEventType.StepStarted ? 'task' : e.type === HistoryEventType.CompensationStarted ? 'compensation' : undefined;
    if (!kind) continue;
    const k = wanted.get(`${kind}\u0000${String(e.data?.key)}\u0000${e.attempt}`);
    if (k !== undefined) found.set(k, { previousWorker: String(e.data?.worker ?? 'unknown'), reason });
  }
  return found;
}

/**
 * Reads the history of each execution with a claim that may be a rerun (one read per execution)
 * and returns the reruns by work key. Best effort: the annotation must not hold up the step, so
 * a failed read is logged and its claims go without it.
 */
export async function findPreviousRuns(
  store: Store, claims: WorkItem[], reason: Rerun['reason'], log: Logger,
): Promise<Map<string, Rerun>> {
  const byExecution = new Map<string, WorkItem[]>();
  for (const w of claims) byExecution.set(w.executionId, [...(byExecution.get(w.executionId) ?? []), w]);
  const found = new Map<string, Rerun>();
  await Promise.all([...byExecution].map(async ([id, rows]) => {
    try {
      for (const [k, rerun] of previousRunsIn(await readWholeHistory(store, id), rows, reason)) found.set(k, rerun);
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error), executionId: id }, 'could not read the history to tell a rerun; its StepStarted goes without data.rerun');
    }
  }));
  return found;
}

