/**
 * What an operator can do from an execution's page, through the same API routes (and the same
 * bearer token) as any client: cancel it while it runs or waits QUEUED, send an event to it while
 * it runs, redrive it once it FAILED. The server decides; the page shows its refusal as it is.
 */
import { apiRequest, enc } from '../api.js';
import type { ApiExecution } from '../types.js';
import type { ExecutionAction } from './actions.js';

const base = (x: ApiExecution) => `/v1/executions/${enc(x.id)}`;

/** The payload field's text as JSON; empty means null. */
export function parsePayload(text: string): unknown {
  if (!text.trim()) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`The payload is not JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

export const EXECUTION_ACTIONS: readonly ExecutionAction[] = [
  {
    id: 'send-event',
    label: 'Send event',
    question: (x) => `Send this event to ${x.id}?`,
    // Events that arrive before their wait is reached are kept, so any running execution takes one.
    available: (x) => x.status === 'RUNNING',
    fields: [
      { id: 'name', label: 'Event name', initial: (_x, c) => c.waitingFor[0] ?? '' },
      { id: 'payload', label: 'Payload (JSON)', multiline: true, initial: () => '{}' },
    ],
    run: (x, v) => {
      const name = (v.name ?? '').trim();
      if (!name) throw new Error('Name the event.');
      return apiRequest('POST', `${base(x)}/events/${enc(name)}`, { payload: parsePayload(v.payload ?? '') });
    },
  },
  {
    id: 'cancel',
    label: 'Cancel execution',
    question: (x) => `Cancel ${x.id}? Completed steps are compensated.`,
    available: (x) => x.status === 'RUNNING' || x.status === 'QUEUED',
    run: (x) => apiRequest('POST', `${base(x)}/cancel`),
  },
  {
    id: 'redrive',
    label: 'Redrive',
    question: (x) => `Redrive ${x.id} from the state that failed? Completed steps do not run again.`,
    available: (x) => x.status === 'FAILED',
    run: (x) => apiRequest('POST', `${base(x)}/redrive`),
  },
];
