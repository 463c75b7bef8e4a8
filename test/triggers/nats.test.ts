/**
 * NATS JetStream triggers against the real server on 127.0.0.1:4222 (and, for the restart test, a
 * private nats-server the test kills and starts again), through a real engine on SQLite. Each test
 * uses its own stream and deletes it afterwards.
 */
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StepwiseError, TriggerRunner, natsTrigger, type NatsTriggerOptions } from '../../src/index.js';
import { PrivateNatsServer, TcpProxy, NATS_URL, eventually, natsAvailable, uniqueName } from '../fixtures/brokers.js';
import { EventLog, engineWithHook, quietLogger, runningCount, startTestEngine, type TestEngine } from './trigger-harness.js';

const available = await natsAvailable();

describe.skipIf(!available)('NATS JetStream trigger', () => {
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let t: TestEngine;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await nc?.close();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  /** A stream of the test's own: subjects <base>.in, <base>.dead, <base>.ended. */
  async function setup(): Promise<{ stream: string; base: string; prefix: (name: string) => string }> {
    const base = uniqueName('sw').replace(/-/g, '_');
    const stream = base.toUpperCase();
    await jsm.streams.add({ name: stream, subjects: [`${base}.>`] });
    cleanups.push(() => jsm.streams.delete(stream));
    t = await startTestEngine();
    cleanups.push(() => t.close());
    return { stream, base, prefix: (name) => `nats.${name}:` };
  }

  async function run(triggers: Array<Partial<NatsTriggerOptions> & { name: string; stream: string; subject: string }>, engine = t.engine as never) {
    const runner = new TriggerRunner({ logger: quietLogger, engine, triggers: triggers.map((o) => natsTrigger({ workflow: 'order', servers: NATS_URL, ackWaitMs: 2000, ...o })) });
    const log = new EventLog();
    runner.on(log.listener);
    await runner.start();
    cleanups.push(() => runner.stop());
    return { runner, log };
  }

  async function publish(subject: string, body: string | Uint8Array, msgID?: string, extra: Record<string, string> = {}): Promise<number> {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(extra)) h.set(k, v);
    return (await js.publish(subject, body, { ...(msgID ? { msgID } : {}), headers: h })).seq;
  }

  async function pending(stream: string, durable: string): Promise<{ pending: number; ackPending: number }> {
    const info = await jsm.consumers.info(stream, durable);
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  }

  async function deadLetters(stream: string, subject: string, count: number): Promise<JsMsg[]> {
    // A consumer of the test's own (nats-server 2.9 has no ordered consumers with a filter).
    const durable = uniqueName('reader');
    await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.None, filter_subject: subject });
    const reader = await js.consumers.get(stream, durable);
    const out: JsMsg[] = [];
    const batch = await reader.fetch({ max_messages: count, expires: 5000 });
    for await (const m of batch) {
      out.push(m);
      if (out.length === count) break;
    }
    await jsm.consumers.delete(stream, durable);
    return out;
  }

  it('starts one execution per message, acknowledges it, and the executions run', async () => {
    const { stream, base, prefix } = await setup();
    const { log } = await run([{ name: 'orders', stream, subject: `${base}.in`, input: (body) => ({ order: body }) }]);
    await log.until('ready', (e) => e.type === 'ready');
    const seqWithoutId = await publish(`${base}.in`, JSON.stringify({ n: 1 }));
    await publish(`${base}.in`, JSON.stringify({ n: 2 }), 'order-2');
    await log.until('started', (e) => e.type === 'started', 2);

    const executions = await t.executions(prefix('orders'));
    expect(executions.map((e) => e.id)).toEqual(expect.arrayContaining(['nats.orders:order-2', expect.stringMatching(new RegExp(`^nats\\.orders:s[0-9a-z]+-${seqWithoutId}$`))]));
    expect(executions).toHaveLength(2);
    for (const e of executions) {
      const ended = await t.engine.waitForEnd(e.id, 10_000);
      expect(ended.status).toBe('SUCCEEDED');
    }
    expect(executions.map((e) => e.input)).toEqual(expect.arrayContaining([{ order: { n: 1 } }, { order: { n: 2 } }]));
    await eventually('the consumer to have nothing pending', async () => {
      const p = await pending(stream, 'stepwise-orders');
      return p.pending === 0 && p.ackPending === 0;
    });
  });

  it('takes the execution id from a body field or a header when told to', async () => {
    const { stream, base } = await setup();
    const { log } = await run([
      { name: 'by-field', stream, subject: `${base}.field`, executionId: { field: 'order.id' } },
      { name: 'by-header', stream, subject: `${base}.header`, executionId: { header: 'X-Order' } },
    ]);
    await log.until('ready', (e) => e.type === 'ready', 2);
    await publish(`${base}.field`, JSON.stringify({ order: { id: 'A-17' } }));
    await publish(`${base}.header`, JSON.stringify({ any: 1 }), undefined, { 'X-Order': 'B-42' });
    await log.until('started', (e) => e.type === 'started', 2);
    expect(log.started().map((e) => e.executionId).sort()).toEqual(['nats.by-field:A-17', 'nats.by-header:B-42']);
  });

  it('maps a redelivered message to the same execution and starts nothing new', async () => {
    const { stream, base, prefix } = await setup();
    let lost = 0;
    // The first start commits, then the trigger "loses" it before acknowledging: the broker redelivers.
    const engine = engineWithHook(t.engine, () => {
      if (lost++ === 0) throw new StepwiseError('STORE_UNAVAILABLE', 'simulated: the process lost the answer after the commit');
    });
    const { log } = await run([{ name: 'redo', stream, subject: `${base}.in` }], engine as never);
    await publish(`${base}.in`, JSON.stringify({ once: true }), 'only-once');
    await log.until('a start after a redelivery', (e) => e.type === 'started');
    expect(log.count((e) => e.type === 'retrying')).toBe(1);
    expect(log.started()).toEqual([expect.objectContaining({ executionId: 'nats.redo:only-once', created: false, redelivered: true })]);
    expect(await t.executions(prefix('redo'))).toHaveLength(1);
  });

  it('sends poison to the dead-letter subject with the reason in a header, and terminates it', async () => {
    const { stream, base, prefix } = await setup();
    const { log } = await run([{
      name: 'picky',
      stream,
      subject: `${base}.in`,
      deadLetterSubject: `${base}.dead`,
      executionId: { field: 'id' },
      input: (body) => {
        if ((body as { refuse?: boolean }).refuse) throw new Error('refused by the mapping');
        return body;
      },
    }]);
    await publish(`${base}.in`, 'not json at all', undefined, { 'X-Trace': 't-1' });
    await publish(`${base}.in`, `${'['.repeat(70)}${']'.repeat(70)}`);
    await publish(`${base}.in`, JSON.stringify({ id: 'r', refuse: true }));
    await publish(`${base}.in`, JSON.stringify({ no: 'id' }));
    await publish(`${base}.in`, JSON.stringify({ id: 'same', v: 1 }));
    await publish(`${base}.in`, JSON.stringify({ id: 'same', v: 2 }));
    await log.until('dead letters', (e) => e.type === 'dead-lettered', 5);
    await log.until('the one good start', (e) => e.type === 'started', 1);

    const dead = await deadLetters(stream, `${base}.dead`, 5);
    const codes = dead.map((m) => m.headers?.get('Stepwise-Dead-Letter-Code'));
    expect(codes).toEqual(['MALFORMED_JSON', 'INPUT_TOO_DEEP', 'VALIDATION_FAILED', 'VALIDATION_FAILED', 'EXECUTION_CONFLICT']);
    expect(dead[0]!.string()).toBe('not json at all');
    expect(dead[0]!.headers?.get('X-Trace')).toBe('t-1');
    expect(dead[0]!.headers?.get('Stepwise-Dead-Letter-Reason')).toMatch(/not valid JSON/);
    expect(dead[2]!.headers?.get('Stepwise-Dead-Letter-Reason')).toBe('refused by the mapping');
    expect(dead[3]!.headers?.get('Stepwise-Dead-Letter-Reason')).toMatch(/no execution id: the body has no string or number at 'id'/);
    expect(dead.every((m) => m.headers?.get('Stepwise-Trigger') === 'picky')).toBe(true);
    expect((await t.executions(prefix('picky'))).map((e) => e.input)).toEqual([{ id: 'same', v: 1 }]);
    await eventually('poison to be terminated, not pending', async () => {
      const p = await pending(stream, 'stepwise-picky');
      return p.pending === 0 && p.ackPending === 0;
    });
  });

  it('stops pulling while maxRunning of its executions run, and pulls again as they end', async () => {
    const { stream, base, prefix } = await setup();
    const { runner, log } = await run([{ name: 'bp', stream, subject: `${base}.in`, workflow: 'gated', maxRunning: 3, batchSize: 10 }]);
    let most = 0;
    runner.on(() => { most = Math.max(most, runner.status()[0]!.running); });
    for (let i = 0; i < 8; i++) await publish(`${base}.in`, JSON.stringify({ i }), `m-${i}`);

    await log.until('paused with 3 running', (e) => e.type === 'paused');
    expect(log.started()).toHaveLength(3);
    expect(await runningCount(t.engine, prefix('bp'))).toBe(3);
    expect(await pending(stream, 'stepwise-bp')).toEqual({ pending: 5, ackPending: 0 });

    t.gate.releaseOne();
    await log.until('paused again', (e) => e.type === 'paused', 2);
    expect(log.count((e) => e.type === 'resumed')).toBe(1);
    expect(log.started()).toHaveLength(4);
    expect(await pending(stream, 'stepwise-bp')).toEqual({ pending: 4, ackPending: 0 });

    t.gate.releaseAll();
    await log.until('every message started', (e) => e.type === 'started', 8);
    expect(most).toBeLessThanOrEqual(3);
    const executions = await t.executions(prefix('bp'));
    expect(executions).toHaveLength(8);
  });

  it('stops promptly while back-pressure holds it, leaving the rest in the stream', async () => {
    const { stream, base } = await setup();
    const { runner, log } = await run([{ name: 'held', stream, subject: `${base}.in`, workflow: 'gated', maxRunning: 1 }]);
    for (let i = 0; i < 3; i++) await publish(`${base}.in`, JSON.stringify({ i }), `h-${i}`);
    await log.until('paused', (e) => e.type === 'paused');
    await runner.stop();
    expect(log.started()).toHaveLength(1);
    expect(await pending(stream, 'stepwise-held')).toEqual({ pending: 2, ackPending: 0 });
  });

  it('publishes an event when an execution ends, and another trigger chains from it', async () => {
    const { stream, base, prefix } = await setup();
    const { log } = await run([
      { name: 'first', stream, subject: `${base}.in`, outboundSubject: `${base}.ended` },
      { name: 'second', stream, subject: `${base}.ended`, workflow: 'follow-up' },
    ]);
    await publish(`${base}.in`, JSON.stringify({ step: 1 }), 'chain-1');
    await log.until('the chained start', (e) => e.type === 'started' && e.trigger === 'second');
    await log.until('the confirmed publication', (e) => e.type === 'published' && e.executionId === 'nats.first:chain-1' && e.status === 'SUCCEEDED');
    const [chained] = await t.executions(prefix('second'));
    expect(chained!.id).toBe('nats.second:nats.first:chain-1.ended');
    expect(chained!.input).toMatchObject({
      type: 'stepwise.execution.ended', trigger: 'first', id: 'nats.first:chain-1', workflow: 'order', status: 'SUCCEEDED', output: { accepted: { step: 1 } },
    });
  });

  it('loses and doubles nothing when its connection drops mid-stream', async () => {
    const { stream, base, prefix } = await setup();
    const proxy = await TcpProxy.start(4222);
    cleanups.push(() => proxy.close());
    let starts = 0;
    // Cut the connection right after the third start commits, before its acknowledgement.
    const engine = engineWithHook(t.engine, () => {
      if (++starts === 3) proxy.dropAll();
    });
    const runner = new TriggerRunner({ logger: quietLogger, engine, triggers: [natsTrigger({ name: 'drop', workflow: 'order', servers: `nats://127.0.0.1:${proxy.port}`, stream, subject: `${base}.in`, ackWaitMs: 1000, batchSize: 4 })] });
    const log = new EventLog();
    runner.on(log.listener);
    await runner.start();
    cleanups.push(() => runner.stop());
    const K = 12;
    for (let i = 0; i < K; i++) await publish(`${base}.in`, JSON.stringify({ i }), i % 2 === 0 ? `even-${i}` : undefined);

    await log.until('the drop', (e) => e.type === 'disconnected');
    await eventually('every message to be acknowledged', async () => {
      const p = await pending(stream, 'stepwise-drop');
      return p.pending === 0 && p.ackPending === 0;
    }, 30_000);
    // The message whose acknowledgement was cut off came back, and found its execution. A start
    // that finds its execution there came from a message delivered twice: it, or the other
    // delivery of that message, is marked redelivered (on a loaded machine the first delivery's
    // start can finish after its redelivery's, and then it is the one that finds the execution).
    const started = log.started();
    const refound = started.filter((e) => !e.created);
    expect(refound.length).toBeGreaterThanOrEqual(1);
    expect(refound.filter((e) => !started.some((s) => s.executionId === e.executionId && s.redelivered))).toEqual([]);
    const executions = await t.executions(prefix('drop'));
    expect(executions).toHaveLength(K);
    expect(executions.map((e) => (e.input as { i: number }).i).sort((a, b) => a - b)).toEqual([...Array(K).keys()]);
  });

  it('survives a restart of the NATS server: nothing lost, nothing doubled', async () => {
    t = await startTestEngine();
    cleanups.push(() => t.close());
    const server = await PrivateNatsServer.start();
    cleanups.push(() => server.close());
    const runner = new TriggerRunner({
      logger: quietLogger,
      engine: t.engine,
      triggers: [natsTrigger({ name: 'restart', workflow: 'order', servers: server.url, stream: 'RESTART', subject: 'restart.in', createStream: true, ackWaitMs: 1000 })],
    });
    const log = new EventLog();
    runner.on(log.listener);
    await runner.start();
    cleanups.push(() => runner.stop());
    await log.until('ready', (e) => e.type === 'ready');

    const publisher = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    cleanups.push(() => publisher.close());
    const pjs = jetstream(publisher);
    for (let i = 0; i < 5; i++) await pjs.publish('restart.in', JSON.stringify({ i }), { msgID: `r-${i}` });
    await log.until('the first five', (e) => e.type === 'started', 5);

    await server.stop();
    await log.until('the trigger noticing', (e) => e.type === 'disconnected');
    await server.run();
    await log.until('the trigger back', (e) => e.type === 'ready', 2);
    for (let i = 5; i < 10; i++) await pjs.publish('restart.in', JSON.stringify({ i }), { msgID: `r-${i}` });
    await eventually('all ten executions', async () => (await t.executions('nats.restart:')).length === 10, 30_000);
    const executions = await t.executions('nats.restart:');
    expect(executions.map((e) => e.id)).toEqual([...Array(10).keys()].map((i) => `nats.restart:r-${i}`).sort());
  });

  it('refuses to start a trigger whose workflow the engine lacks', async () => {
    await setup();
    const runner = new TriggerRunner({ engine: t.engine, triggers: [natsTrigger({ name: 'x', workflow: 'missing', servers: NATS_URL, stream: 'S', subject: 'a.b' })] });
    await expect(runner.start()).rejects.toMatchObject({ code: 'WORKFLOW_NOT_FOUND' });
  });
});

