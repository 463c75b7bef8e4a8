/**
 * A workflow's budget per execution (`workflow(name, { budget: { maxTransitions } })`), enforced
 * by the draft step. Pure, like the rest of it.
 *
 * The count is the execution's state transitions as usage counts them (src/core/transitions.ts),
 * folded draft by draft from the events the engine writes, and kept beside the machine snapshot
 * (`transitions` in the stored snapshot) so that a restart or another process picks it up where it
 * was. It is a function of the history alone, like the snapshot. The decision to stop is recorded
 * as a history event (BudgetExceeded) that the machine consumes like a cancel, so a replay of the
 * history takes the same path whatever budget is registered when it runs.
 */
import { StepErrorCodes, type StepError } from '../core/errors.js';
import { HistoryEventType, type NewHistoryEvent } from '../core/events.js';
import { countTransitions } from '../core/transitions.js';
import { decide } from './decide.js';
import { applyDecision, type Bench } from './draft-commands.js';

/**
 * The execution's count once this draft lands, or undefined when its workflow has no budget.
 * When the draft takes a running execution past its budget, the draft also fails it: it records
 * BudgetExceeded and hands BUDGET_EXCEEDED to the machine, which leaves the states it is in (the
 * steps this draft would have started do not start: their StepStarted events go) and compensates.
 * The check runs once per draft, after all its inputs: states entered without waiting on the way
 * (choice, pass) stay counted, so the count at the failure can end a little past the budget.
 */
export function chargeTransitions(bench: Bench): number | undefined {
  const max = bench.base.wf.definition.budget?.maxTransitions;
  if (max === undefined) return undefined;
  const before = bench.base.transitions ?? 0;
  const after = before + countTransitions(bench.events);
  const snapshot = bench.snapshot;
  if (after <= max || snapshot === undefined || !snapshot.matches('run')) return after;
  const error: StepError = {
    code: StepErrorCodes.BudgetExceeded,
    message: `the execution went past its budget of ${max} state transitions`,
  };
  const event: NewHistoryEvent & { data: Record<string, unknown> } = {
    type: HistoryEventType.BudgetExceeded, timestamp: bench.env.now, data: { maxTransitions: max, transitions: 0, error },
  };
  bench.events.push(event);
  applyDecision(bench, decide(bench.base.wf, snapshot, { type: 'BUDGET_EXCEEDED', error }));
  // What the history holds before the event, once the steps that did not start have gone.
  event.data.transitions = before + countTransitions(bench.events.slice(0, bench.events.indexOf(event)));
  return before + countTransitions(bench.events);
}

/** The count kept in a stored snapshot (absent from snapshots written without a budget). */
export function storedTransitions(snapshot: unknown): number | undefined {
  const n = (snapshot as { transitions?: unknown } | null)?.transitions;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
