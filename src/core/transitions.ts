/**
 * State transitions, counted from history events the way AWS Step Functions bills them: once each
 * time a state is entered, retries included. Here that is each task attempt (StepStarted), each
 * other state entered (StateEntered: choice, pass, parallel, map, succeed, fail), each wait state
 * (TimerStarted) and each compensation attempt (CompensationStarted). A crash re-run of the same
 * attempt (StepStarted with `data.rerun`) is the engine's doing, not the workflow's: not a new
 * transition. In core because usage reports, daily budgets and the engine's per-execution budget
 * (docs/observability.md) must all count the same way.
 */
import { HistoryEventType } from './events.js';

/**
 * Counts state transitions in events given in history order. A waitForEvent state writes
 * StateEntered and then, for its timeout, TimerStarted of the same step: one state entered, one
 * transition. `state` carries the last StateEntered's step across calls, for a history read in pages.
 */
export function countTransitions(events: readonly { type: string; step?: string; data?: Record<string, unknown> }[], state: { entered?: string } = {}): number {
  let n = 0;
  for (const e of events) {
    switch (e.type) {
      case HistoryEventType.StateEntered: n++; state.entered = e.step; break;
      case HistoryEventType.TimerStarted: if (state.entered !== e.step) n++; state.entered = undefined; break;
      case HistoryEventType.StepStarted:
      case HistoryEventType.CompensationStarted: if (e.data?.rerun === undefined) n++; state.entered = undefined; break;
      default: break;
    }
  }
  return n;
}
