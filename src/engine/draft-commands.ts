/**
 * The machine's commands turned into history events and work rows: the part of the draft step
 * that follows a decision. Pure, like the rest of the draft step: it writes only into the bench.
 */
import { HistoryEventType, type NewHistoryEvent } from '../core/events.js';
import { backoffDelay } from '../core/retry-policy.js';
import type { NewWork, SpawnedExecution, WorkItem, WorkKind, WorkRef } from '../core/store.js';
import { parseStepKey, type WorkflowCommand, type WorkflowEvent } from '../dsl/machine-types.js';
import { decide, type Decision, type Snapshot } from './decide.js';
import type { Live, StepEnv } from './draft.js';
import type { HandlerOutcome } from './inputs.js';
import { refKey } from '../core/work-ref.js';
import { handlerLocation } from '../handlers/location.js';
import { callbackHandler, workerBinding } from '../handlers/remote-steps.js';
import { isInvoke, leaveChild, spawnChild, type PendingEvent } from './draft-children.js';

/** A launch planned by this draft; `claimed` when its capacity was reserved by the claim. */
export interface PlannedLaunch {
  work: WorkItem;
  claimed: boolean;
}

/** A draft while the draft step builds it. Private to the draft step; nothing outside sees it. */
export interface Bench {
  readonly base: Live;
  readonly env: StepEnv;
  snapshot: Snapshot | undefined;
  events: NewHistoryEvent[];
  consume: Array<WorkRef & { owner: string }>;
  schedule: Map<string, NewWork>;
  drop: Map<string, WorkRef>;
  launches: Map<string, PlannedLaunch>;
  release: string[];
  aborts: string[];
  /** Capacity left for launches this draft plans (each inline launch takes one). */
  free: number;
  wakeAt?: number;
  backlog: boolean;
  /** A redrive in this draft took a FAILED execution back to RUNNING. */
  reopened?: boolean;
  /** Queues that get a new 'queued' row in this draft: their waiting polls are woken once it lands. */
  queued: Set<string>;
  /** The failure this draft is applying, while its decision is applied: its Retry-After bounds the retry. */
  failure?: { key: string; retryAfterMs?: number };
  /** Children this commit starts (invoke states). */
  spawn: SpawnedExecution[];
  /** Invoke step keys the execution left: their running children are stopped. */
  stopKeys: Set<string>;
  /** A spawned child cancelled before its first step: the draft ends it without a machine. */
  endedUnbegun?: boolean;
  /** A start of a workflow with concurrency limits: created QUEUED, in these scopes' queues. */
  concurrencyScopes?: Array<{ scope: string; limit: number }>;
}

/**
 * Applies a decision, then the TIMER_FIRED of every wait it entered that is already due, in a
 * loop rather than by recursion: a loop through a zero-length wait can run thousands of times in
 * one commit before the machine stops it (Stepwise.EndlessLoop).
 */
export function applyDecision(bench: Bench, first: Decision): void {
  let decision = first;
  const dueNow: PendingEvent[] = [];
  for (;;) {
    bench.snapshot = decision.snapshot;
    dueNow.push(...applyCommands(bench, decision.commands));
    const pending = dueNow.shift();
    if (!pending) return;
    bench.events.push(pending.history);
    decision = decide(bench.base.wf, decision.snapshot, pending.event);
  }
}

/**
 * Turns the machine's commands into history events and work rows on the bench; returns the
 * waits that are already due (a zero or past duration), which fire in this same commit.
 */
