import {
  createActor, type AnyActorScope, type AnyMachineSnapshot, type AnyStateMachine, type ExecutableActionObject, type StateValue,
} from 'xstate';
import { StepErrorCodes, type StepError } from '../core/errors.js';
import { HistoryEventType, type HistoryEvent } from '../core/events.js';
import { ExecutionStatus } from '../core/status.js';
import type { WorkKind } from '../core/store.js';
import { COMMAND_TYPES, FINAL, parseStepKey, type WorkflowCommand, type WorkflowContext, type WorkflowEvent } from '../dsl/machine-types.js';
import type { Workflow } from '../dsl/workflow.js';

/**
 * The pure brain: snapshot and event in, snapshot and commands out. No I/O, no clock, no
 * randomness; the same history always folds to the same snapshot.
 */

export type Snapshot = AnyMachineSnapshot & { context: WorkflowContext };

export interface Decision {
  snapshot: Snapshot;
  commands: WorkflowCommand[];
}

export function begin(wf: Workflow, input: unknown): Decision {
  const [snapshot, actions] = cachedInitialTransition(wf.machine, input);
  return { snapshot: snapshot as Snapshot, commands: commandsOf(actions) };
}

export function decide(wf: Workflow, snapshot: Snapshot, event: WorkflowEvent): Decision {
  const [next, actions] = cachedTransition(wf.machine, snapshot, event);
  return { snapshot: next as Snapshot, commands: commandsOf(actions) };
}

/**
 * xstate's `initialTransition(machine, input)`, on a cached scope (see `scopeFor`). Returns the
 * snapshot and every action the machine asked for, as data; runs none of them.
 * test/engine/scope-contract.test.ts requires both to match xstate's public functions.
 */
export function cachedInitialTransition(machine: AnyStateMachine, input: unknown): [AnyMachineSnapshot, ExecutableActionObject[]] {
  const { scope, sink } = scopeFor(machine);
  sink.length = 0;
  const snapshot = machine.getInitialSnapshot(scope, input);
  return [snapshot, sink.splice(0)];
}

/** xstate's `transition(machine, snapshot, event)`, on a cached scope (see `scopeFor`). */
export function cachedTransition(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: WorkflowEvent): [AnyMachineSnapshot, ExecutableActionObject[]] {
  const { scope, sink } = scopeFor(machine);
  sink.length = 0;
  const next = machine.transition(snapshot, event, scope);
  return [next, sink.splice(0)];
}

/**
 * xstate's pure `transition()` builds a throw-away actor on every call, and that actor computes
 * the machine's initial snapshot each time (a fifth of a step's CPU, measured). This keeps one
 * inert scope per machine (xstate's public `ActorScope` interface, filled as `transition()` fills
 * its own) whose action executor only collects the actions, and reuses it: decisions are
 * synchronous, so no two share it at once, and the machines never read `self` or `system`.
 */
interface InertScope {
  scope: AnyActorScope;
  sink: ExecutableActionObject[];
}
const scopes = new WeakMap<AnyStateMachine, InertScope>();

function scopeFor(machine: AnyStateMachine): InertScope {
  let found = scopes.get(machine);
  if (!found) {
    const self = createActor(machine);
    const sink: ExecutableActionObject[] = [];
    const scope: AnyActorScope = {
      self, system: self.system, id: '', sessionId: '',
      defer: () => {}, logger: () => {}, stopChild: () => {}, emit: () => {},
      actionExecutor: (action) => { sink.push(action); },
    };
    found = { scope, sink };
    scopes.set(machine, found);
  }
  return found;
}

/** The plain-JSON form stored with the execution. */
export function persist(snapshot: Snapshot): { value: unknown; context: WorkflowContext } {
  return { value: snapshot.value, context: snapshot.context };
}

/** Turns a stored snapshot back into one `decide` accepts. */
export function restore(wf: Workflow, stored: unknown): Snapshot {
  const { value, context } = stored as { value: StateValue; context: WorkflowContext };
  return wf.machine.resolveState({ value, context }) as Snapshot;
}

export interface Outcome {
  status: ExecutionStatus;
  output?: unknown;
  error?: StepError;
}

/** RUNNING, or how the execution ended. */
export function outcomeOf(snapshot: Snapshot): Outcome {
  // '$failed' is not a final state (a redrive may leave it), so it is read before the status.
  const c = snapshot.context;
  if (snapshot.matches(FINAL.failed)) return { status: ExecutionStatus.FAILED, error: c.error ?? { code: StepErrorCodes.Unknown, message: 'the execution failed' } };
  if (snapshot.status !== 'done') return { status: ExecutionStatus.RUNNING };
  if (snapshot.matches(FINAL.succeeded)) return { status: ExecutionStatus.SUCCEEDED, output: c.output ?? null };
  const error = c.error ?? { code: StepErrorCodes.Unknown, message: 'the execution failed' };
  if (snapshot.matches(FINAL.cancelled)) return { status: ExecutionStatus.CANCELLED, error };
  return { status: ExecutionStatus.FAILED, error };
}