describe('natsTrigger() checks its definition', () => {
  const base = { name: 'n', workflow: 'order', servers: 'nats://127.0.0.1:4222', stream: 'S', subject: 'orders.in' };
  it.each([
    ['a stream name with a dot', { ...base, stream: 'a.b' }, /stream must be/],
    ['an empty subject token', { ...base, subject: 'orders..in' }, /empty token/],
    ['a dead-letter subject the trigger would consume', { ...base, subject: 'orders.>', deadLetterSubject: 'orders.dead' }, /would consume its own messages/],
    ['a wildcard in the outbound subject', { ...base, outboundSubject: 'out.*' }, /must not hold wildcards/],
    ['maxRunning 0', { ...base, maxRunning: 0 }, /maxRunning must be an integer/],
    ['a bad execution id rule', { ...base, executionId: { path: 'x' } as never }, /executionId must be/],
    ['no servers', { ...base, servers: [] as string[] }, /servers must be/],
    ['an unknown option', { ...base, queue: 'x' } as never, /unknown option 'queue'/],
  ])('refuses %s', (_label, options, message) => {
    expect(() => natsTrigger(options as never)).toThrow(message);
    expect(() => natsTrigger(options as never)).toThrow(expect.objectContaining({ code: 'INVALID_DEFINITION' }));
  });
});
