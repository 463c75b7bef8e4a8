/**
 * The last part of the pure draft step (draft-step.ts): from the bench the inputs were applied
 * to, the commit to write and the Draft the commit loop applies after it lands.
 */
import { HistoryEventType } from '../core/events.js';
import { StepErrorCodes } from '../core/errors.js';
import { ExecutionStatus, isTerminalStatus } from '../core/status.js';
import type { ExecutionCommit } from '../core/store.js';
import { encodeTrace } from '../core/trace-context.js';
import { refKey } from '../core/work-ref.js';
import { outcomeOf, persist, type Outcome } from './decide.js';
import { wakeBy, type Bench } from './draft-commands.js';
import type { Draft, Live, Settlement } from './draft.js';
import { keyedWaits, waitsChange } from './event-waits.js';
import { chargeTransitions } from './execution-budget.js';
import type { CreateInput, Input } from './inputs.js';

/** What finishing needs of the callers the inputs brought: the creator, and their settlements. */
export interface DraftCallers {
  readonly creator: CreateInput | undefined;
  list(commit: ExecutionCommit | undefined): Settlement[];
}

/** The keyed waits of an execution in this status (none once it has ended). */
function waitsOf(wf: Live['wf'], status: ExecutionStatus, snapshot: Live['snapshot']) {
  return isTerminalStatus(status) ? [] : keyedWaits(wf, snapshot);
}

/**
 * Turns a bench whose inputs were all applied into the Draft: the commit to write (events,
 * snapshot, work rows, the create, queue, keyed-wait, child and end records) and what the engine
 * does once it lands (launches, reservations, settlements, the next wake-up).
 */
export function finishDraft(bench: Bench, inputs: Input[], callers: DraftCallers): Draft {
  const { base, env } = bench;
  const draft: Draft = {
    base, inputs, commit: undefined, snapshot: bench.snapshot, launches: [], reserve: [], release: bench.release,
    unhold: [], aborts: [], settle: [], backlog: false, queued: [],
  };
  if (bench.events.length === 0 && bench.drop.size === 0 && bench.consume.length === 0) {
    draft.settle = callers.list(undefined);
    return draft;
  }
  const transitions = chargeTransitions(bench); // may fail the execution: a new snapshot
  const snapshot = bench.snapshot;
  draft.snapshot = snapshot;
  const outcome: Outcome = bench.endedUnbegun
    ? { status: ExecutionStatus.CANCELLED, error: { code: StepErrorCodes.Cancelled, message: 'the execution was cancelled before it began' } }
    : bench.concurrencyScopes ? { status: ExecutionStatus.QUEUED } : outcomeOf(snapshot!);
  const commit: ExecutionCommit = {
    executionId: base.id, expectedSeq: base.lastSeq, events: bench.events,
    snapshot: snapshot ? (transitions === undefined ? persist(snapshot) : { ...persist(snapshot), transitions }) : null, status: outcome.status,
    consume: bench.consume, schedule: [...bench.schedule.values()], drop: [...bench.drop.values()],
  };
  if (bench.spawn.length > 0) commit.spawn = bench.spawn;
  if (bench.stopKeys.size > 0) {
    commit.stopChildren = { keys: [...bench.stopKeys], dueAt: env.now };
    wakeBy(bench, bench.env.now);
  }
  if (callers.creator) {
    const { wf } = base;
    commit.create = { workflow: wf.name, version: wf.version, input: callers.creator.input, startedAt: env.now };
    if (callers.creator.trace) commit.create.trace = encodeTrace(callers.creator.trace);
  }
  if (bench.concurrencyScopes) commit.enqueue = { scopes: bench.concurrencyScopes, dueAt: env.now };
  const waits = waitsChange(waitsOf(base.wf, base.status, base.snapshot), waitsOf(base.wf, outcome.status, snapshot));
  if (waits) {
    commit.eventWaits = { waits: waits.waits, now: env.now };
    // Entering a keyed wait may deliver kept events ('event' rows due now): look for them.
    if (waits.entered) wakeBy(bench, bench.env.now);
  }
  if (bench.reopened && (outcome.status === ExecutionStatus.RUNNING || outcome.status === ExecutionStatus.QUEUED)) commit.reopen = true;
  if (isTerminalStatus(outcome.status) && (!isTerminalStatus(base.status) || bench.reopened)) {
    commit.endedAt = env.now;
    if (base.wf.definition.concurrency) {
      // Leaving its queues may make the next execution's start row due: look for due work now
      // (a store without a poll timer would otherwise leave it parked until something else woke it).
      commit.dequeue = { dueAt: env.now };
      wakeBy(bench, bench.env.now);
    }
    if (base.parent) {
      // A child's end reaches its parent in this same commit: the parent's `child` row comes due.
      commit.wake = { ...base.parent, dueAt: env.now };
      wakeBy(bench, bench.env.now);
    }
    if (outcome.output !== undefined) commit.output = outcome.output;
    if (outcome.error) commit.error = outcome.error;
    const failures = snapshot?.context.compensationFailures ?? [];
    bench.events.push({
      type: outcome.status === ExecutionStatus.SUCCEEDED ? HistoryEventType.ExecutionSucceeded
        : outcome.status === ExecutionStatus.CANCELLED ? HistoryEventType.ExecutionCancelled : HistoryEventType.ExecutionFailed,
      timestamp: env.now,
      data: outcome.status === ExecutionStatus.SUCCEEDED ? { output: outcome.output }
        : { error: outcome.error, ...(failures.length > 0 ? { compensationFailures: failures } : {}) },
    });
  }
  draft.commit = commit;
  if (transitions !== undefined) draft.transitions = transitions;
  for (const [k, planned] of bench.launches) {
    draft.launches.push(planned.work);
    if (!planned.claimed) draft.reserve.push(k);
  }
  for (const c of bench.consume) draft.unhold.push(refKey(c));
  for (const k of bench.drop.keys()) draft.unhold.push(k);
  draft.aborts = bench.aborts;
  draft.settle = callers.list(commit);
  if (bench.wakeAt !== undefined) draft.wakeAt = bench.wakeAt;
  draft.backlog = bench.backlog;
  draft.queued = [...bench.queued];
  return draft;
}
