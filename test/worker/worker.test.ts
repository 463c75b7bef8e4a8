import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StepErrorCodes, StepwiseError, TerminalError, Worker, type WorkerLogger, type WorkerOptions, type WorkerTaskContext } from '../../src/index.js';
import { latch } from '../helpers/function-server.js';
import { taskServerDouble, type TaskServerDouble } from '../helpers/task-server-double.js';

const TOKEN = 'test-token-0123456789';

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function double(options: Parameters<typeof taskServerDouble>[0] = {}): Promise<TaskServerDouble> {
  const server = await taskServerDouble({ token: TOKEN, ...options });
  cleanup.push(() => server.close());
  return server;
}

/** A logger that keeps what it is told, so a test can wait for a message. */
function recordingLogger() {
  const lines: Array<{ level: string; msg: string; obj: object }> = [];
  const waiting = new Set<() => void>();
  const push = (level: string) => (obj: object, msg = '') => {
    lines.push({ level, msg, obj });
    waiting.forEach((w) => w());
  };
  const logger: WorkerLogger = { info: push('info'), warn: push('warn'), error: push('error') };
  const until = (pattern: RegExp) => new Promise<void>((resolve) => {
    const check = () => {
      if (!lines.some((l) => pattern.test(l.msg))) return;
      waiting.delete(check);
      resolve();
    };
    waiting.add(check);
    check();
  });
  return { logger, lines, until };
}

function startWorker(server: { url: string }, options: Partial<WorkerOptions> & Pick<WorkerOptions, 'handler'>) {
  const log = recordingLogger();
  const worker = new Worker({ url: server.url, token: TOKEN, queue: 'shipping', pollWaitMs: 5000, logger: log.logger, ...options });
  const running = worker.run();
  cleanup.push(() => worker.stop({ graceMs: 0 }).then(() => running.catch(() => {})));
  return { worker, running, log };
}

describe('Worker: running tasks', () => {
  it('long-polls its queue with its token and answers a task with the handler output', async () => {
    const server = await double();
    const seen: WorkerTaskContext[] = [];
    startWorker(server, { workerId: 'w-1', handler: async (input: { parcel: string }, ctx) => (seen.push(ctx), { shipped: input.parcel }) });
    const token = server.enqueue('shipping', { parcel: 'p-1' }, { attempt: 2, deadline: '2030-01-01T00:00:00.000Z', index: 3 });
    expect(await server.answerOf(token)).toEqual({ token, verb: 'succeed', body: { output: { shipped: 'p-1' } } });
    expect(server.polls[0]).toEqual({ queue: 'shipping', workerId: 'w-1', waitMs: 5000, authorization: `Bearer ${TOKEN}` });
    expect(seen[0]).toMatchObject({ taskToken: token, attempt: 2, step: 'ship', workflow: 'wf', index: 3, deadline: Date.UTC(2030, 0, 1) });
    expect(seen[0].signal.aborted).toBe(false);
  });

  it('answers a thrown error with its name and message, and a TerminalError as terminal', async () => {
    const server = await double();
    class GatewayBusy extends Error {
      override readonly name = 'GatewayBusy';
    }
    startWorker(server, {
      handler: async (input: { kind: string }) => {
        if (input.kind === 'busy') throw new GatewayBusy('try later');
        throw new TerminalError('AddressInvalid', 'no such street');
      },
    });
    const busy = server.enqueue('shipping', { kind: 'busy' });
    expect((await server.answerOf(busy)).body).toEqual({ error: { name: 'GatewayBusy', message: 'try later' } });
    const invalid = server.enqueue('shipping', { kind: 'invalid' });
    expect((await server.answerOf(invalid)).body).toEqual({ error: { name: 'AddressInvalid', message: 'no such street' }, terminal: true });
  });

  it('fails an output JSON cannot hold, and one over the server limit, with the engine codes', async () => {
    const server = await double({ bodyLimit: 10_000 });
    startWorker(server, { handler: async (input: { big: boolean }) => (input.big ? 'x'.repeat(20_000) : { n: 1n }) });
    const bigint = server.enqueue('shipping', { big: false });
    expect((await server.answerOf(bigint)).body.error.name).toBe(StepErrorCodes.OutputNotJson);
    const big = server.enqueue('shipping', { big: true });
    expect(await server.answerOf(big)).toMatchObject({ verb: 'fail', body: { error: { name: StepErrorCodes.OutputTooLarge } } });
  });

  it('runs up to `concurrency` tasks at once and takes no task beyond that', async () => {
    const server = await double();
    let active = 0;
    let most = 0;
    const twoRunning = latch();
    const gates = [latch(), latch(), latch()];
    let n = 0;
    startWorker(server, {
      concurrency: 2,
      handler: async () => {
        const gate = gates[n++];
        active += 1;
        most = Math.max(most, active);
        if (active === 2) twoRunning.open();
        await gate.opened;
        active -= 1;
        return 'done';
      },
    });
    const tokens = [1, 2, 3].map((i) => server.enqueue('shipping', { i }));
    await twoRunning.opened;
    // A worker that ignored its limit would take the third task now; give it the chance to.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.pendingIn('shipping')).toBe(1);
    gates.forEach((g) => g.open());
    await Promise.all(tokens.map((t) => server.answerOf(t)));
    expect(most).toBe(2);
  });

  it('heartbeats while a task runs', async () => {
    const server = await double();
    let token = '';
    startWorker(server, { heartbeatMs: 20, handler: async () => (await server.until(() => server.heartbeatsOf(token) >= 2), 'alive') });
    token = server.enqueue('shipping', {});
    expect((await server.answerOf(token)).body).toEqual({ output: 'alive' });
  });

  it("heartbeats at a third of the task's heartbeatMs when the server sends one", async () => {
    const server = await double();
    let token = '';
    startWorker(server, { handler: async () => (await server.until(() => server.heartbeatsOf(token) >= 1), 'alive') });
    token = server.enqueue('shipping', {}, { heartbeatMs: 150 });
    expect((await server.answerOf(token)).verb).toBe('succeed');
  });
});

