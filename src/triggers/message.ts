/**
 * A broker message as a trigger's own functions see it, and the rules that turn one into an
 * execution id and an input. Shared by the NATS and RabbitMQ triggers (and, for the id and the
 * input, by webhooks).
 */

/** One message, whatever broker it came from. */
export interface TriggerMessage {
  /** The broker's id for it: the Nats-Msg-Id header, or the AMQP `messageId` property. */
  messageId?: string;
  /** Headers, names lower-cased, first value of each (AMQP header values are stringified). */
  headers: Readonly<Record<string, string>>;
  /** The NATS subject, or the AMQP routing key. */
  subject: string;
  /** The raw body bytes. */
  body: Uint8Array;
  /** True when the broker says it delivered this message before. */
  redelivered: boolean;
}

/**
 * Where the execution id comes from (see docs/triggers.md#execution-ids):
 * - `{ header: 'x-order-id' }`: that header (names compare case-insensitively);
 * - `{ field: 'order.id' }`: a field of the JSON body, a dot-separated path;
 * - a function of the parsed body and the message, returning the key (undefined: none).
 * Whatever the rule gives is a key; the execution id is `<kind>.<trigger name>:<key>`.
 */
export type ExecutionIdRule =
  | { header: string }
  | { field: string }
  | ((body: unknown, message: TriggerMessage) => string | undefined);

/** Maps the parsed body (and the message) to the execution's input (or a promise of it). Throw to refuse the message. */
export type InputMapper<M = TriggerMessage> = (body: unknown, message: M) => unknown;

/** Reads a dot-separated path (`order.id`) from a parsed JSON value; numbers become strings. */
export function readField(value: unknown, path: string): string | undefined {
  let at: unknown = value;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object' || !Object.prototype.hasOwnProperty.call(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  if (typeof at === 'string') return at;
  if (typeof at === 'number' && Number.isFinite(at)) return String(at);
  return undefined;
}

/** Checks an id rule when a trigger is defined; returns the problem, if any. */
export function executionIdRuleProblem(rule: unknown): string | undefined {
  if (rule === undefined || typeof rule === 'function') return undefined;
  if (rule !== null && typeof rule === 'object') {
    const keys = Object.keys(rule);
    const value = (rule as Record<string, unknown>)[keys[0] ?? ''];
    if (keys.length === 1 && (keys[0] === 'header' || keys[0] === 'field') && typeof value === 'string' && value.length > 0) return undefined;
  }
  return "executionId must be { header: 'name' }, { field: 'path' } or a function";
}