/**
 * Whether the machine still waits for this work: the task's state is active on this visit (a map
 * item still running, the compensation on top of the stack, the wait still armed). A claim for
 * work the machine no longer expects, which a lease that lapsed can produce, must not run.
 */
export function expectsWork(snapshot: Snapshot, work: { kind: WorkKind; key: string }): boolean {
  const c = snapshot.context;
  if (work.kind === 'compensation') return c.compensating[c.compensating.length - 1]?.key === work.key;
  // A correlated event delivered to the execution: its mailbox takes it whatever state it is in.
  if (work.kind === 'event') return true;
  const { step, visit, index } = parseStepKey(work.key);
  if ((c.visits[step] ?? 0) !== visit || !isActive(snapshot, step)) return false;
  return index === undefined || c.maps[step]?.progress[index] === 'r';
}

/**
 * Whether the state with id `name` (every compiled state's id is its name) is active: its path
 * from the root walked down the snapshot's value (what `snapshot.matches` does with the path as a
 * partial state value). The path is looked up once per machine and state, through xstate's public
 * `getStateNodeById`; this check runs for every result and claim.
 */
function isActive(snapshot: Snapshot, name: string): boolean {
  const path = statePath(snapshot.machine, name);
  if (!path) return false;
  let value: StateValue = snapshot.value;
  const last = path.length - 1;
  for (let i = 0; i < last; i++) {
    if (typeof value !== 'object' || value === null) return false;
    const inner: StateValue | undefined = value[path[i]!];
    if (inner === undefined) return false;
    value = inner;
  }
  return typeof value === 'string' ? value === path[last] : typeof value === 'object' && value !== null && path[last]! in value;
}

const statePaths = new WeakMap<AnyStateMachine, Map<string, readonly string[] | null>>();

function statePath(machine: AnyStateMachine, name: string): readonly string[] | null {
  let paths = statePaths.get(machine);
  if (!paths) statePaths.set(machine, (paths = new Map()));
  let path = paths.get(name);
  if (path === undefined) {
    try {
      path = machine.getStateNodeById(name).path;
    } catch {
      path = null; // no such state in this machine
    }
    // The root's path is empty: it is always active (matches with '' never is; keep xstate's answer).
    if (path && path.length === 0) path = null;
    paths.set(name, path);
  }
  return path;
}

/** The machine event a history event stands for, if it is one the machine consumed. */
export function machineEventOf(event: HistoryEvent): WorkflowEvent | undefined {
  const key = event.data?.key as string;
  switch (event.type) {
    case HistoryEventType.StepSucceeded: return { type: 'STEP_SUCCEEDED', key, output: event.data?.output ?? null };
    case HistoryEventType.StepFailed: return { type: 'STEP_FAILED', key, error: event.data?.error as StepError };
    case HistoryEventType.TimerFired: return { type: 'TIMER_FIRED', key };
    case HistoryEventType.CompensationSucceeded: return { type: 'COMPENSATION_SUCCEEDED', key };
    case HistoryEventType.CompensationFailed: return { type: 'COMPENSATION_FAILED', key, error: event.data?.error as StepError };
    case HistoryEventType.CancelRequested: return { type: 'CANCEL' };
    case HistoryEventType.BudgetExceeded: return { type: 'BUDGET_EXCEEDED', error: event.data?.error as StepError };
    case HistoryEventType.EventReceived: {
      const d = event.data ?? {};
      const received: WorkflowEvent = { type: 'EVENT_RECEIVED', id: d.id as string, name: d.name as string, payload: d.payload ?? null };
      if (typeof d.correlationKey === 'string') received.correlation = d.correlationKey;
      return received;
    }
    case HistoryEventType.ExecutionRedriven: return { type: 'REDRIVE' };
    default: return undefined;
  }
}

/**
 * Folds a whole history through the machine, from the input in ExecutionStarted. Used by tests
 * and `stepwise verify` to prove invariant 5: the stored snapshot is what the history says.
 */
export function replay(wf: Workflow, events: HistoryEvent[]): Snapshot {
  const started = events.find((e) => e.type === HistoryEventType.ExecutionStarted);
  let { snapshot } = begin(wf, started?.data?.input);
  for (const e of events) {
    const m = machineEventOf(e);
    if (m) snapshot = decide(wf, snapshot, m).snapshot;
  }
  return snapshot;
}

function commandsOf(actions: readonly ExecutableActionObject[]): WorkflowCommand[] {
  const out: WorkflowCommand[] = [];
  for (const a of actions) if (COMMAND_TYPES.has(a.type as WorkflowCommand['type'])) out.push({ type: a.type, params: a.params } as WorkflowCommand);
  return out;
}