function applyCommands(bench: Bench, commands: WorkflowCommand[]): PendingEvent[] {
  const dueNow: PendingEvent[] = [];
  for (const cmd of commands) {
    switch (cmd.type) {
      case 'entered':
        bench.events.push({ type: HistoryEventType.StateEntered, timestamp: bench.env.now, step: cmd.params.step });
        break;
      case 'runTask':
        if (isInvoke(bench, cmd.params.step)) {
          const failed = spawnChild(bench, cmd.params.step, cmd.params.key, 1);
          if (failed) dueNow.push(failed);
          break;
        }
        if (toQueue(bench, cmd.params.key, 1, bench.env.now)) break;
        if (runNow(bench, 'task', cmd.params.key)) {
          bench.events.push({
            type: HistoryEventType.StepStarted, timestamp: bench.env.now, step: cmd.params.step, attempt: 1,
            data: withIndex({ key: cmd.params.key, ...whereItRuns(bench, cmd.params.step) }, cmd.params.index),
          });
        }
        break;
      case 'runCompensation':
        if (runNow(bench, 'compensation', cmd.params.key)) {
          bench.events.push({
            type: HistoryEventType.CompensationStarted, timestamp: bench.env.now, step: cmd.params.compensation, attempt: 1,
            data: { for: cmd.params.step, key: cmd.params.key, worker: bench.env.workerId },
          });
        }
        break;
      case 'retryTask':
      case 'retryCompensation':
        retryLater(bench, cmd);
        break;
      case 'startTimer': {
        const { now } = bench.env;
        const dueAt = cmd.params.until ?? now + (cmd.params.durationMs ?? 0);
        bench.events.push({ type: HistoryEventType.TimerStarted, timestamp: now, step: cmd.params.step, data: { key: cmd.params.key, dueAt } });
        if (dueAt <= now) {
          const key = cmd.params.key;
          dueNow.push({ history: { type: HistoryEventType.TimerFired, timestamp: now, step: cmd.params.step, data: { key, dueAt } }, event: { type: 'TIMER_FIRED', key } });
          break;
        }
        scheduleRow(bench, { executionId: bench.base.id, kind: 'timer', key: cmd.params.key, attempt: 1, dueAt });
        break;
      }
      case 'eventConsumed': {
        const { step, key, id, name, payload } = cmd.params;
        bench.events.push({ type: HistoryEventType.EventConsumed, timestamp: bench.env.now, step, data: { key, id, name, payload } });
        break;
      }
      case 'cancelWork':
        for (const key of cmd.params.keys) {
          leave(bench, { executionId: bench.base.id, kind: cmd.params.kind, key });
          // A task's attempt may be waiting for a poll or for an answer from outside instead.
          if (cmd.params.kind === 'task' && hasOutsideRow(bench, key)) {
            for (const kind of ['queued', 'outside'] as const) leave(bench, { executionId: bench.base.id, kind, key });
          }
          if (cmd.params.kind === 'task' && isInvoke(bench, parseStepKey(key).step)) leaveChild(bench, key);
        }
        break;
    }
  }
  return dueNow;
}

/**
 * A task or compensation due now: its row is written leased to this worker (true: the caller
 * records its started event) when capacity is left, so one commit per step suffices; otherwise
 * unleased, for a later claim.
 */
function runNow(bench: Bench, kind: WorkKind, key: string): boolean {
  const { env } = bench;
  const work: NewWork = { executionId: bench.base.id, kind, key, attempt: 1, dueAt: env.now };
  const k = refKey(work);
  bench.schedule.set(k, work);
  if (env.stopping || bench.free <= 0) {
    bench.backlog = true;
    return false;
  }
  bench.free--;
  work.leaseOwner = env.workerId;
  work.leaseUntil = env.now + env.leaseMs;
  bench.launches.set(k, { work, claimed: false });
  return true;
}

function retryLater(bench: Bench, cmd: Extract<WorkflowCommand, { type: 'retryTask' | 'retryCompensation' }>): void {
  const { now } = bench.env;
  const kind: WorkKind = cmd.type === 'retryTask' ? 'task' : 'compensation';
  const { step } = parseStepKey(cmd.params.key);
  const runtime = bench.base.wf.step(step);
  const policies = kind === 'task' ? runtime?.retry : runtime?.compensation?.retry;
  const policy = policies?.[cmd.params.policy];
  // A failure that said when to come back (an HTTP function's Retry-After) sets the earliest retry.
  const retryAfterMs = bench.failure?.key === cmd.params.key ? bench.failure.retryAfterMs ?? 0 : 0;
  const delayMs = policy ? backoffDelay(policy, cmd.params.attempt, bench.env.random(), retryAfterMs) : Math.max(1000, retryAfterMs);
  const dueAt = now + delayMs;
  if (kind === 'task' && toQueue(bench, cmd.params.key, cmd.params.attempt, dueAt, false)) {
    bench.events.push({ type: HistoryEventType.RetryScheduled, timestamp: now, step, attempt: cmd.params.attempt, data: { key: cmd.params.key, dueAt, delayMs } });
    return;
  }
  const stepName = cmd.type === 'retryCompensation' ? cmd.params.compensation : step;
  bench.events.push({ type: HistoryEventType.RetryScheduled, timestamp: now, step: stepName, attempt: cmd.params.attempt, data: { key: cmd.params.key, dueAt, delayMs } });
  scheduleRow(bench, { executionId: bench.base.id, kind, key: cmd.params.key, attempt: cmd.params.attempt, dueAt });
}

