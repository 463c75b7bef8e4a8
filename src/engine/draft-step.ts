/**
 * The draft step, pure: one execution's live state and inputs (a start, claims, results, timers,
 * a cancel), the time and the free capacity in; a Draft out, listing as data everything the
 * commit writes and everything the engine does once it lands. No I/O, no clock, nothing in memory
 * changes: the commit loop applies the draft after its commit, or drops it when the commit fails.
 */
import { HistoryEventType } from '../core/events.js';
import { ExecutionStatus, isTerminalStatus } from '../core/status.js';
import type { ExecutionCommit, NewWork, WorkItem } from '../core/store.js';
import { parseStepKey, type WorkflowEvent } from '../dsl/machine-types.js';
import { begin, decide, expectsWork, outcomeOf } from './decide.js';
import { isInvoke, NEVER_DUE, spawnChild } from './draft-children.js';
import { applyDecision, recordOutcome, wakeBy, whereItRuns, withIndex, type Bench } from './draft-commands.js';
import { endedError, summaryOf, type Draft, type Live, type Settlement, type StepEnv } from './draft.js';
import type {
  AnswerInput, AwaitInput, CancelInput, CreateInput, DeliveryInput, EventInput, HandedTask, HandoutInput, Input, RedriveInput, WorkInput,
} from './inputs.js';
import { answer, awaitAnswer, expired, handout } from './draft-outside.js';
import { redriveBlocker } from '../dsl/compile/redrive.js';
import { StepErrorCodes, StepwiseError } from '../core/errors.js';
import { refKey, toRef } from '../core/work-ref.js';
import { finishDraft } from './draft-finish.js';

