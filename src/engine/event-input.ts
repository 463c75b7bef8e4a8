/**
 * The checks every door applies to an event before it reaches the commit loop: a valid name, an
 * id (given, or a fresh one), and a payload within the same size and depth limits as an input.
 */
import { randomUUID } from 'node:crypto';
import { StepwiseError } from '../core/errors.js';
import { toJson } from '../core/json.js';
import { EVENT_NAME } from '../dsl/validate.js';

/** What an event id may hold: like an execution id. */
const EVENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export interface CheckedEvent {
  id: string;
  name: string;
  payload: unknown;
}

export function checkEvent(name: string, payload: unknown, id: string | undefined, maxBytes: number): CheckedEvent {
  if (typeof name !== 'string' || !EVENT_NAME.test(name)) {
    throw new StepwiseError('VALIDATION_FAILED', "event name must be 1-128 letters, digits, '_', '-', '.' or ':'", { field: 'name' });
  }
  if (id !== undefined && (typeof id !== 'string' || !EVENT_ID.test(id))) {
    throw new StepwiseError('VALIDATION_FAILED', 'event id must be 1-128 characters of letters, digits and ._:- starting with a letter or digit', { field: 'id' });
  }
  const checked = toJson(payload ?? null, { maxBytes });
  if (!checked.ok) {
    throw new StepwiseError(checked.reason === 'too-deep' ? 'INPUT_TOO_DEEP' : 'VALIDATION_FAILED', `payload: ${checked.message}`, { field: 'payload' });
  }
  return { id: id ?? `evt-${randomUUID()}`, name, payload: JSON.parse(checked.json) };
}
