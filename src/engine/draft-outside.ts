/**
 * The draft step's appliers for work finished outside the engine (docs/handlers.md): a poll
 * taking a worker step's attempt, an answer to a task token, a lapsed wait, and a callback
 * step's function handing out its token. Pure, like the rest of the draft step.
 */
import { StepErrorCodes } from '../core/errors.js';
import { HistoryEventType } from '../core/events.js';
import type { NewWork, WorkItem } from '../core/store.js';
import { parseStepKey } from '../dsl/machine-types.js';
import { workerBinding } from '../handlers/remote-steps.js';
import { recordOutcome, scheduleRow, withIndex, type Bench } from './draft-commands.js';
import type { AnswerInput, HandedTask, HandoutInput, Input } from './inputs.js';
import { handlerCall } from './launcher.js';
import { refKey } from '../core/work-ref.js';

/** The 'queued' row becomes an 'outside' row under the new token, with the poller's StepStarted. */
export function handout(bench: Bench, input: HandoutInput): HandedTask | undefined {
  const { env, base } = bench;
  const { work } = input;
  if (env.stopping) return undefined;
  const { step, index } = parseStepKey(work.key);
  const call = handlerCall({ ...base, snapshot: bench.snapshot }, work);
  const binding = workerBinding(call.handler);
  const deadline = env.now + call.timeoutMs;
  bench.consume.push({ executionId: work.executionId, kind: work.kind, key: work.key, owner: env.workerId });
  const waiting: NewWork = {
    executionId: work.executionId, kind: 'outside', key: work.key, attempt: work.attempt, tokenHash: input.tokenHash, deadline,
    dueAt: binding?.heartbeatMs !== undefined ? Math.min(deadline, env.now + binding.heartbeatMs) : deadline,
    ...(binding?.heartbeatMs !== undefined ? { heartbeatMs: binding.heartbeatMs } : {}),
  };
  scheduleRow(bench, waiting);
  bench.events.push({
    type: HistoryEventType.StepStarted, timestamp: env.now, step, attempt: work.attempt,
    data: withIndex({ key: work.key, worker: input.workerId, engine: env.workerId, ...(work.queue ? { queue: work.queue } : {}) }, index),
  });
  const context: Record<string, unknown> = {
    ...call.stepContext, deadline: new Date(deadline).toISOString(),
    ...(binding?.heartbeatMs !== undefined ? { heartbeatMs: binding.heartbeatMs } : {}),
  };
  return { input: call.input, context };
}

/** An answer for the current token: its outcome is the step's, or the task goes back to its queue. */
export function answer(bench: Bench, input: AnswerInput): void {
  const { work, outcome } = input;
  bench.consume.push({ executionId: work.executionId, kind: work.kind, key: work.key, owner: bench.env.workerId });
  if (outcome === 'requeue') {
    const queue = workerBinding(bench.base.wf.step(parseStepKey(work.key).step)?.handler)?.queue;
    if (queue !== undefined) {
      bench.schedule.set(refKey({ ...work, kind: 'queued' }), { executionId: work.executionId, kind: 'queued', key: work.key, attempt: work.attempt, dueAt: bench.env.now, queue });
      bench.queued.add(queue);
      return;
    }
  }
  recordOutcome(bench, work, outcome === 'requeue' ? lapsed(work, bench.env.now) : outcome);
}

/** The wait lapsed: no heartbeat in time, or the step's timeout. */
export function expired(bench: Bench, input: Extract<Input, { kind: 'expired' }>): void {
  const { work } = input;
  bench.consume.push({ executionId: work.executionId, kind: work.kind, key: work.key, owner: bench.env.workerId });
  recordOutcome(bench, work, lapsed(work, bench.env.now));
}

function lapsed(work: WorkItem, now: number): { ok: false; error: { code: string; message: string } } {
  const step = parseStepKey(work.key).step;
  if (work.heartbeatMs !== undefined && (work.deadline === undefined || work.dueAt < work.deadline)) {
    return { ok: false, error: { code: StepErrorCodes.HeartbeatTimeout, message: `step '${step}' had no heartbeat for ${work.heartbeatMs} ms` } };
  }
  void now;
  return { ok: false, error: { code: StepErrorCodes.Timeout, message: `step '${step}' got no answer before its timeout` } };
}

/** A callback step's function returned: the task row gives way to a wait for the token, due at the deadline. */
export function awaitAnswer(bench: Bench, input: Extract<Input, { kind: 'await' }>): void {
  const { work } = input;
  bench.consume.push({ executionId: work.executionId, kind: work.kind, key: work.key, owner: bench.env.workerId });
  scheduleRow(bench, { executionId: work.executionId, kind: 'outside', key: work.key, attempt: work.attempt, dueAt: input.deadline, deadline: input.deadline, tokenHash: input.tokenHash });
}
