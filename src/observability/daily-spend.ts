/**
 * A workflow's state transitions since a time, counted from the store: what a daily budget has
 * spent today, so that a restart does not begin the day at zero. Only reads, through the API's read
 * port (src/observability/usage-report.ts). An execution's transitions count on the day they were
 * committed (their events' timestamps), as the live counter counts them.
 */
import { countTransitions } from '../core/transitions.js';
import { forEachHistoryPage, MAX_SCANNED_EXECUTIONS, type UsageReads } from './usage-report.js';

/**
 * Transitions of `workflow`'s executions at or after `since`. Executions are listed newest first;
 * only the histories of those that could hold such an event (started since, still going, or
 * ended since) are read. Past MAX_SCANNED_EXECUTIONS listed, the sum is a lower bound
 * (`complete: false`).
 */
export async function transitionsSince(reads: UsageReads, workflow: string, since: number): Promise<{ transitions: number; complete: boolean }> {
  let transitions = 0;
  let scanned = 0;
  let cursor: string | undefined;
  do {
    const page = await reads.listExecutions({ workflow, limit: 100, ...(cursor ? { cursor } : {}) });
    for (const e of page.items) {
      if (++scanned > MAX_SCANNED_EXECUTIONS) return { transitions, complete: false };
      if (e.startedAt < since && e.endedAt !== undefined && e.endedAt < since) continue;
      // Carried across pages: a waitForEvent's StateEntered and TimerStarted are one transition.
      const state: { entered?: string } = {};
      await forEachHistoryPage(reads, e.id, (events) => {
        transitions += countTransitions(events.filter((ev) => ev.timestamp >= since), state);
      });
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return { transitions, complete: true };
}
