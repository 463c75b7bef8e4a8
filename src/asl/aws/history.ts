/**
 * Stepwise history as GetExecutionHistory events: AWS event types and detail shapes
 * (ExecutionStarted, TaskStateEntered, TaskScheduled, TaskSucceeded, MapIterationStarted, ...),
 * ids numbered from 1 with previousEventId. States the translation added (joins, catch routes)
 * are left out; their work shows under the ASL state they belong to.
 */
import { HistoryEventType as T, type HistoryEvent } from '../../core/events.js';
import { aslErrorName } from '../asl-errors.js';
import type { CompiledAsl } from '../asl-workflow.js';
import { parseResource } from '../resources.js';

export interface AwsHistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

const json = (v: unknown) => JSON.stringify(v ?? null);
const unwrap = (output: unknown) => (output !== null && typeof output === 'object' && 'v' in output ? (output as { v: unknown }).v : output);

/** The ASL state a DSL state stands for, and its role ('' for the state itself). */
function ownerOf(compiled: CompiledAsl | undefined, step: string): { name: string; type: string; role: string; activity?: string } | undefined {
  if (!compiled) return { name: step, type: 'Task', role: '' };
  const direct = compiled.stateNames.get(step);
  let name = direct;
  let role = '';
  if (!name) {
    for (const [dsl, asl] of compiled.stateNames) {
      if (step.startsWith(`${dsl}-`) && (!name || dsl.length > role.length)) {
        name = asl;
        role = step.slice(dsl.length + 1);
      }
    }
  }
  if (!name) return undefined;
  const state = stateOf(compiled, name);
  const activity = state?.Type === 'Task' && parseResource(String(state.Resource))?.kind === 'activity' ? String(state.Resource) : undefined;
  return { name, type: state?.Type ?? 'Task', role, ...(activity ? { activity } : {}) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- ASL JSON, walked by field name
function stateOf(compiled: CompiledAsl, name: string): Record<string, any> | undefined {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
  const search = (states: Record<string, any>): Record<string, any> | undefined => {
    for (const [n, s] of Object.entries(states)) {
      if (n === name) return s;
      for (const b of s.Branches ?? []) {
        const t = search(b.States);
        if (t) return t;
      }
    }
    return undefined;
  };
  return search(compiled.definition.States);
}

export function toAwsHistory(events: HistoryEvent[], compiled: CompiledAsl | undefined, roleArn: string): AwsHistoryEvent[] {
  const out: Array<Omit<AwsHistoryEvent, 'id' | 'previousEventId'>> = [];
  const push = (e: HistoryEvent, type: string, details?: [string, Record<string, unknown>]) =>
    out.push({ timestamp: e.timestamp, type, ...(details ? { [details[0]]: details[1] } : {}) });
  for (const e of events) {
    const owner = e.step ? ownerOf(compiled, e.step) : undefined;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- event data is JSON of many shapes, read by field name
    const data = (e.data ?? {}) as Record<string, any>;
    switch (e.type) {
      case T.ExecutionStarted:
        push(e, 'ExecutionStarted', ['executionStartedEventDetails', { input: json(data.input), inputDetails: { truncated: false }, roleArn }]);
        break;
      case T.ExecutionSucceeded:
        push(e, 'ExecutionSucceeded', ['executionSucceededEventDetails', { output: json(data.output), outputDetails: { truncated: false } }]);
        break;
      case T.ExecutionFailed:
        push(e, 'ExecutionFailed', ['executionFailedEventDetails', { error: aslErrorName(data.error?.code ?? '', data.error?.message), cause: data.error?.message ?? '' }]);
        break;
      case T.ExecutionCancelled:
        push(e, 'ExecutionAborted', ['executionAbortedEventDetails', {}]);
        break;
      case T.StateEntered:
        if (owner && owner.role === '') push(e, `${owner.type}StateEntered`, ['stateEnteredEventDetails', { name: owner.name }]);
        break;
      case T.StepStarted:
        if (!owner) break;
        if (owner.role === 'items') push(e, 'MapIterationStarted', ['mapIterationStartedEventDetails', { name: owner.name, index: data.index }]);
        else if (owner.role === '' && owner.activity) {
          // An activity's attempt starts when a worker takes it (AWS: ActivityScheduled, then ActivityStarted).
          if (e.attempt === 1) push(e, 'TaskStateEntered', ['stateEnteredEventDetails', { name: owner.name }]);
          push(e, 'ActivityScheduled', ['activityScheduledEventDetails', { resource: owner.activity }]);
          push(e, 'ActivityStarted', ['activityStartedEventDetails', { workerName: String(data.worker ?? '') }]);
        } else if (owner.role === '' && owner.type === 'Task') {
          if (e.attempt === 1) push(e, 'TaskStateEntered', ['stateEnteredEventDetails', { name: owner.name }]);
          push(e, 'TaskScheduled', ['taskScheduledEventDetails', { resourceType: 'lambda', resource: 'invoke', region: 'local', parameters: '{}' }]);
          push(e, 'TaskStarted', ['taskStartedEventDetails', { resourceType: 'lambda', resource: 'invoke' }]);
        } else if (owner.role === '' && e.attempt === 1) {
          // A state run as a stored step (JSONata mode, or a Pass using States.UUID).
          push(e, `${owner.type}StateEntered`, ['stateEnteredEventDetails', { name: owner.name }]);
        }
        break;
      case T.StepSucceeded:
        if (!owner) break;
        if (owner.role === 'items') push(e, 'MapIterationSucceeded', ['mapIterationSucceededEventDetails', { name: owner.name, index: data.index }]);
        else if (owner.role === '' && owner.activity) {
          push(e, 'ActivitySucceeded', ['activitySucceededEventDetails', { output: json(data.output), outputDetails: { truncated: false } }]);
          push(e, 'TaskStateExited', ['stateExitedEventDetails', { name: owner.name, output: json(data.output) }]);
        } else if (owner.role === '' && owner.type === 'Task') {
          push(e, 'TaskSucceeded', ['taskSucceededEventDetails', { resourceType: 'lambda', resource: 'invoke', output: json(unwrap(data.output)) }]);
          push(e, 'TaskStateExited', ['stateExitedEventDetails', { name: owner.name, output: json(unwrap(data.output)) }]);
        } else if (owner.role === '' && owner.type !== 'Fail') {
          push(e, `${owner.type}StateExited`, ['stateExitedEventDetails', { name: owner.name, output: json(unwrap(data.output)) }]);
        }
        break;
      case T.StepFailed:
        if (!owner) break;
        if (owner.role === 'items') push(e, 'MapIterationFailed', ['mapIterationFailedEventDetails', { name: owner.name, index: data.index }]);
        else if (owner.role === '' && owner.activity) {
          const error = aslErrorName(data.error?.code ?? '', data.error?.message);
          const timedOut = error === 'States.Timeout' || error === 'States.HeartbeatTimeout';
          push(e, timedOut ? 'ActivityTimedOut' : 'ActivityFailed', [timedOut ? 'activityTimedOutEventDetails' : 'activityFailedEventDetails', { error, cause: data.error?.message ?? '' }]);
        } else if (owner.role === '' && owner.type === 'Task') {
          push(e, 'TaskFailed', ['taskFailedEventDetails', { resourceType: 'lambda', resource: 'invoke', error: aslErrorName(data.error?.code ?? '', data.error?.message), cause: data.error?.message ?? '' }]);
        }
        break;
      case T.TimerStarted:
        if (owner) push(e, 'WaitStateEntered', ['stateEnteredEventDetails', { name: owner.name }]);
        break;
      case T.TimerFired:
        if (owner) push(e, 'WaitStateExited', ['stateExitedEventDetails', { name: owner.name }]);
        break;
      default:
        break;
    }
  }
  return out.map((e, i) => ({ ...e, id: i + 1, previousEventId: i }) as AwsHistoryEvent);
}
