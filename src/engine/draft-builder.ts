import { StepwiseError } from '../core/errors.js';
import { HistoryEventType } from '../core/events.js';
import { backoffDelay } from '../core/retry-policy.js';
import { ExecutionStatus, isTerminalStatus } from '../core/status.js';
import type { NewWork, WorkKind, WorkRef } from '../core/store.js';
import { parseStepKey, type WorkflowCommand, type WorkflowEvent } from '../dsl/machine-types.js';
import { begin, decide, expectsWork, outcomeOf, persist } from './decide.js';
import { isEmptyDraft, refKey, toRef, withIndex, type Draft, type Input, type Live } from './step-types.js';

/** What the draft builder needs from the engine that owns it. */
export interface DraftHost {
  readonly workerId: string;
  readonly leaseMs: number;
  random(): number;
  /** Whether a task the machine asks for may run here at once (capacity left, not stopping). */
  canRunNow(): boolean;
  isStopping(): boolean;
  /** Work keys holding capacity until their commit lands (see Engine.reservations). */
  readonly reservations: Set<string>;
}

/**
 * Turns one execution's inputs (a start, results, claims, timers, a cancel) into its share of a
 * group commit: the machine's transitions applied to a copy of the snapshot, and its commands
 * turned into history events and work rows. Nothing in memory changes until the commit lands.
 */
export class DraftBuilder {
  constructor(private readonly host: DraftHost) {}

  /** Applies inputs in order to a copy of the live state; nothing in memory changes until the commit lands. */
  build(live: Live, inputs: Input[], now: number): Draft {
    const draft: Draft = {
      live, inputs, snapshot: live.snapshot, schedule: new Map(), drop: new Map(), launches: new Map(), aborts: [], backlog: false,
      commit: { executionId: live.id, expectedSeq: live.lastSeq, events: [], snapshot: undefined, status: live.status, consume: [] },
    };
    try {
      return this.compose(draft, inputs, now);
    } catch (error) {
      // Nothing of this draft will be committed: give back the capacity its launches reserved
      // (claimed inputs get theirs back when the engine requeues them).
      for (const k of draft.launches.keys()) this.host.reservations.delete(k);
      throw error;
    }
  }

