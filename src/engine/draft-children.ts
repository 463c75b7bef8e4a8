/**
 * Invoke states in the draft step, pure like the rest of it: starting a child execution (in the
 * parent's own commit, with an id fixed by the parent, step and attempt), waiting for it on a
 * `child` row, and stopping it when the parent leaves the step.
 */
import { StepErrorCodes, type StepError } from '../core/errors.js';
import { HistoryEventType, type NewHistoryEvent } from '../core/events.js';
import { toJson } from '../core/json.js';
import type { NewWork } from '../core/store.js';
import { refKey } from '../core/work-ref.js';
import type { WorkflowEvent } from '../dsl/machine-types.js';
import { childIdOf } from './child-id.js';
import { wakeBy, type Bench } from './draft-commands.js';

/** A `child` row with no timeout: due never, until the child's end commit makes it due. */
export const NEVER_DUE = 8_640_000_000_000_000;

/** The largest input a child may be started with (the engine's default for any start). */
const MAX_CHILD_INPUT_BYTES = 1024 * 1024;

/** A machine event the draft applies after the current decision's commands (and its history event). */
export interface PendingEvent {
  history: NewHistoryEvent;
  event: WorkflowEvent;
}

export function isInvoke(bench: Bench, step: string): boolean {
  return bench.base.wf.step(step)?.invoke !== undefined;
}

/**
 * Starts attempt `attempt` of invoke step `key`: the child is created with this commit (only if
 * its id is free, so a retried commit creates nothing new), and the parent waits on a `child` row
 * due at the invoke's timeout. A child that cannot be started (its workflow is not registered,
 * its input function throws or returns something JSON cannot hold) fails the step at once.
 */
export function spawnChild(bench: Bench, step: string, key: string, attempt: number): PendingEvent | undefined {
  const { base, env } = bench;
  const spec = base.wf.step(step)!.invoke!;
  const childId = childIdOf(base.id, key, attempt);
  const started: NewHistoryEvent = {
    type: HistoryEventType.StepStarted, timestamp: env.now, step, attempt, data: { key, worker: env.workerId, childId, workflow: spec.workflow },
  };
  bench.events.push(started);
  const fail = (code: string, message: string): PendingEvent => {
    const error: StepError = { code, message };
    return {
      history: { type: HistoryEventType.StepFailed, timestamp: env.now, step, attempt, data: { key, childId, error } },
      event: { type: 'STEP_FAILED', key, error },
    };
  };
  const wf = env.workflowNamed?.(spec.workflow);
  if (!wf) return fail(StepErrorCodes.ChildNotStarted, `no workflow named '${spec.workflow}' is registered`);
  let input: unknown;
  try {
    const data = bench.snapshot!.context.data[base.wf.index.get(step)?.scope ?? ''] ?? null;
    input = spec.input ? spec.input(data) : data;
  } catch (error) {
    return fail(StepErrorCodes.ChildNotStarted, `the child's input function threw: ${error instanceof Error ? error.message : String(error)}`);
  }
  const checked = toJson(input, { maxBytes: MAX_CHILD_INPUT_BYTES });
  if (!checked.ok) return fail(StepErrorCodes.ChildNotStarted, `the child's input: ${checked.message}`);
  bench.spawn.push({
    id: childId, workflow: wf.name, version: wf.version, input: JSON.parse(checked.json), startedAt: env.now,
    parent: { id: base.id, key, attempt },
  });
  const dueAt = spec.timeoutMs === undefined ? NEVER_DUE : env.now + spec.timeoutMs;
  const row: NewWork = { executionId: base.id, kind: 'child', key, attempt, dueAt };
  bench.schedule.set(refKey(row), row);
  wakeBy(bench, env.now); // the child's start row is due now (and the child row no sooner)
  return undefined;
}

/** The parent left invoke step `key`: its `child` row goes, and the child it waits for is stopped. */
export function leaveChild(bench: Bench, key: string): void {
  const ref = { executionId: bench.base.id, kind: 'child' as const, key };
  const k = refKey(ref);
  bench.schedule.delete(k);
  if (!bench.consume.some((c) => refKey(c) === k)) bench.drop.set(k, ref);
  bench.stopKeys.add(key);
}
