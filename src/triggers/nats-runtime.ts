import { connect, headers as natsHeaders, nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy, jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError,
  type Consumer, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg,
} from '@nats-io/jetstream';
import type { ExecutionSummary } from '../core/store.js';
import { pause } from '../core/pause.js';
import { reconnectDelay, redeliveryDelay } from './backoff.js';
import { executionEndedEvent, executionEndedEventId } from './ended-event.js';
import { takeIn, type Intake } from './intake.js';
import type { TriggerMessage } from './message.js';
import type { NatsTrigger } from './nats-trigger.js';
import { headerSafe, type RuntimeContext, type TriggerRuntime } from './runtime-context.js';

/** How long one pull waits for messages before asking again (the server's heartbeats keep it honest). */
const FETCH_EXPIRES_MS = 10_000;

/**
 * Runs one NATS trigger: a durable pull consumer on the stream, pulling only as many messages as
 * back-pressure leaves room for. A message is acknowledged with `ackAck()` (the server confirms)
 * only after its start is committed; a poison message is published to the dead-letter subject
 * (with JetStream, so it is stored) and then terminated; a start that failed for a passing reason
 * is nak'ed with a delay. The client reconnects by itself after a dropped connection; when the
 * connection or the consumer is lost for good, this loop connects again with backoff.
 */
export class NatsTriggerRuntime implements TriggerRuntime {
  private readonly stopper = new AbortController();
  private loop: Promise<void> | undefined;
  private batch: ConsumerMessages | undefined;
  private js: JetStreamClient | undefined;
  /** `s<stream creation time>`: with the stream sequence, a message key that survives redelivery but not the stream's re-creation. */
  private streamKey = '';

  constructor(
    private readonly trigger: NatsTrigger,
    private readonly ctx: RuntimeContext,
  ) {}

