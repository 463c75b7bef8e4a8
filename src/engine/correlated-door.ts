/**
 * The door of correlated events (POST /v1/events, `Engine.publishEvent`): a publish is kept by the
 * store for the retention time and delivered, in the same transaction, to every execution waiting
 * on its name and key as an 'event' row; an execution that enters such a wait later gets the kept
 * events as 'event' rows in the commit that enters it. Either way the row is claimed like a timer
 * (on whichever process claims it) and turned here into a `delivery` input carrying the event.
 */
import { StepwiseError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { Store, WorkItem } from '../core/store.js';
import { checkEvent } from './event-input.js';
import type { Input } from './inputs.js';

export interface PublishRequest {
  name: string;
  /** The correlation key: waits whose `key` function returned this string get the event. */
  key: string;
  payload?: unknown;
  /** Makes the publish idempotent: the same id again, while its event is kept, changes nothing. */
  id?: string;
}

export interface Published {
  id: string;
  /** false when an event with this id is kept already (nothing changed). */
  created: boolean;
  /** Executions the event was delivered to: by this call, or for a replay every one so far. */
  deliveredTo: string[];
  /** Until when the event is kept for executions that reach a wait on its key later (ms since the epoch). */
  retainedUntil: number;
}

export interface PublishDeps {
  store: Store;
  clock: Clock;
  retentionMs: number;
  maxInputBytes: number;
  /** Due 'event' rows were written: claim them. */
  wake(at: number): void;
}

export async function publishCorrelated(request: PublishRequest, deps: PublishDeps): Promise<Published> {
  const { key } = request;
  if (typeof key !== 'string' || key.length === 0 || key.length > 256) {
    throw new StepwiseError('VALIDATION_FAILED', 'event key must be a string of 1-256 characters', { field: 'key' });
  }
  const checked = checkEvent(request.name, request.payload, request.id, deps.maxInputBytes);
  const now = deps.clock.now();
  const outcome = await deps.store.publishEvent({ ...checked, key, receivedAt: now, expiresAt: now + deps.retentionMs }, now);
  if (outcome.created && outcome.deliveredTo.length > 0) deps.wake(now);
  return { id: outcome.event.id, created: outcome.created, deliveredTo: outcome.deliveredTo, retainedUntil: outcome.event.expiresAt };
}

/** Reads the events of claimed 'event' rows (one read) and delivers each row, in due order. */
export async function deliverCorrelated(rows: WorkItem[], deps: { store: Store; deliver(executionId: string, input: Input): void }): Promise<void> {
  if (rows.length === 0) return;
  const events = await deps.store.readCorrelatedEvents(rows.map((w) => w.key));
  const ordered = [...rows].sort((a, b) => a.dueAt - b.dueAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const work of ordered) {
    const e = events.get(work.key);
    deps.deliver(work.executionId, { kind: 'delivery', work, event: e && { id: e.id, name: e.name, key: e.key, payload: e.payload } });
  }
}