describe('Worker: answers the server cannot take yet', () => {
  it('sends an answer again, with backoff, while the server answers 503', async () => {
    const server = await double();
    server.refuseAnswers(2);
    startWorker(server, { reconnect: { initialDelayMs: 5, maxDelayMs: 20 }, handler: async () => 'packed' });
    const token = server.enqueue('shipping', {});
    expect((await server.answerOf(token)).body).toEqual({ output: 'packed' });
    expect(server.attempts.map((a) => a.token)).toEqual([token, token, token]);
  });
});

describe('Worker: answers the server no longer wants', () => {
  it('aborts and drops a task whose heartbeat gets 409, sends no answer, and goes on', async () => {
    const server = await double();
    const reasons: unknown[] = [];
    let first = '';
    startWorker(server, {
      heartbeatMs: 20,
      handler: async (input: { n: number }, ctx) => {
        if (input.n === 2) return 'second';
        server.expire(first);
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        reasons.push(ctx.signal.reason);
        throw new Error('aborted');
      },
    });
    first = server.enqueue('shipping', { n: 1 });
    const second = server.enqueue('shipping', { n: 2 });
    await server.answerOf(second); // concurrency 1: the first task was over before the second began
    expect(server.attempts.map((a) => a.token)).toEqual([second]);
    expect(reasons).toHaveLength(1);
  });

  it('drops an answer refused with 409, logs it, and takes the next task', async () => {
    const server = await double();
    let first = '';
    const { log } = startWorker(server, {
      handler: async (input: { n: number }) => {
        if (input.n === 1) server.expire(first);
        return input.n;
      },
    });
    first = server.enqueue('shipping', { n: 1 });
    await log.until(/no longer expects this task/);
    const second = server.enqueue('shipping', { n: 2 });
    expect((await server.answerOf(second)).body).toEqual({ output: 2 });
    expect(server.attempts.map((a) => a.token)).toEqual([first, second]);
    expect(server.answers.map((a) => a.token)).toEqual([second]);
  });
});

describe('Worker: connection and shutdown', () => {
  it('waits out a server that is down and carries on when it is back', async () => {
    const port = await freePort();
    const log = recordingLogger();
    const worker = new Worker({
      url: `http://127.0.0.1:${port}`, token: TOKEN, queue: 'shipping', pollWaitMs: 5000, logger: log.logger,
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 }, handler: async () => 'shipped',
    });
    const running = worker.run();
    cleanup.push(() => worker.stop({ graceMs: 0 }).then(() => running));
    await log.until(/cannot poll.*ECONNREFUSED/);
    const server = await double({ port });
    const token = server.enqueue('shipping', {});
    expect((await server.answerOf(token)).body).toEqual({ output: 'shipped' });
    expect(log.lines.some((l) => /answers again/.test(l.msg))).toBe(true);
  });

  it('stop() ends an idle long poll at once and run() resolves', async () => {
    const server = await double();
    const { worker, running } = startWorker(server, { pollWaitMs: 30_000, handler: async () => 'x' });
    await server.until(() => server.polls.length === 1);
    await worker.stop();
    await expect(running).resolves.toBeUndefined();
  });

  it('stop() lets a running task finish and answer within the grace time, then polls no more', async () => {
    const server = await double();
    const started = latch();
    const finish = latch();
    const { worker, running } = startWorker(server, { handler: async () => (started.open(), await finish.opened, 'finished') });
    const token = server.enqueue('shipping', {});
    await started.opened;
    const stopped = worker.stop({ graceMs: 20_000 });
    finish.open();
    await stopped;
    await running;
    expect(server.answers).toEqual([{ token, verb: 'succeed', body: { output: 'finished' } }]);
    const polls = server.polls.length;
    server.enqueue('shipping', {});
    expect(server.polls.length).toBe(polls);
    expect(server.pendingIn('shipping')).toBe(1);
  });

  it('stop() aborts a task still running after the grace time and hands it back as Stepwise.WorkerStopped', async () => {
    const server = await double();
    const started = latch();
    let reason: any;
    const { worker, running } = startWorker(server, {
      handler: async (_input, ctx) => {
        started.open();
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        reason = ctx.signal.reason;
        return 'too late';
      },
    });
    const token = server.enqueue('shipping', {});
    await started.opened;
    await worker.stop({ graceMs: 50 });
    await running;
    expect(reason).toMatchObject({ code: StepErrorCodes.WorkerStopped });
    expect(server.answers).toEqual([{ token, verb: 'fail', body: { error: { name: StepErrorCodes.WorkerStopped, message: expect.stringContaining('stopped') } } }]);
  });

  it('run() rejects with UNAUTHORIZED when the server refuses the token', async () => {
    const server = await double();
    const worker = new Worker({ url: server.url, token: 'wrong-token', queue: 'shipping', handler: async () => 1, logger: recordingLogger().logger });
    const error = await worker.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepwiseError);
    expect(error).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('refuses bad options when it is built', () => {
    const handler = async () => 1;
    expect(() => new Worker({ url: 'not a url', queue: 'q', handler })).toThrow(/url/);
    expect(() => new Worker({ url: 'http://x', queue: '', handler })).toThrow(/queue/);
    expect(() => new Worker({ url: 'http://x', queue: 'q', handler, concurrency: 0 })).toThrow(/concurrency/);
    expect(() => new Worker({ url: 'http://x', queue: 'q', handler, pollWaitMs: 60_000 })).toThrow(/pollWaitMs/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
