import type { ExecutionSummary } from '../core/store.js';

/**
 * The body of the event a trigger publishes when an execution it started ends (its `outbound`
 * option), so another workflow can start from it through the broker.
 */
export interface ExecutionEndedEvent {
  type: 'stepwise.execution.ended';
  /** The trigger that started the execution. */
  trigger: string;
  id: string;
  workflow: string;
  status: string;
  output?: unknown;
  error?: { code: string; message: string };
  startedAt: string;
  endedAt?: string;
}

export function executionEndedEvent(trigger: string, execution: ExecutionSummary): ExecutionEndedEvent {
  const event: ExecutionEndedEvent = {
    type: 'stepwise.execution.ended',
    trigger,
    id: execution.id,
    workflow: execution.workflow,
    status: execution.status,
    startedAt: new Date(execution.startedAt).toISOString(),
  };
  if (execution.output !== undefined) event.output = execution.output;
  if (execution.error) event.error = { code: execution.error.code, message: execution.error.message };
  if (execution.endedAt !== undefined) event.endedAt = new Date(execution.endedAt).toISOString();
  return event;
}

/**
 * The event's message id: the same for every publication of one execution's end, so JetStream's
 * duplicate window drops a second one and a trigger consuming the events (whose default execution
 * id is the message id) starts nothing twice.
 */
export function executionEndedEventId(execution: ExecutionSummary): string {
  return `${execution.id}.ended`;
}
