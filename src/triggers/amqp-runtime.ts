import { Connection, ConsumerStatus, type AsyncMessage, type Consumer, type Publisher } from 'rabbitmq-client';
import type { ExecutionSummary } from '../core/store.js';
import type { AmqpTrigger } from './amqp-trigger.js';
import { pause } from '../core/pause.js';
import { redeliveryDelay } from './backoff.js';
import { executionEndedEvent, executionEndedEventId } from './ended-event.js';
import { takeIn, type Intake } from './intake.js';
import type { TriggerMessage } from './message.js';
import { headerSafe, type RuntimeContext, type TriggerRuntime } from './runtime-context.js';

/**
 * Runs one RabbitMQ trigger with rabbitmq-client, which reconnects with backoff and declares the
 * queues and exchanges again after every reconnect. A message is acknowledged only after its
 * start is committed (AMQP acks are not confirmed: one lost with the connection means a
 * redelivery, which maps to the same execution id and starts nothing new). Poison goes to the
 * dead-letter queue through a confirmed publish, then is acknowledged. Back-pressure cancels the
 * consumer (basic.cancel) while the trigger's executions fill its limit and consumes again when
 * one ends; the channel's prefetch equals the handler concurrency, so at most that many messages
 * are held, and a message that finds the limit already reached is requeued unstarted.
 */
export class AmqpTriggerRuntime implements TriggerRuntime {
  private readonly stopper = new AbortController();
  private rabbit: Connection | undefined;
  private consumer: Consumer | undefined;
  private publisher: Publisher | undefined;
  private paused = false;
  private closing: Promise<void> | undefined;
  /** Passing failures in a row, for the delay before a failed message is requeued. */
  private failures = 0;

  constructor(
    private readonly trigger: AmqpTrigger,
    private readonly ctx: RuntimeContext,
  ) {}

  private get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  start(): void {
    if (this.rabbit) return;
    const { trigger, ctx } = this;
    const rabbit = new Connection({ url: trigger.url, connectionName: `stepwise-trigger-${trigger.name}`, retryLow: 250, retryHigh: 30_000 });
    rabbit.on('error', (error) => {
      ctx.emit({ type: 'disconnected', trigger: trigger.name, error });
      ctx.log.warn({ trigger: trigger.name, err: error }, 'AMQP trigger: connection failed; reconnecting');
    });
    this.rabbit = rabbit;
    this.publisher = rabbit.createPublisher({
      confirm: true,
      queues: [{ queue: trigger.deadLetterQueue, durable: true }],
      exchanges: trigger.outboundExchange ? [{ exchange: trigger.outboundExchange, type: 'topic', durable: true }] : [],
    });
    const consumer = rabbit.createConsumer(
      {
        queue: trigger.queue,
        queueOptions: trigger.declareQueue ? { durable: true } : { passive: true },
        qos: { prefetchCount: trigger.concurrency },
        concurrency: trigger.concurrency,
        requeue: true,
      },
      (msg) => this.handle(msg),
    );
    consumer.on('ready', () => ctx.emit({ type: 'ready', trigger: trigger.name }));
    consumer.on('error', (error) => ctx.log.warn({ trigger: trigger.name, err: error }, 'AMQP trigger: consumer error; it sets itself up again'));
    this.consumer = consumer;
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    // Handlers in flight finish first (close waits for them); prefetched messages go back to the queue.
    await this.closing;
    await this.consumer?.close();
    await this.publisher?.close();
    await this.rabbit?.close();
  }

  async publishEnded(execution: ExecutionSummary): Promise<void> {
    const { outboundExchange, outboundRoutingKey, name } = this.trigger;
    if (!outboundExchange || !this.publisher) return;
    await this.publisher.send(
      {
        exchange: outboundExchange,
        routingKey: outboundRoutingKey,
        durable: true,
        messageId: executionEndedEventId(execution),
        headers: { 'x-stepwise-execution-id': execution.id, 'x-stepwise-status': execution.status },
      },
      executionEndedEvent(name, execution),
    );
    this.ctx.emit({ type: 'published', trigger: name, executionId: execution.id, status: execution.status });
  }

  private async handle(msg: AsyncMessage): Promise<ConsumerStatus> {
    const { running } = this.ctx;
    if (this.stopped) return ConsumerStatus.REQUEUE;
    if (!running.tryReserve()) {
      this.pauseConsuming();
      return ConsumerStatus.REQUEUE;
    }
    const { message, parsed } = toTriggerMessage(msg);
    let outcome: Intake;
    try {
      outcome = await takeIn(this.trigger, this.ctx.engine, message, msg.messageId || undefined, parsed);
    } catch (error) {
      outcome = { kind: 'retry', error };
    }
    running.settle(outcome.kind === 'started' ? outcome.execution : undefined);
    // settle() reports the outcome synchronously: listeners hear of the start before of the pause.
    const status = this.settle(msg, message, outcome);
    if (running.room === 0) this.pauseConsuming();
    return status;
  }