  private get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    await this.batch?.close().catch(() => undefined);
    await this.loop;
  }

  async publishEnded(execution: ExecutionSummary): Promise<void> {
    const subject = this.trigger.outboundSubject;
    if (subject === undefined) return;
    const js = this.js;
    if (!js) throw new Error(`trigger '${this.trigger.name}' is not connected to NATS`);
    const h = natsHeaders();
    h.set('Stepwise-Execution-Id', execution.id);
    h.set('Stepwise-Status', execution.status);
    const body = JSON.stringify(executionEndedEvent(this.trigger.name, execution));
    await js.publish(subject, body, { msgID: executionEndedEventId(execution), headers: h });
    this.ctx.emit({ type: 'published', trigger: this.trigger.name, executionId: execution.id, status: execution.status });
  }

  private async run(): Promise<void> {
    let attempt = 1;
    while (!this.stopped) {
      try {
        await this.session(() => {
          attempt = 1;
        });
      } catch (error) {
        if (this.stopped) break;
        this.ctx.emit({ type: 'disconnected', trigger: this.trigger.name, error });
        this.ctx.log.warn({ trigger: this.trigger.name, err: error }, 'NATS trigger: connection or consumer failed; reconnecting');
      }
      if (!this.stopped) await pause(reconnectDelay(attempt++), this.stopper.signal);
    }
  }

  /** One connection's life: set up the stream and consumer, pull until stopped or the connection is gone. */
  private async session(connected: () => void): Promise<void> {
    const nc = await connect({
      servers: [...this.trigger.servers],
      name: `stepwise-trigger-${this.trigger.name}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      timeout: 5000,
    });
    try {
      const jsm = await jetstreamManager(nc);
      this.streamKey = await this.ensureStream(jsm);
      await this.ensureConsumer(jsm);
      const js = jetstream(nc);
      const consumer = await js.consumers.get(this.trigger.stream, this.trigger.durable);
      this.js = js;
      connected();
      this.ctx.emit({ type: 'ready', trigger: this.trigger.name });
      void this.reportStatus(nc);
      await this.pull(nc, consumer);
    } finally {
      this.js = undefined;
      await nc.close().catch(() => undefined);
    }
  }

  private async ensureStream(jsm: JetStreamManager): Promise<string> {
    const { stream, subject, deadLetterSubject, outboundSubject } = this.trigger;
    let created: string;
    try {
      created = (await jsm.streams.info(stream)).created;
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.StreamNotFound) || !this.trigger.createStream) throw error;
      const subjects = [subject, deadLetterSubject, ...(outboundSubject ? [outboundSubject] : [])];
      created = (await jsm.streams.add({ name: stream, subjects })).created;
    }
    return `s${Date.parse(created).toString(36)}`;
  }

  private async ensureConsumer(jsm: JetStreamManager): Promise<void> {
    const { stream, durable, subject, ackWaitMs } = this.trigger;
    const wanted = { filter_subject: subject, ack_wait: nanos(ackWaitMs) };
    try {
      const info = await jsm.consumers.info(stream, durable);
      if (info.config.filter_subject !== subject || info.config.ack_wait !== wanted.ack_wait) {
        await jsm.consumers.update(stream, durable, wanted);
      }
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
      await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, max_deliver: -1, ...wanted });
    }
  }

  private async reportStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') this.ctx.emit({ type: 'disconnected', trigger: this.trigger.name, error: new Error('NATS connection lost') });
      else if (status.type === 'reconnect') {
        // The pull request was made on the lost connection and the server's answers to it go
        // nowhere: end it now and pull afresh, rather than wait for missed heartbeats to say so.
        void this.batch?.close().catch(() => undefined);
        this.ctx.emit({ type: 'ready', trigger: this.trigger.name });
      }
    }
  }

  private async pull(nc: NatsConnection, consumer: Consumer): Promise<void> {
    const { running } = this.ctx;
    let failures = 0;
    while (!this.stopped && !nc.isClosed()) {
      if (running.room === 0) {
        this.ctx.emit({ type: 'paused', trigger: this.trigger.name, running: running.running });
        await running.waitForRoom(this.stopper.signal);
        if (this.stopped) break;
        this.ctx.emit({ type: 'resumed', trigger: this.trigger.name, running: running.running });
      }
      const handling: Array<Promise<void>> = [];
      try {
        // Never ask for more than back-pressure allows: each message takes one place.
        this.batch = await consumer.fetch({ max_messages: Math.min(this.trigger.batchSize, running.room), expires: FETCH_EXPIRES_MS });
        if (this.stopped) await this.batch.close();
        for await (const msg of this.batch) handling.push(this.handle(msg));
        failures = 0;
      } catch (error) {
        if (this.stopped) break;
        if (isApiError(error, JetStreamApiCodes.ConsumerNotFound) || isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
        // Missed heartbeats, a reconnect in progress: the client recovers; ask again shortly.
        this.ctx.log.warn({ trigger: this.trigger.name, err: error }, 'NATS trigger: pull failed; pulling again');
        await pause(reconnectDelay(++failures), this.stopper.signal);
      } finally {
        this.batch = undefined;
        await Promise.all(handling);
      }
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    const { running } = this.ctx;
    if (!running.tryReserve()) {
      msg.nak(1000); // cannot happen (the pull asked for at most the room); offered again shortly
      return;
    }
    // A start normally takes milliseconds; if the store is slow, keep the server from redelivering meanwhile.
    const working = setInterval(() => msg.working(), Math.max(500, this.trigger.ackWaitMs / 2));
    working.unref();
    let outcome: Intake;
    try {
      const message = toTriggerMessage(msg);
      outcome = await takeIn(this.trigger, this.ctx.engine, message, message.messageId ?? `${this.streamKey}-${msg.info.streamSequence}`);
    } catch (error) {
      outcome = { kind: 'retry', error };
    } finally {
      clearInterval(working);
    }
    running.settle(outcome.kind === 'started' ? outcome.execution : undefined);
    await this.settle(msg, outcome);
  }

  private async settle(msg: JsMsg, outcome: Intake): Promise<void> {
    const name = this.trigger.name;
    try {
      if (outcome.kind === 'started') {
        // Confirmed ack. If it is lost (the connection dropped), the message comes back after the
        // ack wait, maps to the same id and starts nothing new: a warning, not an error.
        let confirmed = false;
        try {
          confirmed = await msg.ackAck({ timeout: Math.min(5000, this.trigger.ackWaitMs) });
        } catch (error) {
          this.ctx.log.warn({ trigger: name, seq: msg.seq, err: error }, 'NATS trigger: an ack was not confirmed; a redelivery will start nothing new');
        }
        if (confirmed) this.ctx.emit({ type: 'started', trigger: name, executionId: outcome.execution.id, created: outcome.created, redelivered: msg.redelivered });
      } else if (outcome.kind === 'poison') {
        await this.deadLetter(msg, outcome.code, outcome.reason);
        // No reason with the term: nats-server before 2.10 ignores a "+TERM <reason>" entirely
        // (the message would come back forever); the reason is in the dead letter's headers.
        msg.term();
        this.ctx.emit({ type: 'dead-lettered', trigger: name, code: outcome.code, reason: outcome.reason });
      } else {
        msg.nak(redeliveryDelay(msg.info.deliveryCount));
        this.ctx.log.warn({ trigger: name, seq: msg.seq, err: outcome.error }, 'NATS trigger: the start failed; the message will be delivered again');
        this.ctx.emit({ type: 'retrying', trigger: name, error: outcome.error });
      }
    } catch (error) {
      // The dead letter could not be stored, or the connection dropped: leave the message unacked
      // (or nak it) so it is delivered again; nothing is lost.
      this.ctx.log.error({ trigger: name, seq: msg.seq, err: error }, 'NATS trigger: could not settle a message; it will be delivered again');
      try {
        msg.nak(redeliveryDelay(msg.info.deliveryCount));
      } catch {
        // disconnected: the ack wait brings it back
      }
    }
  }

  private async deadLetter(msg: JsMsg, code: string, reason: string): Promise<void> {
    const js = this.js;
    if (!js) throw new Error('not connected');
    const h = natsHeaders();
    if (msg.headers) {
      for (const key of msg.headers.keys()) {
        // Nats-* headers steer the server (a copied Nats-Msg-Id would make this a duplicate).
        if (!key.toLowerCase().startsWith('nats-')) for (const value of msg.headers.values(key)) h.append(key, value);
      }
    }
    h.set('Stepwise-Dead-Letter-Code', code);
    h.set('Stepwise-Dead-Letter-Reason', headerSafe(reason));
    h.set('Stepwise-Trigger', this.trigger.name);
    h.set('Stepwise-Original-Subject', msg.subject);
    h.set('Stepwise-Original-Sequence', String(msg.info.streamSequence));
    const msgID = `dead-letter.${this.trigger.name}.${this.streamKey}.${msg.info.streamSequence}`;
    await js.publish(this.trigger.deadLetterSubject, msg.data, { msgID, headers: h });
  }
}

function toTriggerMessage(msg: JsMsg): TriggerMessage {
  const headers: Record<string, string> = {};
  if (msg.headers) {
    for (const key of msg.headers.keys()) {
      const lower = key.toLowerCase();
      if (!(lower in headers)) headers[lower] = msg.headers.get(key);
    }
  }
  const messageId = msg.headers?.get('Nats-Msg-Id');
  return { messageId: messageId ? messageId : undefined, headers, subject: msg.subject, body: msg.data, redelivered: msg.redelivered };
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}