  private compose(draft: Draft, inputs: Input[], now: number): Draft {
    const live = draft.live;
    const events = draft.commit.events;
    for (const input of inputs) {
      if (input.kind === 'create') {
        if (live.snapshot !== undefined) {
          input.done.resolve(undefined);
          continue;
        }
        // Another start of an id this batch creates: it settles after the commit (resolveDeferreds),
        // when there is something to read back; settling now would read before the commit lands.
        if (draft.commit.create) continue;
        draft.creator = input;
        const started = begin(live.wf, input.input);
        draft.commit.create = { workflow: live.wf.name, version: live.wf.version, input: input.input, startedAt: now };
        events.push({ type: HistoryEventType.ExecutionStarted, timestamp: now, data: { input: input.input, workflow: live.wf.name, version: live.wf.version } });
        this.drain(draft, started, now);
        continue;
      }
      if (isTerminalStatus(live.status) || outcomeOf(draft.snapshot).status !== ExecutionStatus.RUNNING) {
        this.settleAfterEnd(draft, input);
        continue;
      }
      if (input.kind !== 'cancel' && (draft.drop.has(refKey(input.work)) || !expectsWork(draft.snapshot, input.work))) {
        // An earlier input of this batch made the machine leave this step (a sibling branch failed,
        // or cancel), or the machine no longer waits for it at all (a claim made after a lease
        // lapsed, for a step whose result is committed): its row is dropped, its result, claim
        // or timer not applied. A completed step never runs again.
        this.settleAfterEnd(draft, input);
        continue;
      }
      switch (input.kind) {
        case 'claimed': {
          if (this.host.isStopping()) {
            // Claimed just before shutdown: left as it is; stop() releases the lease.
            this.host.reservations.delete(refKey(input.work));
            break;
          }
          // The claim's reservation of capacity passes to the launch.
          const { step, index } = parseStepKey(input.work.key);
          const ref = refKey(input.work);
          if (input.work.kind === 'compensation') {
            const name = live.wf.step(step)?.compensation?.name ?? step;
            events.push({ type: HistoryEventType.CompensationStarted, timestamp: now, step: name, attempt: input.work.attempt, data: { for: step, key: input.work.key, worker: this.host.workerId } });
          } else {
            events.push({ type: HistoryEventType.StepStarted, timestamp: now, step, attempt: input.work.attempt, data: withIndex({ key: input.work.key, worker: this.host.workerId }, index) });
          }
          draft.launches.set(ref, input.work);
          break;
        }
        case 'result': {
          const { step, index } = parseStepKey(input.work.key);
          if (input.leaseLost) {
            events.push({ type: HistoryEventType.StepResultRefused, timestamp: now, step, attempt: input.work.attempt, data: { key: input.work.key, worker: this.host.workerId, reason: 'lease lost' } });
            break;
          }
          draft.commit.consume!.push({ executionId: live.id, kind: input.work.kind, key: input.work.key, owner: this.host.workerId });
          let event: WorkflowEvent;
          if (input.work.kind === 'compensation') {
            const comp = live.wf.step(step)?.compensation?.name ?? step;
            if (input.outcome.ok) {
              events.push({ type: HistoryEventType.CompensationSucceeded, timestamp: now, step: comp, attempt: input.work.attempt, data: { for: step, key: input.work.key, output: input.outcome.output } });
              event = { type: 'COMPENSATION_SUCCEEDED', key: input.work.key };
            } else {
              events.push({ type: HistoryEventType.CompensationFailed, timestamp: now, step: comp, attempt: input.work.attempt, data: { for: step, key: input.work.key, error: input.outcome.error } });
              event = { type: 'COMPENSATION_FAILED', key: input.work.key, error: input.outcome.error };
            }
          } else if (input.outcome.ok) {
            events.push({ type: HistoryEventType.StepSucceeded, timestamp: now, step, attempt: input.work.attempt, data: withIndex({ key: input.work.key, output: input.outcome.output }, index) });
            event = { type: 'STEP_SUCCEEDED', key: input.work.key, output: input.outcome.output };
          } else {
            events.push({ type: HistoryEventType.StepFailed, timestamp: now, step, attempt: input.work.attempt, data: withIndex({ key: input.work.key, error: input.outcome.error }, index) });
            event = { type: 'STEP_FAILED', key: input.work.key, error: input.outcome.error };
          }
          this.transition(draft, event, now);
          break;
        }
        case 'timer': {
          const { step } = parseStepKey(input.work.key);
          draft.commit.consume!.push({ executionId: live.id, kind: 'timer', key: input.work.key, owner: this.host.workerId });
          events.push({ type: HistoryEventType.TimerFired, timestamp: now, step, data: { key: input.work.key, dueAt: input.work.dueAt } });
          this.transition(draft, { type: 'TIMER_FIRED', key: input.work.key }, now);
          break;
        }
        case 'cancel': {
          events.push({ type: HistoryEventType.CancelRequested, timestamp: now });
          this.transition(draft, { type: 'CANCEL' }, now);
          break;
        }
      }
    }
    if (isEmptyDraft(draft)) return draft;
    const outcome = outcomeOf(draft.snapshot);
    draft.commit.snapshot = persist(draft.snapshot);
    draft.commit.status = outcome.status;
    if (outcome.status !== ExecutionStatus.RUNNING && live.status === ExecutionStatus.RUNNING) {
      draft.commit.endedAt = now;
      if (outcome.output !== undefined) draft.commit.output = outcome.output;
      if (outcome.error) draft.commit.error = outcome.error;
      const failures = draft.snapshot.context.compensationFailures;
      events.push({
        type: outcome.status === ExecutionStatus.SUCCEEDED ? HistoryEventType.ExecutionSucceeded
          : outcome.status === ExecutionStatus.CANCELLED ? HistoryEventType.ExecutionCancelled : HistoryEventType.ExecutionFailed,
        timestamp: now,
        data: outcome.status === ExecutionStatus.SUCCEEDED ? { output: outcome.output }
          : { error: outcome.error, ...(failures.length > 0 ? { compensationFailures: failures } : {}) },
      });
    }
    draft.commit.schedule = [...draft.schedule.values()];
    draft.commit.drop = [...draft.drop.values()];
    return draft;
  }

  /** An input for an execution that has ended: nothing to apply; give back what it holds. */
  private settleAfterEnd(draft: Draft, input: Input): void {
    if (input.kind === 'claimed') {
      this.host.reservations.delete(refKey(input.work));
      draft.drop.set(refKey(input.work), toRef(input.work));
    } else if (input.kind === 'cancel') {
      input.done.reject(new StepwiseError('EXECUTION_ENDED', `execution '${draft.live.id}' has already ended`, { id: draft.live.id }));
    } else if (input.kind === 'timer' || input.kind === 'result') {
      draft.drop.set(refKey(input.work), toRef(input.work));
    }
  }

  /**
   * Applies an event, then the TIMER_FIRED of every wait it entered that is already due, in a
   * loop rather than by recursion: a loop through a zero-length wait can run thousands of times in
   * one commit before the machine stops it (Stepwise.EndlessLoop).
   */
  private transition(draft: Draft, event: WorkflowEvent, now: number): void {
    this.drain(draft, decide(draft.live.wf, draft.snapshot, event), now);
  }

  private drain(draft: Draft, first: { snapshot: Draft['snapshot']; commands: WorkflowCommand[] }, now: number): void {
    let decision = first;
    const pending: Array<{ key: string; step: string; dueAt: number }> = [];
    for (;;) {
      draft.snapshot = decision.snapshot;
      pending.push(...this.apply(draft, decision.commands, now));
      const timer = pending.shift();
      if (!timer) return;
      draft.commit.events.push({ type: HistoryEventType.TimerFired, timestamp: now, step: timer.step, data: { key: timer.key, dueAt: timer.dueAt } });
      decision = decide(draft.live.wf, draft.snapshot, { type: 'TIMER_FIRED', key: timer.key });
    }
  }