/**
 * A worker step's attempt is a 'queued' row of its queue, for a poll to take (true); false for
 * any other step. Polls that wait are woken when it lands; one due later is found by their polling.
 */
function toQueue(bench: Bench, key: string, attempt: number, dueAt: number, now = true): boolean {
  const queue = workerBinding(bench.base.wf.step(parseStepKey(key).step)?.handler)?.queue;
  if (queue === undefined) return false;
  bench.schedule.set(refKey({ executionId: bench.base.id, kind: 'queued', key }), { executionId: bench.base.id, kind: 'queued', key, attempt, dueAt, queue });
  if (now) bench.queued.add(queue);
  return true;
}

/** Whether a step's attempts may wait outside the engine (a worker or callback step). */
function hasOutsideRow(bench: Bench, key: string): boolean {
  const handler = bench.base.wf.step(parseStepKey(key).step)?.handler;
  return workerBinding(handler) !== undefined || callbackHandler(handler) !== undefined;
}

/** Asks the engine to look for due work by `at`, once the commit lands. */
export function wakeBy(bench: Bench, at: number): void {
  bench.wakeAt = Math.min(bench.wakeAt ?? Infinity, at);
}

/** Writes a work row with the commit, and wakes the engine when it comes due. */
export function scheduleRow(bench: Bench, work: NewWork): void {
  bench.schedule.set(refKey(work), work);
  wakeBy(bench, work.dueAt);
}

/** The machine left a step: its row goes, and a handler running it here is aborted. */
function leave(bench: Bench, ref: WorkRef): void {
  const k = refKey(ref);
  if (bench.consume.some((c) => refKey(c) === k)) {
    // This commit consumes its row; a retry of it scheduled earlier in this batch must not
    // outlive the step either (it would run the handler of a step the machine has left).
    bench.schedule.delete(k);
    return;
  }
  const planned = bench.launches.get(k);
  if (planned) {
    // Entered (or claimed) and left within this batch: its handler never runs, so the started
    // event this draft holds for it would report a call that never happened.
    const type = ref.kind === 'compensation' ? HistoryEventType.CompensationStarted : HistoryEventType.StepStarted;
    const started = bench.events.findIndex((e) => e.type === type && e.data?.key === ref.key);
    if (started !== -1) bench.events.splice(started, 1);
    bench.launches.delete(k);
    if (planned.claimed) bench.release.push(k);
    else bench.free++;
  }
  bench.schedule.delete(k);
  bench.drop.set(k, ref);
  bench.aborts.push(k);
}

/**
 * StepStarted's `worker` data: where the attempt runs. A remote handler names its location (an
 * HTTP function's origin), with the engine that called it beside it as `engine`.
 */
export function whereItRuns(bench: Bench, step: string): { worker: string; engine?: string } {
  const where = handlerLocation(bench.base.wf.step(step)?.handler);
  return where === undefined ? { worker: bench.env.workerId } : { worker: where, engine: bench.env.workerId };
}

export function withIndex(data: Record<string, unknown>, index: number | undefined): Record<string, unknown> {
  return index === undefined ? data : { ...data, index };
}

/** The history event and machine event of a step's (or compensation's) outcome. */
export function recordOutcome(bench: Bench, work: WorkItem, outcome: HandlerOutcome): void {
  const { env } = bench;
  const { step, index } = parseStepKey(work.key);
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
    bench.failure = { key: work.key, ...(outcome.error.retryAfterMs !== undefined ? { retryAfterMs: outcome.error.retryAfterMs } : {}) };
  }
  applyDecision(bench, decide(bench.base.wf, bench.snapshot!, event));
  delete bench.failure;
}
