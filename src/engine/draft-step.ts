/**
 * The draft step, pure: one execution's live state and inputs (a start, claims, results, timers,
 * a cancel), the time and the free capacity in; a Draft out, listing as data everything the
 * commit writes and everything the engine does once it lands. No I/O, no clock, nothing in memory
 * changes: the commit loop applies the draft after its commit, or drops it when the commit fails.
 */
import { HistoryEventType } from '../core/events.js';
import { ExecutionStatus, isTerminalStatus } from '../core/status.js';
import type { ExecutionCommit } from '../core/store.js';
import { parseStepKey, type WorkflowEvent } from '../dsl/machine-types.js';
import { begin, decide, expectsWork, outcomeOf, persist } from './decide.js';
import { applyDecision, withIndex, type Bench } from './draft-commands.js';
import { endedError, summaryOf, type Draft, type Live, type Settlement, type StepEnv } from './draft.js';
import type { CancelInput, CreateInput, EventInput, Input, RedriveInput, WorkInput } from './inputs.js';
import { redriveBlocker } from '../dsl/compile/redrive.js';
import { StepwiseError } from '../core/errors.js';
import { refKey, toRef } from '../core/work-ref.js';

/** Applies inputs in order on top of the live state (never changing it) and returns the draft. */
export function draftStep(base: Live, inputs: Input[], env: StepEnv): Draft {
  const bench: Bench = {
    base, env, snapshot: base.snapshot, events: [], consume: [], schedule: new Map(), drop: new Map(),
    launches: new Map(), release: [], aborts: [], free: env.freeCapacity, backlog: false,
  };
  const callers = new Callers(base.id);
  for (const input of inputs) {
    if (input.kind === 'create') {
      create(bench, input, callers);
      continue;
    }
    if (input.kind === 'redrive') {
      redrive(bench, input, callers);
      continue;
    }
    if (bench.snapshot === undefined || (isTerminalStatus(base.status) && !bench.reopened) || outcomeOf(bench.snapshot).status !== ExecutionStatus.RUNNING) {
      settleAfterEnd(bench, input, callers);
      continue;
    }
    if (input.kind !== 'cancel' && input.kind !== 'event' && (bench.drop.has(refKey(input.work)) || !expectsWork(bench.snapshot, input.work))) {
      // An earlier input of this batch made the machine leave this step (a sibling branch failed,
      // or cancel), or the machine no longer waits for it at all (a claim made after a lease
      // lapsed, for a step whose result is committed): its row is dropped, its result, claim
      // or timer not applied. A completed step never runs again.
      settleAfterEnd(bench, input, callers);
      continue;
    }
    switch (input.kind) {
      case 'claimed': claimed(bench, input); break;
      case 'result': result(bench, input); break;
      case 'timer': timer(bench, input); break;
      case 'cancel':
        bench.events.push({ type: HistoryEventType.CancelRequested, timestamp: env.now });
        applyDecision(bench, decide(base.wf, bench.snapshot, { type: 'CANCEL' }));
        callers.cancelled(input);
        break;
      case 'event': event(bench, input, callers); break;
      default:
        // A new Input kind needs its applier here (the compiler says so).
        return unknownInput(input);
    }
  }
  return finish(bench, inputs, callers);
}

function unknownInput(input: never): never {
  throw new Error(`no applier for input kind '${(input as { kind: string }).kind}'`);
}

/** The callers waiting on this draft's inputs, settled in input order once it applies. */
class Callers {
  private readonly settlements: Settlement[] = [];
  creator: CreateInput | undefined;
  private creatorSettlement: Extract<Settlement, { kind: 'created' }> | undefined;
  constructor(private readonly id: string) {}

  created(input: CreateInput, creator: boolean): void {
    const s: Settlement = { kind: 'created', input, summary: undefined };
    this.settlements.push(s);
    if (creator) this.creatorSettlement = s;
  }
  cancelled(input: CancelInput): void {
    this.settlements.push({ kind: 'cancelled', input });
  }
  refused(input: CancelInput | EventInput | RedriveInput, error: StepwiseError = endedError(this.id)): void {
    this.settlements.push({ kind: 'refused', input, error });
  }
  event(input: EventInput, outcome: 'accepted' | 'duplicate'): void {
    this.settlements.push({ kind: 'event', input, outcome });
  }
  redriven(input: RedriveInput, count: number): void {
    this.settlements.push({ kind: 'redriven', input, count });
  }
  list(commit: ExecutionCommit | undefined): Settlement[] {
    if (this.creatorSettlement && commit) this.creatorSettlement.summary = summaryOf(commit);
    return this.settlements;
  }
}

