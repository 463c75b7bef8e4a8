/**
 * What happened to each state of a workflow, derived from an execution's history: the colour of
 * its node in the graph and the line of detail under its name. Pure: no DOM, so it is tested
 * with plain histories. Event types, step error codes and execution statuses are the server's own
 * constants (src/core), so a renamed event or code breaks the type-check, not the page.
 */
import { StepErrorCodes } from '../../../core/errors.js';
import { HistoryEventType } from '../../../core/events.js';
import { ExecutionStatus } from '../../../core/status.js';
import { errorCode, fmtClock, fmtDuration, toMs } from './format.js';
import { allStates, branchChildren, successors, type EdgeKind } from './transitions.js';
import type { ApiHistoryEvent, StateDescription } from './types.js';

/** The six colours of the graph, in the legend's order. */
export const NODE_STATUSES = ['succeeded', 'running', 'failed', 'compensated', 'cancelled', 'not-reached'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

export const STATUS_LABELS: Record<NodeStatus, string> = {
  succeeded: 'Succeeded',
  running: 'Running',
  failed: 'Failed',
  compensated: 'Compensated',
  cancelled: 'Cancelled',
  'not-reached': 'Not reached',
};

/** The events that end an execution. */
export const TERMINAL_EVENTS: ReadonlySet<string> = new Set([
  HistoryEventType.ExecutionSucceeded,
  HistoryEventType.ExecutionFailed,
  HistoryEventType.ExecutionCancelled,
]);

/** True for an execution status that never changes again (an unknown status is not). */
export function isEnded(status: string): boolean {
  return status === ExecutionStatus.SUCCEEDED || status === ExecutionStatus.FAILED || status === ExecutionStatus.CANCELLED;
}

/** One state's history, folded. */
export interface StepInfo {
  /** Handler runs started (the highest attempt number seen). */
  attempts: number;
  /** History events that name this state. */
  events: number;
  entered?: boolean;
  /** A handler run started and has not ended. */
  open?: boolean;
  outcome?: 'ok' | 'fail' | null;
  retryPending?: boolean;
  startedAt?: number | null;
  /** Of the last handler run or of the wait. */
  duration?: number | null;
  /** The last failure's stored error. */
  error?: unknown;
  /** When the pending retry or the timer is due. */
  dueAt?: number | null;
  timer?: 'started' | 'fired';
  /** The compensation that undoes this step, and how far it got. */
  comp?: 'started' | 'done' | 'failed';
  compName?: string;
  compError?: unknown;
  /** Where the last attempt ran (`data.worker` of its StepStarted: an engine, a function's host or a polling worker). */
  ranOn?: string;
}

function durationSince(start: number | null | undefined, ts: number | null): number | null {
  return ts !== null && typeof start === 'number' ? ts - start : null;
}

/** Folds a history into one StepInfo per state it names (compensations count for the step they undo). */
export function stepInfo(events: readonly ApiHistoryEvent[]): Map<string, StepInfo> {
  const info = new Map<string, StepInfo>();
  const compensationFor = new Map<string, string>();
  const of = (name: string): StepInfo => {
    let x = info.get(name);
    if (!x) info.set(name, (x = { attempts: 0, events: 0 }));
    return x;
  };
  for (const ev of events) {
    const ts = toMs(ev.timestamp);
    const data = ev.data && typeof ev.data === 'object' ? ev.data : {};
    const step = typeof ev.step === 'string' ? ev.step : null;
    const x = step !== null ? of(step) : null;
    switch (ev.type) {
      case HistoryEventType.CompensationStarted:
      case HistoryEventType.CompensationSucceeded:
      case HistoryEventType.CompensationFailed: {
        // `step` names the compensation; `data.for` the step it undoes (remembered for later events).
        const target = typeof data.for === 'string' ? data.for : step !== null ? compensationFor.get(step) : undefined;
        if (target === undefined) break;
        if (step !== null) compensationFor.set(step, target);
        const undone = of(target);
        undone.compName = step ?? undone.compName;
        undone.comp =
          ev.type === HistoryEventType.CompensationStarted ? 'started' : ev.type === HistoryEventType.CompensationSucceeded ? 'done' : 'failed';
        if (ev.type === HistoryEventType.CompensationFailed) undone.compError = data.error;
        break;
      }
      default:
        if (x) foldStepEvent(x, ev, ts, data);
    }
  }
  return info;
}

function foldStepEvent(x: StepInfo, ev: ApiHistoryEvent, ts: number | null, data: Record<string, unknown>): void {
  x.events++;
  switch (ev.type) {
    case HistoryEventType.StateEntered:
      x.entered = true;
      break;
    case HistoryEventType.StepStarted:
      x.open = true;
      x.outcome = null;
      x.retryPending = false;
      x.startedAt = ts;
      x.attempts = Math.max(x.attempts + (ev.attempt ? 0 : 1), ev.attempt ?? 0);
      if (typeof data.worker === 'string') x.ranOn = data.worker;
      else delete x.ranOn;
      break;
    case HistoryEventType.StepSucceeded:
      x.open = false;
      x.outcome = 'ok';
      x.retryPending = false;
      x.duration = durationSince(x.startedAt, ts);
      break;
    case HistoryEventType.StepFailed:
      x.open = false;
      x.outcome = 'fail';
      x.error = data.error;
      x.duration = durationSince(x.startedAt, ts);
      break;
    case HistoryEventType.RetryScheduled:
      x.retryPending = true;
      x.dueAt = toMs(data.dueAt);
      break;
    case HistoryEventType.TimerStarted:
      x.timer = 'started';
      x.dueAt = toMs(data.dueAt);
      x.startedAt = ts;
      break;
    case HistoryEventType.TimerFired:
      x.timer = 'fired';
      x.duration = durationSince(x.startedAt, ts);
      break;
    case HistoryEventType.EventConsumed:
      // A waitForEvent state took its event: it is done, whatever its timer said.
      x.timer = 'fired';
      x.outcome = 'ok';
      x.duration = durationSince(x.startedAt, ts);
      break;
  }
}

export interface Statuses {
  /** Every state of the description, nested ones included. */
  statuses: Map<string, NodeStatus>;
  info: Map<string, StepInfo>;
}

/** The status of every state of `states` after `events`, for an execution now in `execStatus`. */
export function computeStatuses(states: readonly StateDescription[], events: readonly ApiHistoryEvent[], execStatus: string): Statuses {
  const info = stepInfo(events);
  const ended = isEnded(execStatus);
  const succeeded = execStatus === ExecutionStatus.SUCCEEDED;
  const endStatus: NodeStatus = execStatus === ExecutionStatus.CANCELLED ? 'cancelled' : succeeded ? 'succeeded' : 'failed';
  // A step still open when the execution ended was cut short (a sibling branch failed, or a cancel).
  const cutShort: NodeStatus = 'cancelled';
  const byName = new Map(allStates(states).map((s) => [s.name, s]));
  const touched = (st: StateDescription): boolean => info.has(st.name) || branchChildren(st).some(touched);
  const nextReached = (st: StateDescription) =>
    successors(st).some((e) => e.kind !== 'catch' && byName.has(e.to) && touched(byName.get(e.to)!));

  // A worker step writes nothing until a poll takes it: it is waiting when the state before it
  // (one that names it as its only next state) succeeded, or when it is the first state of all.
  const awaitingPoll = (st: StateDescription): boolean =>
    states[0]?.name === st.name && events.length > 0
      ? ![...info.keys()].some((name) => name !== st.name && byName.has(name))
      : [...byName.values()].some((p) => p.next === st.name && p.type !== 'choice' && resolve(p) === 'succeeded');

  const out = new Map<string, NodeStatus>();
  const resolve = (st: StateDescription): NodeStatus => {
    const known = out.get(st.name);
    if (known) return known;
    const x = info.get(st.name) ?? { attempts: 0, events: 0 };
    let status: NodeStatus;
    if (Array.isArray(st.branches) && st.branches.length) {
      const kids = branchChildren(st).map(resolve);
      if (!touched(st)) status = 'not-reached';
      else if (kids.includes('running')) status = 'running';
      else if (kids.includes('failed')) status = 'failed';
      else if (nextReached(st) || succeeded) status = 'succeeded';
      else status = ended ? endStatus : 'running';
    } else if (x.comp === 'done') status = 'compensated';
    else if (x.comp === 'failed') status = 'failed';
    else if (x.comp === 'started') status = ended ? 'failed' : 'running';
    else if (x.open) status = ended ? cutShort : 'running';
    else if (x.outcome === 'fail' && errorCode(x.error) === StepErrorCodes.Cancelled) status = 'cancelled';
    else if (x.outcome === 'fail') status = x.retryPending && !ended ? 'running' : 'failed';
    else if (x.outcome === 'ok') status = 'succeeded';
    else if (x.timer === 'started') status = ended ? cutShort : 'running';
    else if (x.timer === 'fired') status = 'succeeded';
    else if (x.retryPending) status = ended ? cutShort : 'running';
    else if (x.entered) {
      if (st.type === 'fail') status = 'failed';
      // A wait for an event that was entered and neither consumed nor passed is still waiting.
      else if (st.type === 'task' || st.type === 'map' || st.type === 'waitForEvent') status = nextReached(st) || succeeded ? 'succeeded' : ended ? cutShort : 'running';
      else status = 'succeeded';
    } else if (st.awaits?.kind === 'worker' && !ended && awaitingPoll(st)) status = 'running';
    else status = 'not-reached';
    out.set(st.name, status);
    return status;
  };
  for (const st of byName.values()) resolve(st);
  return { statuses: out, info };
}

/** An edge was taken when both its ends were reached; a catch edge only when its source failed. */
export function edgeTaken(kind: EdgeKind, from: NodeStatus, to: NodeStatus): boolean {
  return from !== 'not-reached' && to !== 'not-reached' && (kind !== 'catch' || from === 'failed' || from === 'compensated');
}

/** The line under a state's name: what happened, how long it took, how many attempts. */
export function nodeDetail(state: StateDescription, status: NodeStatus, info: StepInfo | undefined): string {
  const x = info ?? { attempts: 0, events: 0 };
  const isStep = state.type === 'task' || x.attempts > 0;
  switch (status) {
    case 'succeeded': {
      const parts = ['succeeded'];
      if ((isStep || x.timer) && x.duration !== undefined && x.duration !== null) parts.push(fmtDuration(x.duration));
      if (x.attempts > 1) parts.push(`${x.attempts} attempts`);
      if (x.ranOn && state.awaits?.kind === 'worker') parts.push(`on ${x.ranOn}`);
      return parts.join(' · ');
    }
    case 'running':
      if (x.comp === 'started') return `compensating${x.compName ? ` (${x.compName})` : ''}`;
      if (x.retryPending) return `retrying · attempt ${x.attempts + 1} next`;
      if (state.type === 'waitForEvent' && state.event) return `waiting for event ${state.event}`;
      if (x.timer === 'started') return `waiting${x.dueAt ? ` until ${fmtClock(x.dueAt).slice(0, 8)}` : ''}`;
      if (state.awaits?.kind === 'worker' && !x.open) return `waiting for a worker · queue ${state.awaits.queue}${x.attempts > 0 ? ` · attempt ${x.attempts + 1}` : ''}`;
      if (state.awaits?.kind === 'callback' && x.open) return `waiting for a callback${x.attempts > 1 ? ` · attempt ${x.attempts}` : ''}`;
      return `running${x.attempts > 1 ? ` · attempt ${x.attempts}` : ''}${x.ranOn && state.awaits?.kind === 'worker' ? ` · on ${x.ranOn}` : ''}`;
    case 'failed': {
      if (x.comp === 'failed') return 'compensation failed';
      const code = errorCode(x.error);
      return code ? `failed · ${code}` : 'failed';
    }
    case 'compensated':
      return `compensated${x.compName ? ` by ${x.compName}` : ''}`;
    case 'cancelled':
      return x.open || x.timer === 'started' || x.retryPending || x.attempts > 0 ? 'cancelled · interrupted' : 'cancelled';
    default:
      return state.compensation ? `not reached · undo: ${state.compensation}` : 'not reached';
  }
}