  private async settle(msg: AsyncMessage, message: TriggerMessage, outcome: Intake): Promise<ConsumerStatus> {
    const name = this.trigger.name;
    if (outcome.kind === 'started') {
      this.failures = 0;
      this.ctx.emit({ type: 'started', trigger: name, executionId: outcome.execution.id, created: outcome.created, redelivered: msg.redelivered });
      return ConsumerStatus.ACK;
    }
    if (outcome.kind === 'poison') {
      try {
        await this.deadLetter(msg, message, outcome.code, outcome.reason);
        this.ctx.emit({ type: 'dead-lettered', trigger: name, code: outcome.code, reason: outcome.reason });
        return ConsumerStatus.ACK;
      } catch (error) {
        this.ctx.log.error({ trigger: name, err: error }, 'AMQP trigger: could not publish a dead letter; the message goes back to the queue');
        outcome = { kind: 'retry', error };
      }
    }
    this.failures++;
    this.ctx.log.warn({ trigger: name, err: outcome.error }, 'AMQP trigger: the start failed; the message goes back to the queue');
    this.ctx.emit({ type: 'retrying', trigger: name, error: outcome.error });
    // Requeued at once it would come straight back; hold it a while (less if the trigger stops).
    await pause(redeliveryDelay(this.failures), this.stopper.signal);
    return ConsumerStatus.REQUEUE;
  }

  private async deadLetter(msg: AsyncMessage, message: TriggerMessage, code: string, reason: string): Promise<void> {
    const publisher = this.publisher;
    if (!publisher) throw new Error('not connected');
    await publisher.send(
      {
        exchange: '',
        routingKey: this.trigger.deadLetterQueue,
        durable: true,
        ...(msg.messageId ? { messageId: msg.messageId } : {}),
        ...(msg.contentType ? { contentType: msg.contentType } : {}),
        ...(msg.contentEncoding ? { contentEncoding: msg.contentEncoding } : {}),
        headers: {
          ...(msg.headers ?? {}),
          'x-stepwise-dead-letter-code': code,
          'x-stepwise-dead-letter-reason': headerSafe(reason),
          'x-stepwise-trigger': this.trigger.name,
          'x-stepwise-original-queue': this.trigger.queue,
        },
      },
      Buffer.from(message.body),
    );
  }

  /** Back-pressure: stop consuming until one of the trigger's executions ends. */
  private pauseConsuming(): void {
    const consumer = this.consumer;
    if (this.paused || this.stopped || !consumer) return;
    this.paused = true;
    const { running } = this.ctx;
    this.ctx.emit({ type: 'paused', trigger: this.trigger.name, running: running.running });
    // Not awaited by the handler that calls this: close() waits for every handler to finish.
    this.closing = consumer.close();
    void this.closing.then(async () => {
      await running.waitForRoom(this.stopper.signal);
      this.paused = false;
      if (this.stopped) return;
      consumer.start();
      this.ctx.emit({ type: 'resumed', trigger: this.trigger.name, running: running.running });
    });
  }
}

/**
 * rabbitmq-client parses application/json bodies itself and turns text/plain into a string; the
 * raw bytes are rebuilt for the dead letter, and an already parsed body is handed over as parsed.
 */
function toTriggerMessage(msg: AsyncMessage): { message: TriggerMessage; parsed?: { value: unknown } } {
  let body: Buffer;
  let parsed: { value: unknown } | undefined;
  if (Buffer.isBuffer(msg.body)) body = msg.body;
  else if (msg.contentType === 'application/json' && !msg.contentEncoding) {
    parsed = { value: msg.body };
    body = Buffer.from(JSON.stringify(msg.body) ?? 'null', 'utf8');
  } else body = Buffer.from(typeof msg.body === 'string' ? msg.body : String(msg.body), 'utf8');
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(msg.headers ?? {})) {
    headers[key.toLowerCase()] = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : JSON.stringify(value) ?? String(value);
  }
  const message: TriggerMessage = {
    ...(msg.messageId ? { messageId: msg.messageId } : {}),
    headers,
    subject: msg.routingKey,
    body,
    redelivered: msg.redelivered,
  };
  return parsed ? { message, parsed } : { message };
}