/** Applies inputs in order on top of the live state (never changing it) and returns the draft. */
export function draftStep(base: Live, inputs: Input[], env: StepEnv): Draft {
  const bench: Bench = {
    base, env, snapshot: base.snapshot, events: [], consume: [], schedule: new Map(), drop: new Map(),
    launches: new Map(), release: [], aborts: [], free: env.freeCapacity, backlog: false, queued: new Set(), spawn: [], stopKeys: new Set(),
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
    if (bench.snapshot === undefined && base.pending && !isTerminalStatus(base.status) && !bench.endedUnbegun) {
      // A spawned child not begun yet: its start row begins it; a cancel or stop ends it here.
      if (input.kind === 'begin') beginPending(bench, input);
      else if (input.kind === 'cancel' || input.kind === 'stop') endUnbegun(bench, input, callers);
      else if (input.kind === 'event') {
        // Not ended: not started. The caller hears so (and may send it again once it runs).
        callers.refused(input, new StepwiseError('EXECUTION_NOT_STARTED', `execution '${base.id}' is QUEUED and has not started; send the event once it runs`, { id: base.id }));
      } else settleAfterEnd(bench, input, callers);
      continue;
    }
    if (base.snapshot !== undefined && base.status === ExecutionStatus.QUEUED && !bench.reopened) {
      // A limited execution's redrive waiting QUEUED for a slot: its start row re-enters the
      // failed state; until then nothing of it runs, and a cancel or event is refused.
      if (input.kind === 'begin') beginRedrive(bench, input);
      else if (input.kind === 'cancel' || input.kind === 'event') {
        callers.refused(input, new StepwiseError('EXECUTION_NOT_STARTED', `execution '${base.id}' is QUEUED for its redrive and has not started; send it once it runs`, { id: base.id }));
      } else settleAfterEnd(bench, input, callers);
      continue;
    }
    if (bench.snapshot === undefined || (isTerminalStatus(base.status) && !bench.reopened) || outcomeOf(bench.snapshot).status !== ExecutionStatus.RUNNING) {
      settleAfterEnd(bench, input, callers);
      continue;
    }
    if (input.kind === 'begin') {
      settleAfterEnd(bench, input, callers); // begun already: a start row left over
      continue;
    }
    if (input.kind !== 'cancel' && input.kind !== 'event' && input.kind !== 'stop' && (bench.drop.has(refKey(input.work)) || !expectsWork(bench.snapshot, input.work))) {
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
      case 'handout': callers.handed(input, handout(bench, input)); break;
      case 'answer': answer(bench, input); callers.answered(input, true); break;
      case 'expired': expired(bench, input); break;
      case 'await': awaitAnswer(bench, input); callers.awaited(input); break;
      case 'child': childEnded(bench, input); break;
      case 'delivery': delivered(bench, input); break;
      case 'cancel':
        bench.events.push({ type: HistoryEventType.CancelRequested, timestamp: env.now });
        applyDecision(bench, decide(base.wf, bench.snapshot, { type: 'CANCEL' }));
        callers.cancelled(input);
        break;
      case 'event': event(bench, input, callers); break;
      case 'stop':
        consumeRow(bench, input.work);
        bench.events.push({ type: HistoryEventType.CancelRequested, timestamp: env.now, data: { by: 'parent' } });
        applyDecision(bench, decide(base.wf, bench.snapshot, { type: 'CANCEL' }));
        break;
      default:
        // A new Input kind needs its applier here (the compiler says so).
        return unknownInput(input);
    }
  }
  return finishDraft(bench, inputs, callers);
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
  handed(input: HandoutInput, task: HandedTask | undefined): void {
    this.settlements.push({ kind: 'handed', input, task });
  }
  awaited(input: AwaitInput): void {
    this.settlements.push({ kind: 'awaited', input });
  }
  answered(input: AnswerInput, applied: boolean): void {
    this.settlements.push({ kind: 'answered', input, applied });
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
  const started: Record<string, unknown> = { input: input.input, workflow: wf.name, version: wf.version };
  if (input.trace) started.traceparent = input.trace.traceparent;
  bench.events.push({ type: HistoryEventType.ExecutionStarted, timestamp: now, data: started });
  if (input.scopes && input.scopes.length > 0) {
    queueStart(bench, input.scopes, {});
    return;
  }
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
  const { step, index } = parseStepKey(input.work.key);
  if (input.work.kind === 'task' && isInvoke(bench, step)) {
    // A retry of an invoke step came due: it starts a new child rather than a handler.
    bench.release.push(k);
    consumeRow(bench, input.work);
    const failed = spawnChild(bench, step, input.work.key, input.work.attempt);
    if (failed) {
      bench.events.push(failed.history);
      applyDecision(bench, decide(bench.base.wf, bench.snapshot!, failed.event));
    }
    return;
  }
  // The claim's reservation of capacity passes to the launch.
  const rerun = input.rerun ? { rerun: input.rerun } : {};
  if (input.work.kind === 'compensation') {
    const name = bench.base.wf.step(step)?.compensation?.name ?? step;
    bench.events.push({ type: HistoryEventType.CompensationStarted, timestamp: env.now, step: name, attempt: input.work.attempt, data: { for: step, key: input.work.key, worker: env.workerId, ...rerun } });
  } else {
    bench.events.push({ type: HistoryEventType.StepStarted, timestamp: env.now, step, attempt: input.work.attempt, data: withIndex({ key: input.work.key, ...whereItRuns(bench, step), ...rerun }, index) });
  }
  bench.launches.set(k, { work: input.work, claimed: true });
}

function result(bench: Bench, input: Extract<Input, { kind: 'result' }>): void {
  const { env } = bench;
  const { work, outcome } = input;
  const { step } = parseStepKey(work.key);
  if (input.leaseLost) {
    bench.events.push({ type: HistoryEventType.StepResultRefused, timestamp: env.now, step, attempt: work.attempt, data: { key: work.key, worker: env.workerId, reason: 'lease lost' } });
    return;
  }
  bench.consume.push({ executionId: work.executionId, kind: work.kind, key: work.key, owner: env.workerId });
  recordOutcome(bench, work, outcome);
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
  callers.event(input, receive(bench, input) ? 'accepted' : 'duplicate');
}

/** Applies an event unless its id was received before; false then. */
function receive(bench: Bench, input: { id: string; name: string; payload: unknown; correlation?: string }): boolean {
  const snapshot = bench.snapshot!;
  if ((snapshot.context.received ?? []).includes(input.id)) return false;
  const data: Record<string, unknown> = { id: input.id, name: input.name, payload: input.payload };
  if (input.correlation !== undefined) data.correlationKey = input.correlation;
  bench.events.push({ type: HistoryEventType.EventReceived, timestamp: bench.env.now, data });
  const machineEvent: WorkflowEvent = { type: 'EVENT_RECEIVED', id: input.id, name: input.name, payload: input.payload };
  if (input.correlation !== undefined) machineEvent.correlation = input.correlation;
  applyDecision(bench, decide(bench.base.wf, snapshot, machineEvent));
  return true;
}

/**
 * A correlated event's 'event' row: consumed, and the event received like one sent by id, but
 * only a wait with its key takes it. An id received before changes nothing (the store delivers
 * an event to an execution once; this guards an id reused after its event expired).
 */
function delivered(bench: Bench, input: DeliveryInput): void {
  consumeRow(bench, input.work);
  const e = input.event;
  if (e) receive(bench, { id: e.id, name: e.name, payload: e.payload, correlation: e.key });
}

/**
 * A redrive: only a FAILED execution whose compensations did not run goes back to the state that
 * failed, with the data it had there (the machine's REDRIVE). A second redrive in the same batch
 * finds it RUNNING and is refused.
 */
function redrive(bench: Bench, input: RedriveInput, callers: Callers): void {
  const { base } = bench;
  const snapshot = bench.snapshot;
  // QUEUED (a start not begun, or a redrive waiting for its slot) is not FAILED, whatever the snapshot says.
  const queued = base.status === ExecutionStatus.QUEUED || bench.concurrencyScopes !== undefined;
  const status = queued ? ExecutionStatus.QUEUED : snapshot === undefined ? base.status : outcomeOf(snapshot).status;
  if (snapshot === undefined || status !== ExecutionStatus.FAILED) {
    callers.refused(input, new StepwiseError('EXECUTION_NOT_FAILED', `execution '${base.id}' is ${status}; only a FAILED execution can be redriven`, { id: base.id, status }));
    return;
  }
  if (base.wf.definition.concurrency && !input.scopes) {
    // Its queue rows went when it ended, and its scopes could not be computed again (this process
    // lacks its version): reopened, it would run beside the executions its limit now admits.
    callers.refused(input, new StepwiseError('REDRIVE_NOT_SUPPORTED', `execution '${base.id}' cannot be redriven: workflow '${base.wf.name}' has a concurrency limit; start a new execution`, { id: base.id }));
    return;
  }
  if (snapshot.context.error?.code === StepErrorCodes.BudgetExceeded) {
    // The engine's failure, not a state's: there is no state to go back to, and the transitions
    // it counted would be over the budget again at once.
    callers.refused(input, new StepwiseError('EXECUTION_OVER_BUDGET', `execution '${base.id}' cannot be redriven: it failed with ${StepErrorCodes.BudgetExceeded}, its budget is spent; start a new execution`, { id: base.id }));
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
  if (input.scopes) {
    // Limited: it joins its queues again, in arrival order; the machine is redriven
    // (ExecutionRedriven) when its start row comes due, within its limits.
    bench.reopened = true;
    queueStart(bench, input.scopes, { redrive: count });
    callers.redriven(input, count);
    return;
  }
  reenterFailed(bench, snapshot);
  callers.redriven(input, count);
}

/** A limited execution's queued redrive came within its limits: the machine re-enters the failed state. */
function beginRedrive(bench: Bench, input: Extract<Input, { kind: 'begin' }>): void {
  consumeRow(bench, input.work);
  reenterFailed(bench, bench.snapshot!);
}

/** The machine goes back to the state whose failure ended the execution (ExecutionRedriven). */
function reenterFailed(bench: Bench, snapshot: NonNullable<Bench['snapshot']>): void {
  const count = (snapshot.context.redrives ?? 0) + 1;
  bench.events.push({ type: HistoryEventType.ExecutionRedriven, timestamp: bench.env.now, data: { count, from: snapshot.context.failedAt } });
  bench.reopened = true;
  applyDecision(bench, decide(bench.base.wf, snapshot, { type: 'REDRIVE' }));
}

/**
 * A limited execution waits QUEUED: its start row is parked (never due by itself) until the store
 * finds it within the limits of its scopes; the engine looks at once, in case it already is.
 */
function queueStart(bench: Bench, scopes: NonNullable<Bench['concurrencyScopes']>, data: Record<string, unknown>): void {
  bench.concurrencyScopes = scopes;
  const start: NewWork = { executionId: bench.base.id, kind: 'start', key: '', attempt: 1, dueAt: NEVER_DUE };
  bench.schedule.set(refKey(start), start);
  bench.events.push({ type: HistoryEventType.ExecutionQueued, timestamp: bench.env.now, data: { scopes: scopes.map((s) => s.scope), ...data } });
  wakeBy(bench, bench.env.now);
}

function consumeRow(bench: Bench, work: WorkItem): void {
  bench.consume.push({ executionId: work.executionId, kind: work.kind, key: work.key, owner: bench.env.workerId });
}

/** A spawned child's start row: the machine begins from the input its parent gave it. */
function beginPending(bench: Bench, input: Extract<Input, { kind: 'begin' }>): void {
  consumeRow(bench, input.work);
  applyDecision(bench, begin(bench.base.wf, bench.base.pending!.input));
}

/** A spawned child cancelled (or stopped by its parent) before its first step: it ends CANCELLED. */
function endUnbegun(bench: Bench, input: CancelInput | Extract<Input, { kind: 'stop' }>, callers: Callers): void {
  const { now } = bench.env;
  if (input.kind === 'stop') consumeRow(bench, input.work);
  else callers.cancelled(input);
  const start = { executionId: bench.base.id, kind: 'start' as const, key: '' };
  bench.drop.set(refKey(start), start);
  bench.events.push({ type: HistoryEventType.CancelRequested, timestamp: now, ...(input.kind === 'stop' ? { data: { by: 'parent' } } : {}) });
  bench.endedUnbegun = true;
}

/** A parent's invoke step hears what its child came to (or that it ran past the invoke's timeout). */
function childEnded(bench: Bench, input: Extract<Input, { kind: 'child' }>): void {
  const { work, outcome, childId } = input;
  const { now: timestamp } = bench.env;
  const { step } = parseStepKey(work.key);
  consumeRow(bench, work);
  let event: WorkflowEvent;
  if (outcome.ok) {
    bench.events.push({ type: HistoryEventType.StepSucceeded, timestamp, step, attempt: work.attempt, data: { key: work.key, childId, output: outcome.output } });
    event = { type: 'STEP_SUCCEEDED', key: work.key, output: outcome.output };
  } else {
    bench.events.push({ type: HistoryEventType.StepFailed, timestamp, step, attempt: work.attempt, data: { key: work.key, childId, error: outcome.error } });
    event = { type: 'STEP_FAILED', key: work.key, error: outcome.error };
  }
  if (input.timedOut) bench.stopKeys.add(work.key);
  applyDecision(bench, decide(bench.base.wf, bench.snapshot!, event));
}

/** An input that cannot apply (its execution has ended, or left its step): give back what it holds. */
function settleAfterEnd(bench: Bench, input: CancelInput | EventInput | WorkInput, callers: Callers): void {
  if (input.kind === 'cancel' || input.kind === 'event') {
    callers.refused(input);
    return;
  }
  if (input.kind === 'handout') callers.handed(input, undefined);
  if (input.kind === 'answer') callers.answered(input, false);
  if (input.kind === 'await') callers.awaited(input);
  const k = refKey(input.work);
  if (input.kind === 'claimed') bench.release.push(k);
  bench.drop.set(k, toRef(input.work));
}