  /**
   * Turns the machine's commands into history events and work rows in the draft; returns the
   * waits that are already due (a zero or past duration), which fire in this same commit.
   */
  private apply(draft: Draft, commands: WorkflowCommand[], now: number): Array<{ key: string; step: string; dueAt: number }> {
    const id = draft.live.id;
    const events = draft.commit.events;
    const dueNow: Array<{ key: string; step: string; dueAt: number }> = [];
    for (const cmd of commands) {
      switch (cmd.type) {
        case 'entered':
          events.push({ type: HistoryEventType.StateEntered, timestamp: now, step: cmd.params.step });
          break;
        case 'runTask':
        case 'runCompensation': {
          const kind: WorkKind = cmd.type === 'runTask' ? 'task' : 'compensation';
          const work: NewWork = { executionId: id, kind, key: cmd.params.key, attempt: 1, dueAt: now };
          if (this.host.canRunNow()) {
            this.host.reservations.add(refKey(work));
            work.leaseOwner = this.host.workerId;
            work.leaseUntil = now + this.host.leaseMs;
            draft.launches.set(refKey(work), work);
            if (kind === 'task') {
              events.push({ type: HistoryEventType.StepStarted, timestamp: now, step: cmd.params.step, attempt: 1, data: withIndex({ key: cmd.params.key, worker: this.host.workerId }, (cmd.params as { index?: number }).index) });
            } else {
              const c = cmd.params as { step: string; compensation: string; key: string };
              events.push({ type: HistoryEventType.CompensationStarted, timestamp: now, step: c.compensation, attempt: 1, data: { for: c.step, key: c.key, worker: this.host.workerId } });
            }
          } else {
            draft.backlog = true;
          }
          draft.schedule.set(refKey(work), work);
          break;
        }
        case 'retryTask':
        case 'retryCompensation': {
          const kind: WorkKind = cmd.type === 'retryTask' ? 'task' : 'compensation';
          const { step } = parseStepKey(cmd.params.key);
          const runtime = draft.live.wf.step(step);
          const policies = kind === 'task' ? runtime?.retry : runtime?.compensation?.retry;
          const policy = policies?.[cmd.params.policy];
          const delayMs = policy ? backoffDelay(policy, cmd.params.attempt, this.host.random()) : 1000;
          const dueAt = now + delayMs;
          const stepName = cmd.type === 'retryCompensation' ? cmd.params.compensation : step;
          events.push({ type: HistoryEventType.RetryScheduled, timestamp: now, step: stepName, attempt: cmd.params.attempt, data: { key: cmd.params.key, dueAt, delayMs } });
          const work: NewWork = { executionId: id, kind, key: cmd.params.key, attempt: cmd.params.attempt, dueAt };
          draft.schedule.set(refKey(work), work);
          draft.wakeAt = Math.min(draft.wakeAt ?? Infinity, dueAt);
          break;
        }
        case 'startTimer': {
          const dueAt = cmd.params.until ?? now + (cmd.params.durationMs ?? 0);
          events.push({ type: HistoryEventType.TimerStarted, timestamp: now, step: cmd.params.step, data: { key: cmd.params.key, dueAt } });
          if (dueAt <= now) {
            dueNow.push({ key: cmd.params.key, step: cmd.params.step, dueAt });
            break;
          }
          const work: NewWork = { executionId: id, kind: 'timer', key: cmd.params.key, attempt: 1, dueAt };
          draft.schedule.set(refKey(work), work);
          draft.wakeAt = Math.min(draft.wakeAt ?? Infinity, dueAt);
          break;
        }
        case 'cancelWork': {
          for (const key of cmd.params.keys) {
            const ref: WorkRef = { executionId: id, kind: cmd.params.kind, key };
            const k = refKey(ref);
            if (draft.commit.consume!.some((c: WorkRef) => refKey(c) === k)) {
              // This commit consumes its row; a retry of it scheduled earlier in this batch must not
              // outlive the step either (it would run the handler of a step the machine has left).
              draft.schedule.delete(k);
              continue;
            }
            if (draft.launches.has(k)) {
              // Entered (or claimed) and left within this batch: its handler never runs, so the
              // StepStarted this draft holds for it would report a call that never happened.
              const started = events.findIndex((e) => e.type === HistoryEventType.StepStarted && e.data?.key === key);
              if (started !== -1) events.splice(started, 1);
              draft.launches.delete(k);
              this.host.reservations.delete(k);
            }
            draft.schedule.delete(k);
            draft.drop.set(k, ref);
            draft.aborts.push(k);
          }
          break;
        }
      }
    }
    return dueNow;
  }
}
