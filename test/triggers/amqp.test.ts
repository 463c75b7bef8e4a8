/**
 * RabbitMQ triggers against the real broker on 127.0.0.1:5672 (guest/guest), through a real engine
 * on SQLite. Each test uses queues and exchanges of its own and deletes them afterwards; the
 * connection-drop test goes through a TCP proxy it cuts.
 */
import { Connection, type Channel, type Publisher } from 'rabbitmq-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StepwiseError, TriggerRunner, amqpTrigger, type AmqpTriggerOptions } from '../../src/index.js';
import type { TriggerEngine } from '../../src/triggers/trigger-engine.js';
import { AMQP_URL, TcpProxy, amqpAvailable, eventually, uniqueName } from '../fixtures/brokers.js';
import { EventLog, engineWithHook, quietLogger, runningCount, startTestEngine, type TestEngine } from './trigger-harness.js';

const available = await amqpAvailable();

describe.skipIf(!available)('RabbitMQ trigger', () => {
  let admin: Connection;
  let channel: Channel;
  let publisher: Publisher;
  let t: TestEngine;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    admin = new Connection({ url: AMQP_URL });
    admin.on('error', () => undefined);
    channel = await admin.acquire();
    publisher = admin.createPublisher({ confirm: true });
  });
  afterAll(async () => {
    await publisher?.close();
    await channel?.close();
    await admin?.close();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  /** A queue (and its dead-letter queue) of the test's own, deleted afterwards. */
  async function setup(): Promise<{ queue: string }> {
    const queue = uniqueName('sw-q');
    await channel.queueDeclare({ queue, durable: true });
    cleanups.push(() => channel.queueDelete({ queue }));
    cleanups.push(() => channel.queueDelete({ queue: `${queue}.dead-letter` }));
    t = await startTestEngine();
    cleanups.push(() => t.close());
    return { queue };
  }

  async function run(triggers: Array<Partial<AmqpTriggerOptions> & { name: string; queue: string }>, engine: TriggerEngine = t.engine) {
    const runner = new TriggerRunner({ logger: quietLogger, engine, triggers: triggers.map((o) => amqpTrigger({ workflow: 'order', url: AMQP_URL, ...o })) });
    const log = new EventLog();
    runner.on(log.listener);
    await runner.start();
    cleanups.push(() => runner.stop());
    return { runner, log };
  }

  async function send(queue: string, body: unknown, props: { messageId?: string; contentType?: string; headers?: Record<string, string> } = {}): Promise<void> {
    await publisher.send({ routingKey: queue, durable: true, ...props }, body);
  }

  async function ready(queue: string): Promise<number> {
    return (await channel.queueDeclare({ queue, passive: true })).messageCount;
  }

  async function take(queue: string, count: number) {
    const out = [];
    for (let i = 0; i < count; i++) {
      const msg = await channel.basicGet({ queue, noAck: true });
      if (!msg) break;
      out.push(msg);
    }
    return out;
  }

  it('starts one execution per message, acknowledges it, and the executions run', async () => {
    const { queue } = await setup();
    const { log } = await run([{ name: 'orders', queue, input: async (body) => ({ order: body }) }]);
    await send(queue, { n: 1 }, { messageId: 'order-1' });
    await send(queue, Buffer.from(JSON.stringify({ n: 2 })), { messageId: 'order-2' });
    await send(queue, JSON.stringify({ n: 3 }), { messageId: 'order-3', contentType: 'text/plain' });
    await log.until('started', (e) => e.type === 'started', 3);
    const executions = await t.executions('amqp.orders:');
    expect(executions.map((e) => e.id)).toEqual(['amqp.orders:order-1', 'amqp.orders:order-2', 'amqp.orders:order-3']);
    expect(executions.map((e) => e.input)).toEqual([{ order: { n: 1 } }, { order: { n: 2 } }, { order: { n: 3 } }]);
    for (const e of executions) expect((await t.engine.waitForEnd(e.id, 10_000)).status).toBe('SUCCEEDED');
    expect(await ready(queue)).toBe(0);
  });

  it('takes the execution id from a header or a body field when told to', async () => {
    const { queue } = await setup();
    const other = uniqueName('sw-q');
    await channel.queueDeclare({ queue: other, durable: true });
    cleanups.push(() => channel.queueDelete({ queue: other }));
    cleanups.push(() => channel.queueDelete({ queue: `${other}.dead-letter` }));
    const { log } = await run([
      { name: 'by-header', queue, executionId: { header: 'X-Order' } },
      { name: 'by-field', queue: other, executionId: { field: 'order.id' } },
    ]);
    await send(queue, { any: 1 }, { headers: { 'X-Order': 'B-42' } });
    await send(other, { order: { id: 17 } });
    await log.until('started', (e) => e.type === 'started', 2);
    expect(log.started().map((e) => e.executionId).sort()).toEqual(['amqp.by-field:17', 'amqp.by-header:B-42']);
  });

  it('maps a redelivered message to the same execution and starts nothing new', async () => {
    const { queue } = await setup();
    let lost = 0;
    const engine = engineWithHook(t.engine, () => {
      if (lost++ === 0) throw new StepwiseError('STORE_UNAVAILABLE', 'simulated: the process lost the answer after the commit');
    });
    const { log } = await run([{ name: 'redo', queue }], engine);
    await send(queue, { once: true }, { messageId: 'only-once' });
    await log.until('a start after the redelivery', (e) => e.type === 'started');
    expect(log.count((e) => e.type === 'retrying')).toBe(1);
    expect(log.started()).toEqual([expect.objectContaining({ executionId: 'amqp.redo:only-once', created: false, redelivered: true })]);
    expect(await t.executions('amqp.redo:')).toHaveLength(1);
  });

  it('sends poison to the dead-letter queue with the reason in a header, and acknowledges it', async () => {
    const { queue } = await setup();
    const { log } = await run([{
      name: 'picky',
      queue,
      input: (body) => {
        if ((body as { refuse?: boolean }).refuse) throw new Error('refused by the mapping');
        return body;
      },
    }]);
    await send(queue, Buffer.from('not json at all'), { messageId: 'p-1', headers: { 'X-Trace': 't-1' } });
    await send(queue, Buffer.from('{"broken":'), { messageId: 'p-2', contentType: 'application/json' });
    await send(queue, Buffer.from(`${'['.repeat(70)}${']'.repeat(70)}`), { messageId: 'p-3' });
    await send(queue, { refuse: true }, { messageId: 'p-4' });
    await send(queue, { no: 'message id' });
    await send(queue, { v: 1 }, { messageId: 'same' });
    await send(queue, { v: 2 }, { messageId: 'same' });
    await log.until('dead letters', (e) => e.type === 'dead-lettered', 6);
    await log.until('the one good start', (e) => e.type === 'started');

    const dead = await take(`${queue}.dead-letter`, 6);
    expect(dead.map((m) => m.headers?.['x-stepwise-dead-letter-code']).sort()).toEqual(
      ['EXECUTION_CONFLICT', 'INPUT_TOO_DEEP', 'MALFORMED_JSON', 'MALFORMED_JSON', 'VALIDATION_FAILED', 'VALIDATION_FAILED'],
    );
    const first = dead.find((m) => m.messageId === 'p-1')!;
    expect(Buffer.isBuffer(first.body) ? first.body.toString() : first.body).toBe('not json at all');
    expect(first.headers?.['X-Trace']).toBe('t-1');
    expect(first.headers?.['x-stepwise-dead-letter-reason']).toMatch(/not valid JSON/);
    expect(dead.find((m) => m.messageId === 'p-4')!.headers?.['x-stepwise-dead-letter-reason']).toBe('refused by the mapping');
    expect(dead.find((m) => m.messageId === undefined)!.headers?.['x-stepwise-dead-letter-reason']).toMatch(/no messageId property/);
    expect((await t.executions('amqp.picky:')).map((e) => e.input)).toEqual([{ v: 1 }]);
    expect(await ready(queue)).toBe(0);
  });

  it('stops consuming while maxRunning of its executions run, and consumes again as they end', async () => {
    const { queue } = await setup();
    const { runner, log } = await run([{ name: 'bp', queue, workflow: 'gated', maxRunning: 3 }]);
    let most = 0;
    runner.on(() => { most = Math.max(most, runner.status()[0]!.running); });
    for (let i = 0; i < 8; i++) await send(queue, { i }, { messageId: `m-${i}` });

    await log.until('paused with 3 running', (e) => e.type === 'paused');
    expect(log.started()).toHaveLength(3);
    expect(await runningCount(t.engine, 'amqp.bp:')).toBe(3);
    // The consumer is cancelled: whatever it held goes back, and the other five wait in the queue.
    await eventually('five messages back in the queue', async () => (await ready(queue)) === 5);

    t.gate.releaseOne();
    await log.until('the fourth start', (e) => e.type === 'started', 4);
    await log.until('paused again', (e) => e.type === 'paused', 2);
    expect(log.count((e) => e.type === 'resumed')).toBe(1);
    expect(log.started()).toHaveLength(4);
    expect(await runningCount(t.engine, 'amqp.bp:')).toBe(3);
    await eventually('four messages in the queue', async () => (await ready(queue)) === 4);

    t.gate.releaseAll();
    await log.until('every message started', (e) => e.type === 'started' && e.created, 8);
    expect(most).toBeLessThanOrEqual(3);
    expect(await t.executions('amqp.bp:')).toHaveLength(8);
  });

  it('stops promptly while back-pressure holds it, leaving the rest in the queue', async () => {
    const { queue } = await setup();
    const { runner, log } = await run([{ name: 'held', queue, workflow: 'gated', maxRunning: 1 }]);
    for (let i = 0; i < 3; i++) await send(queue, { i }, { messageId: `h-${i}` });
    await log.until('paused', (e) => e.type === 'paused');
    await runner.stop();
    expect(log.started()).toHaveLength(1);
    await eventually('the other two back in the queue', async () => (await ready(queue)) === 2);
  });

  it('publishes an event when an execution ends, and another trigger chains from it', async () => {
    const { queue } = await setup();
    const exchange = uniqueName('sw-ex');
    const ended = uniqueName('sw-ended');
    await channel.exchangeDeclare({ exchange, type: 'topic', durable: true });
    await channel.queueDeclare({ queue: ended, durable: true });
    await channel.queueBind({ queue: ended, exchange, routingKey: 'stepwise.ended.#' });
    cleanups.push(() => channel.exchangeDelete({ exchange }));
    cleanups.push(() => channel.queueDelete({ queue: ended }));
    cleanups.push(() => channel.queueDelete({ queue: `${ended}.dead-letter` }));
    const { log } = await run([
      { name: 'first', queue, outboundExchange: exchange },
      { name: 'second', queue: ended, workflow: 'follow-up' },
    ]);
    await send(queue, { step: 1 }, { messageId: 'chain-1' });
    await log.until('the chained start', (e) => e.type === 'started' && e.trigger === 'second');
    await log.until('the confirmed publication', (e) => e.type === 'published' && e.executionId === 'amqp.first:chain-1' && e.status === 'SUCCEEDED');
    const [chained] = await t.executions('amqp.second:');
    expect(chained!.id).toBe('amqp.second:amqp.first:chain-1.ended');
    expect(chained!.input).toMatchObject({ type: 'stepwise.execution.ended', id: 'amqp.first:chain-1', status: 'SUCCEEDED', output: { accepted: { step: 1 } } });
  });

  it('loses and doubles nothing when its connection drops mid-stream', async () => {
    const { queue } = await setup();
    const proxy = await TcpProxy.start(5672);
    cleanups.push(() => proxy.close());
    let starts = 0;
    // Cut the connection right after the third start commits, before its acknowledgement.
    const engine = engineWithHook(t.engine, () => {
      if (++starts === 3) proxy.dropAll();
    });
    const { log } = await run([{ name: 'drop', queue, url: `amqp://guest:guest@127.0.0.1:${proxy.port}`, concurrency: 4 }], engine);
    await log.until('ready', (e) => e.type === 'ready');
    const K = 12;
    for (let i = 0; i < K; i++) await send(queue, { i }, { messageId: `d-${i}` });

    await log.until('the reconnect', (e) => e.type === 'ready', 2);
    await eventually('every message to start', async () => new Set(log.started().map((e) => e.executionId)).size === K, 30_000);
    const executions = await t.executions('amqp.drop:');
    expect(executions).toHaveLength(K);
    expect(executions.map((e) => (e.input as { i: number }).i).sort((a, b) => a - b)).toEqual([...Array(K).keys()]);
    // A start that finds its execution there came from a message delivered twice: it, or the
    // other delivery of that message, is marked redelivered (a slow first start can finish after
    // its redelivery's, and then it is the one that finds the execution).
    const started = log.started();
    const refound = started.filter((e) => !e.created);
    expect(refound.length).toBeGreaterThanOrEqual(1);
    expect(refound.filter((e) => !started.some((s) => s.executionId === e.executionId && s.redelivered))).toEqual([]);
    await eventually('the queue to be empty', async () => (await ready(queue)) === 0);
  });
});

describe('amqpTrigger() checks its definition', () => {
  const base = { name: 'a', workflow: 'order', url: 'amqp://guest:guest@127.0.0.1:5672', queue: 'q' };
  it.each([
    ['a URL of another scheme', { ...base, url: 'http://x' }, /url must be an amqp/],
    ['an empty queue', { ...base, queue: '' }, /queue must be/],
    ['the dead-letter queue equal to the queue', { ...base, deadLetterQueue: 'q' }, /deadLetterQueue must differ/],
    ['a concurrency of 0', { ...base, concurrency: 0 }, /concurrency must be an integer/],
    ['an input that is not a function', { ...base, input: 'x' as never }, /input must be a function/],
  ])('refuses %s', (_label, options, message) => {
    expect(() => amqpTrigger(options as never)).toThrow(message);
  });
});