function create(bench: Bench, input: CreateInput, callers: Callers): void {
  // The id exists, or another start of it in this batch writes the create: this caller hears
  // `undefined` once the commit lands, and compares inputs by reading the execution back.
  if (bench.snapshot !== undefined || callers.creator) {
    callers.created(input, false);
    return;
  }
  const { wf } = bench.base;
  const { now } = bench.env;
  callers.creator = input;
  callers.created(input, true);
  bench.events.push({ type: HistoryEventType.ExecutionStarted, timestamp: now, data: { input: input.input, workflow: wf.name, version: wf.version } });
  applyDecision(bench, begin(wf, input.input));
}

function claimed(bench: Bench, input: Extract<Input, { kind: 'claimed' }>): void {
  const { env } = bench;
  const k = refKey(input.work);
  if (env.stopping) {
    // Claimed just before shutdown: left as it is; stop() releases the lease.
    bench.release.push(k);
    return;
  }
  // The claim's reservation of capacity passes to the launch.
  const { step, index } = parseStepKey(input.work.key);
  const rerun = input.rerun ? { rerun: input.rerun } : {};
  if (input.work.kind === 'compensation') {
    const name = bench.base.wf.step(step)?.compensation?.name ?? step;
    bench.events.push({ type: HistoryEventType.CompensationStarted, timestamp: env.now, step: name, attempt: input.work.attempt, data: { for: step, key: input.work.key, worker: env.workerId, ...rerun } });
  } else {
    bench.events.push({ type: HistoryEventType.StepStarted, timestamp: env.now, step, attempt: input.work.attempt, data: withIndex({ key: input.work.key, worker: env.workerId, ...rerun }, index) });
  }
  bench.launches.set(k, { work: input.work, claimed: true });
}

function result(bench: Bench, input: Extract<Input, { kind: 'result' }>): void {
  const { env } = bench;
  const { work, outcome } = input;
  const { step, index } = parseStepKey(work.key);
  if (input.leaseLost) {
    bench.events.push({ type: HistoryEventType.StepResultRefused, timestamp: env.now, step, attempt: work.attempt, data: { key: work.key, worker: env.workerId, reason: 'lease lost' } });
    return;
  }
  bench.consume.push({ executionId: work.executionId, kind: work.kind, key: work.key, owner: env.workerId });
  let event: WorkflowEvent;
  const { now: timestamp } = env;
  const { attempt } = work;
  if (work.kind === 'compensation') {
    const comp = bench.base.wf.step(step)?.compensation?.name ?? step;
    if (outcome.ok) {
      bench.events.push({ type: HistoryEventType.CompensationSucceeded, timestamp, step: comp, attempt, data: { for: step, key: work.key, output: outcome.output } });
      event = { type: 'COMPENSATION_SUCCEEDED', key: work.key };
    } else {
      bench.events.push({ type: HistoryEventType.CompensationFailed, timestamp, step: comp, attempt, data: { for: step, key: work.key, error: outcome.error } });
      event = { type: 'COMPENSATION_FAILED', key: work.key, error: outcome.error };
    }
  } else if (outcome.ok) {
    bench.events.push({ type: HistoryEventType.StepSucceeded, timestamp, step, attempt, data: withIndex({ key: work.key, output: outcome.output }, index) });
    event = { type: 'STEP_SUCCEEDED', key: work.key, output: outcome.output };
  } else {
    bench.events.push({ type: HistoryEventType.StepFailed, timestamp, step, attempt, data: withIndex({ key: work.key, error: outcome.error }, index) });
    event = { type: 'STEP_FAILED', key: work.key, error: outcome.error };
  }
  applyDecision(bench, decide(bench.base.wf, bench.snapshot!, event));
}

function timer(bench: Bench, input: Extract<Input, { kind: 'timer' }>): void {
  const { work } = input;
  bench.consume.push({ executionId: work.executionId, kind: work.kind, key: work.key, owner: bench.env.workerId });
  bench.events.push({ type: HistoryEventType.TimerFired, timestamp: bench.env.now, step: parseStepKey(work.key).step, data: { key: work.key, dueAt: work.dueAt } });
  applyDecision(bench, decide(bench.base.wf, bench.snapshot!, { type: 'TIMER_FIRED', key: work.key }));
}

/**
 * An event: a repeated id changes nothing; a new one is recorded (EventReceived) and handed to the
 * machine, which keeps it in the mailbox or gives it at once to a wait for it (EventConsumed).
 */
