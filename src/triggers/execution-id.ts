import { createHash } from 'node:crypto';
import { isValidExecutionId } from '../core/ids.js';

/** Where an execution came from; the first part of its id. */
export type TriggerKind = 'nats' | 'amqp' | 'hook';

const KEY_CHARS = /^[A-Za-z0-9._:-]+$/;

/** The id prefix every execution a trigger starts carries: `nats.orders:`. */
export function triggerIdPrefix(kind: TriggerKind, name: string): string {
  return `${kind}.${name}:`;
}

/**
 * The execution id for a message or delivery: `<kind>.<name>:<key>`. The prefix keeps two
 * triggers (or a trigger and a client of the HTTP API) from ever claiming each other's ids, and
 * lets a restarted trigger find the executions it started. A key that cannot appear in an id as
 * it is (a character outside `A-Za-z0-9._:-`, or too long) is replaced by `h-` and 32 hex digits
 * of its SHA-256: still a pure function of the key, so a redelivery maps to the same id.
 */
export function triggerExecutionId(kind: TriggerKind, name: string, key: string): string {
  const prefix = triggerIdPrefix(kind, name);
  const direct = prefix + key;
  if (KEY_CHARS.test(key) && !key.startsWith('h-') && isValidExecutionId(direct)) return direct;
  return `${prefix}h-${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32)}`;
}
