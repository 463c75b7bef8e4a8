/**
 * The machine's commands turned into history events and work rows: the part of the draft step
 * that follows a decision. Pure, like the rest of the draft step: it writes only into the bench.
 */
import { HistoryEventType, type NewHistoryEvent } from '../core/events.js';
import { backoffDelay } from '../core/retry-policy.js';
import type { NewWork, WorkItem, WorkKind, WorkRef } from '../core/store.js';
import { parseStepKey, type WorkflowCommand } from '../dsl/machine-types.js';
import { decide, type Decision, type Snapshot } from './decide.js';
import type { Live, StepEnv } from './draft.js';
import { refKey } from '../core/work-ref.js';

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
}

interface DueTimer {
  key: string;
  step: string;
  dueAt: number;
}

/**
 * Applies a decision, then the TIMER_FIRED of every wait it entered that is already due, in a
 * loop rather than by recursion: a loop through a zero-length wait can run thousands of times in
 * one commit before the machine stops it (Stepwise.EndlessLoop).
 */
export function applyDecision(bench: Bench, first: Decision): void {
  let decision = first;
  const dueNow: DueTimer[] = [];
  for (;;) {
    bench.snapshot = decision.snapshot;
    dueNow.push(...applyCommands(bench, decision.commands));
    const timer = dueNow.shift();
    if (!timer) return;
    bench.events.push({ type: HistoryEventType.TimerFired, timestamp: bench.env.now, step: timer.step, data: { key: timer.key, dueAt: timer.dueAt } });
    decision = decide(bench.base.wf, decision.snapshot, { type: 'TIMER_FIRED', key: timer.key });
  }
}

/**
 * Turns the machine's commands into history events and work rows on the bench; returns the
 * waits that are already due (a zero or past duration), which fire in this same commit.
 */
function applyCommands(bench: Bench, commands: WorkflowCommand[]): DueTimer[] {
  const dueNow: DueTimer[] = [];
  for (const cmd of commands) {
    switch (cmd.type) {
      case 'entered':
        bench.events.push({ type: HistoryEventType.StateEntered, timestamp: bench.env.now, step: cmd.params.step });
        break;
      case 'runTask':
        if (runNow(bench, 'task', cmd.params.key)) {
          bench.events.push({
            type: HistoryEventType.StepStarted, timestamp: bench.env.now, step: cmd.params.step, attempt: 1,
            data: withIndex({ key: cmd.params.key, worker: bench.env.workerId }, cmd.params.index),
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
          dueNow.push({ key: cmd.params.key, step: cmd.params.step, dueAt });
          break;
        }
        scheduleLater(bench, { executionId: bench.base.id, kind: 'timer', key: cmd.params.key, attempt: 1, dueAt });
        break;
      }
      case 'eventConsumed': {
        const { step, key, id, name, payload } = cmd.params;
        bench.events.push({ type: HistoryEventType.EventConsumed, timestamp: bench.env.now, step, data: { key, id, name, payload } });
        break;
      }
      case 'cancelWork':
        for (const key of cmd.params.keys) leave(bench, { executionId: bench.base.id, kind: cmd.params.kind, key });
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
  const delayMs = policy ? backoffDelay(policy, cmd.params.attempt, bench.env.random()) : 1000;
  const dueAt = now + delayMs;
  const stepName = cmd.type === 'retryCompensation' ? cmd.params.compensation : step;
  bench.events.push({ type: HistoryEventType.RetryScheduled, timestamp: now, step: stepName, attempt: cmd.params.attempt, data: { key: cmd.params.key, dueAt, delayMs } });
  scheduleLater(bench, { executionId: bench.base.id, kind, key: cmd.params.key, attempt: cmd.params.attempt, dueAt });
}

function scheduleLater(bench: Bench, work: NewWork): void {
  bench.schedule.set(refKey(work), work);
  bench.wakeAt = Math.min(bench.wakeAt ?? Infinity, work.dueAt);
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

export function withIndex(data: Record<string, unknown>, index: number | undefined): Record<string, unknown> {
  return index === undefined ? data : { ...data, index };
}
