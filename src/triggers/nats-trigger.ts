import { DefinitionChecks, natsSubjectMatches, natsSubjectProblem } from './definition-checks.js';
import type { ExecutionIdRule, InputMapper } from './message.js';

/** Back-pressure default: no more messages are taken while this many executions of a trigger run. */
export const DEFAULT_MAX_RUNNING = 64;

export interface NatsTriggerOptions {
  /** Names the trigger: part of every execution id it makes (`nats.<name>:<key>`) and of the default durable. */
  name: string;
  /** The workflow each message starts. */
  workflow: string;
  /** NATS server URL(s), e.g. `nats://127.0.0.1:4222` (credentials may go in the URL). */
  servers: string | string[];
  /** The JetStream stream holding the messages. */
  stream: string;
  /** The subject the trigger consumes (the durable consumer's filter; wildcards allowed). */
  subject: string;
  /** The durable pull consumer's name. @default `stepwise-<name>` */
  durable?: string;
  /** Create the stream (subjects: subject, dead-letter and outbound subjects) when it is missing. @default false */
  createStream?: boolean;
  /** How the execution id's key is found. @default the Nats-Msg-Id header, else the stream sequence */
  executionId?: ExecutionIdRule;
  /** Maps the parsed JSON body to the execution input. @default the body itself */
  input?: InputMapper;
  /** Where messages that can never start go (published with JetStream; a stream must capture it). @default `stepwise.dead-letter.<name>` */
  deadLetterSubject?: string;
  /** Back-pressure: stop pulling while this many of the trigger's executions run. @default 64 */
  maxRunning?: number;
  /** When set, an event is published here (with JetStream) when an execution the trigger started ends. */
  outboundSubject?: string;
  /** How long the server waits for an acknowledgement before redelivering. @default 30000 */
  ackWaitMs?: number;
  /** Most messages asked for in one pull (never more than the room back-pressure leaves). @default 32 */
  batchSize?: number;
}

/** A NATS JetStream trigger, checked and with its defaults filled; run by a TriggerRunner. */
export interface NatsTrigger extends Readonly<Omit<NatsTriggerOptions, 'servers'>> {
  readonly kind: 'nats';
  readonly servers: readonly string[];
  readonly durable: string;
  readonly createStream: boolean;
  readonly deadLetterSubject: string;
  readonly maxRunning: number;
  readonly ackWaitMs: number;
  readonly batchSize: number;
}

const KNOWN = [
  'name', 'workflow', 'servers', 'stream', 'subject', 'durable', 'createStream', 'executionId', 'input',
  'deadLetterSubject', 'maxRunning', 'outboundSubject', 'ackWaitMs', 'batchSize',
] as const;

/**
 * Defines a trigger that starts `workflow` for each message on a JetStream stream's `subject`,
 * through a durable pull consumer. See docs/triggers.md. Throws INVALID_DEFINITION when an option
 * is wrong.
 */
export function natsTrigger(options: NatsTriggerOptions): NatsTrigger {
  const check = new DefinitionChecks('natsTrigger', options as unknown as Record<string, unknown>);
  check.onlyKnown(KNOWN);
  check.identifier('name');
  check.identifier('workflow');
  const servers = typeof options.servers === 'string' ? [options.servers] : options.servers;
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every((s) => typeof s === 'string' && s.trim().length > 0)) {
    check.problem('servers must be a URL or a non-empty list of URLs');
  }
  streamish(check, 'stream', options.stream);
  if (options.durable !== undefined) streamish(check, 'durable', options.durable);
  const subjectProblem = natsSubjectProblem('subject', options.subject, true);
  if (subjectProblem) check.problem(subjectProblem);
  const deadLetterSubject = options.deadLetterSubject ?? `stepwise.dead-letter.${options.name}`;
  for (const [field, value] of [['deadLetterSubject', deadLetterSubject], ['outboundSubject', options.outboundSubject]] as const) {
    if (value === undefined) continue;
    const problem = natsSubjectProblem(field, value, false);
    if (problem) check.problem(problem);
    else if (!subjectProblem && natsSubjectMatches(options.subject, value)) {
      check.problem(`${field} '${value}' is matched by subject '${options.subject}': the trigger would consume its own messages`);
    }
  }
  check.executionIdRule();
  check.fn('input');
  check.positiveInt('maxRunning', 1_000_000);
  check.positiveInt('ackWaitMs', 3_600_000);
  check.positiveInt('batchSize', 1000);
  if (options.createStream !== undefined && typeof options.createStream !== 'boolean') check.problem('createStream must be a boolean');
  check.done();
  return Object.freeze({
    ...options,
    kind: 'nats' as const,
    servers: Object.freeze([...servers]),
    durable: options.durable ?? `stepwise-${options.name}`,
    createStream: options.createStream ?? false,
    deadLetterSubject,
    maxRunning: options.maxRunning ?? DEFAULT_MAX_RUNNING,
    ackWaitMs: options.ackWaitMs ?? 30_000,
    batchSize: options.batchSize ?? 32,
  });
}

/** Stream and consumer names: no spaces, dots, wildcards or path separators (NATS's rule). */
function streamish(check: DefinitionChecks, field: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128 || /[\s.*>/\\\u0000-\u001f]/.test(value)) {
    check.problem(`${field} must be 1-128 characters without spaces, '.', '*', '>', '/' or '\\'`);
  }
}
