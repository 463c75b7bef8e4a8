import { DefinitionChecks } from './definition-checks.js';
import type { ExecutionIdRule, InputMapper } from './message.js';
import { DEFAULT_MAX_RUNNING } from './nats-trigger.js';

export interface AmqpTriggerOptions {
  /** Names the trigger: part of every execution id it makes (`amqp.<name>:<key>`). */
  name: string;
  /** The workflow each message starts. */
  workflow: string;
  /** The broker, e.g. `amqp://guest:guest@127.0.0.1:5672`. */
  url: string;
  /** The queue the trigger consumes. */
  queue: string;
  /**
   * Declare the queue (durable) on every (re)connect. false: only check that it exists, for a
   * queue declared elsewhere with arguments of its own (a quorum queue, a TTL...). @default true
   */
  declareQueue?: boolean;
  /** How the execution id's key is found. @default the message's `messageId` property */
  executionId?: ExecutionIdRule;
  /** Maps the parsed JSON body to the execution input. @default the body itself */
  input?: InputMapper;
  /** Where messages that can never start go (declared durable; published with confirms). @default `<queue>.dead-letter` */
  deadLetterQueue?: string;
  /** Back-pressure: stop consuming while this many of the trigger's executions run. @default 64 */
  maxRunning?: number;
  /** When set, an event is published to this exchange (a durable topic exchange) when an execution the trigger started ends. */
  outboundExchange?: string;
  /** The routing key of the outbound event. @default `stepwise.ended.<workflow>` */
  outboundRoutingKey?: string;
  /** Messages handled at once (also the channel's prefetch). @default the smaller of maxRunning and 16 */
  concurrency?: number;
}

/** A RabbitMQ trigger, checked and with its defaults filled; run by a TriggerRunner. */
export interface AmqpTrigger extends Readonly<AmqpTriggerOptions> {
  readonly kind: 'amqp';
  readonly declareQueue: boolean;
  readonly deadLetterQueue: string;
  readonly maxRunning: number;
  readonly outboundRoutingKey: string;
  readonly concurrency: number;
}

const KNOWN = [
  'name', 'workflow', 'url', 'queue', 'declareQueue', 'executionId', 'input', 'deadLetterQueue', 'maxRunning',
  'outboundExchange', 'outboundRoutingKey', 'concurrency',
] as const;

/**
 * Defines a trigger that starts `workflow` for each message on a RabbitMQ `queue`. See
 * docs/triggers.md. Throws INVALID_DEFINITION when an option is wrong.
 */
export function amqpTrigger(options: AmqpTriggerOptions): AmqpTrigger {
  const check = new DefinitionChecks('amqpTrigger', options as unknown as Record<string, unknown>);
  check.onlyKnown(KNOWN);
  check.identifier('name');
  check.identifier('workflow');
  if (typeof options.url !== 'string' || !/^amqps?:\/\/\S+$/.test(options.url)) check.problem('url must be an amqp:// or amqps:// URL');
  check.text('queue');
  check.text('deadLetterQueue', true);
  check.text('outboundExchange', true);
  check.text('outboundRoutingKey', true);
  if (options.deadLetterQueue !== undefined && options.deadLetterQueue === options.queue) check.problem('deadLetterQueue must differ from queue');
  if (options.declareQueue !== undefined && typeof options.declareQueue !== 'boolean') check.problem('declareQueue must be a boolean');
  check.executionIdRule();
  check.fn('input');
  check.positiveInt('maxRunning', 1_000_000);
  check.positiveInt('concurrency', 1000);
  check.done();
  const maxRunning = options.maxRunning ?? DEFAULT_MAX_RUNNING;
  return Object.freeze({
    ...options,
    kind: 'amqp' as const,
    declareQueue: options.declareQueue ?? true,
    deadLetterQueue: options.deadLetterQueue ?? `${options.queue}.dead-letter`,
    maxRunning,
    outboundRoutingKey: options.outboundRoutingKey ?? `stepwise.ended.${options.workflow}`,
    concurrency: Math.min(options.concurrency ?? 16, maxRunning),
  });
}