function event(bench: Bench, input: EventInput, callers: Callers): void {
  const snapshot = bench.snapshot!;
  if ((snapshot.context.received ?? []).includes(input.id)) {
    callers.event(input, 'duplicate');
    return;
  }
  const data: Record<string, unknown> = { id: input.id, name: input.name, payload: input.payload };
  if (input.correlation !== undefined) data.correlationKey = input.correlation;
  bench.events.push({ type: HistoryEventType.EventReceived, timestamp: bench.env.now, data });
  const machineEvent: WorkflowEvent = { type: 'EVENT_RECEIVED', id: input.id, name: input.name, payload: input.payload };
  if (input.correlation !== undefined) machineEvent.correlation = input.correlation;
  applyDecision(bench, decide(bench.base.wf, snapshot, machineEvent));
  callers.event(input, 'accepted');
}

/**
 * A redrive: only a FAILED execution whose compensations did not run goes back to the state that
 * failed, with the data it had there (the machine's REDRIVE). A second redrive in the same batch
 * finds it RUNNING and is refused.
 */
function redrive(bench: Bench, input: RedriveInput, callers: Callers): void {
  const { base } = bench;
  const snapshot = bench.snapshot;
  const status = snapshot === undefined ? base.status : outcomeOf(snapshot).status;
  if (snapshot === undefined || status !== ExecutionStatus.FAILED) {
    callers.refused(input, new StepwiseError('EXECUTION_NOT_FAILED', `execution '${base.id}' is ${status}; only a FAILED execution can be redriven`, { id: base.id, status }));
    return;
  }
  const blocker = redriveBlocker(snapshot.context);
  if (blocker) {
    const message = blocker === 'compensated'
      ? `execution '${base.id}' cannot be redriven: its compensations already ran (hold the failure with a fail state's compensate: false to redrive it later)`
      : `execution '${base.id}' cannot be redriven: it failed before redrive was recorded`;
    callers.refused(input, new StepwiseError('EXECUTION_COMPENSATED', message, { id: base.id }));
    return;
  }
  const count = (snapshot.context.redrives ?? 0) + 1;
  bench.events.push({ type: HistoryEventType.ExecutionRedriven, timestamp: bench.env.now, data: { count, from: snapshot.context.failedAt } });
  bench.reopened = true;
  applyDecision(bench, decide(base.wf, snapshot, { type: 'REDRIVE' }));
  callers.redriven(input, count);
}

/** An input that cannot apply (its execution has ended, or left its step): give back what it holds. */
function settleAfterEnd(bench: Bench, input: CancelInput | EventInput | WorkInput, callers: Callers): void {
  if (input.kind === 'cancel' || input.kind === 'event') {
    callers.refused(input);
    return;
  }
  const k = refKey(input.work);
  if (input.kind === 'claimed') bench.release.push(k);
  bench.drop.set(k, toRef(input.work));
}

function finish(bench: Bench, inputs: Input[], callers: Callers): Draft {
  const { base, env } = bench;
  const draft: Draft = {
    base, inputs, commit: undefined, snapshot: bench.snapshot, launches: [], reserve: [], release: bench.release,
    unhold: [], aborts: [], settle: [], backlog: false,
  };
  if (bench.events.length === 0 && bench.drop.size === 0 && bench.consume.length === 0) {
    draft.settle = callers.list(undefined);
    return draft;
  }
  const snapshot = bench.snapshot!;
  const outcome = outcomeOf(snapshot);
  const commit: ExecutionCommit = {
    executionId: base.id, expectedSeq: base.lastSeq, events: bench.events, snapshot: persist(snapshot), status: outcome.status,
    consume: bench.consume, schedule: [...bench.schedule.values()], drop: [...bench.drop.values()],
  };
  if (callers.creator) {
    const { wf } = base;
    commit.create = { workflow: wf.name, version: wf.version, input: callers.creator.input, startedAt: env.now };
  }
  if (bench.reopened && outcome.status === ExecutionStatus.RUNNING) commit.reopen = true;
  if (outcome.status !== ExecutionStatus.RUNNING && (base.status === ExecutionStatus.RUNNING || bench.reopened)) {
    commit.endedAt = env.now;
    if (outcome.output !== undefined) commit.output = outcome.output;
    if (outcome.error) commit.error = outcome.error;
    const failures = snapshot.context.compensationFailures;
    bench.events.push({
      type: outcome.status === ExecutionStatus.SUCCEEDED ? HistoryEventType.ExecutionSucceeded
        : outcome.status === ExecutionStatus.CANCELLED ? HistoryEventType.ExecutionCancelled : HistoryEventType.ExecutionFailed,
      timestamp: env.now,
      data: outcome.status === ExecutionStatus.SUCCEEDED ? { output: outcome.output }
        : { error: outcome.error, ...(failures.length > 0 ? { compensationFailures: failures } : {}) },
    });
  }
  draft.commit = commit;
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
  return draft;
}
