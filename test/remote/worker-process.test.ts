import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer, Engine, HistoryEventType as T, openStore, worker, workflow, type Store } from '../../src/index.js';
import { ChildLines } from '../fixtures/child-lines.js';
import { assertDistCurrent } from '../fixtures/dist-check.js';
import { repoRoot } from '../fixtures/paths.js';

/**
 * Worker steps with the package's Worker client running in its own process (compiled
 * test/fixtures/worker-process.ts from dist/) against a real server on a port. Every kill and
 * stop is placed by a handshake: the worker prints `TASK <step> <attempt>` once its handler runs.
 */

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function serve(...workflows: Parameters<Engine['register']>) {
  const store: Store = await openStore(':memory:');
  const engine = new Engine({ store }).register(...workflows);
  await engine.start();
  const polls: AbortSignal[] = [];
  // Seen by the test so that a disconnect is placed after the server holds the poll, not raced.
  const pollTask = engine.pollTask.bind(engine);
  engine.pollTask = (queue, pollerId, waitMs, gone) => {
    polls.push(gone);
    return pollTask(queue, pollerId, waitMs, gone);
  };
  const app = buildServer({ engine, logger: false });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  cleanup.push(async () => {
    await app.close();
    await engine.stop({ graceMs: 0 });
    await store.close();
  });
  return { engine, url, polls };
}

class WorkerProcess extends ChildLines {
  constructor(url: string, queue: string, readonly id: string, graceMs = 10_000) {
    assertDistCurrent();
    const script = join(repoRoot(), 'dist', 'test', 'fixtures', 'worker-process.js');
    super(spawn(process.execPath, [script, '--url', url, '--queue', queue, '--id', id, '--grace-ms', String(graceMs)], { stdio: ['pipe', 'pipe', 'pipe'] }));
    cleanup.push(async () => {
      if (!this.exitInfo) this.child.kill('SIGKILL');
      await this.exited;
    });
  }

  async saw(line: string): Promise<void> {
    const seen = await this.waitForLine((l) => l === line);
    if (seen === undefined) throw new Error(`worker ${this.id} never printed '${line}' (exit ${JSON.stringify(this.exitInfo)}): ${this.stderr}`);
  }
}

async function startedBy(engine: Engine, executionId: string): Promise<Array<{ attempt: number; worker: unknown }>> {
  const { events } = await engine.getHistory(executionId, { limit: 100 });
  return events.filter((e) => e.type === T.StepStarted).map((e) => ({ attempt: e.attempt!, worker: e.data?.worker }));
}

describe('a worker in its own process', () => {
  it('runs the task and its output becomes the step result, with the worker named in history', async () => {
    const wf = workflow('ship').task('pack', worker('proc-ok'), { timeoutMs: 20_000, resultPath: 'parcel' }).build();
    const { engine, url } = await serve(wf);
    const w = new WorkerProcess(url, 'proc-ok', 'packer-a');
    const { execution } = await engine.startExecution('ship', { mode: 'echo', n: 1 });
    const end = await engine.waitForEnd(execution.id, 20_000);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toEqual({ mode: 'echo', n: 1, parcel: { by: 'packer-a', input: { mode: 'echo', n: 1 } } });
    expect(await startedBy(engine, execution.id)).toEqual([{ attempt: 1, worker: 'packer-a' }]);
    await w.saw('FINISHED pack 1');
  });

  it("routes the worker's failure by its name through catch", async () => {
    const wf = workflow('shipFail')
      .task('pack', worker('proc-fail'), { timeoutMs: 20_000, catch: [{ errors: ['OutOfStock'], next: 'backorder', resultPath: 'problem' }] })
      .succeed('packed')
      .pass('backorder')
      .build();
    const { engine, url } = await serve(wf);
    new WorkerProcess(url, 'proc-fail', 'packer-f');
    const { execution } = await engine.startExecution('shipFail', { mode: 'fail', errorName: 'OutOfStock' });
    const end = await engine.waitForEnd(execution.id, 20_000);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toMatchObject({ problem: { code: 'OutOfStock', message: 'OutOfStock in packer-f' } });
  });

  it('a TerminalError thrown in the worker is not retried, though a retry rule matches its name', async () => {
    const wf = workflow('shipTerminal')
      .task('pack', worker('proc-terminal'), { timeoutMs: 20_000, retry: [{ errors: ['AddressInvalid'], intervalMs: 10, maxAttempts: 3 }] })
      .build();
    const { engine, url } = await serve(wf);
    new WorkerProcess(url, 'proc-terminal', 'packer-t');
    const { execution } = await engine.startExecution('shipTerminal', { mode: 'fail', errorName: 'AddressInvalid', terminal: true });
    const end = await engine.waitForEnd(execution.id, 20_000);
    expect(end).toMatchObject({ status: 'FAILED', error: { code: 'AddressInvalid', message: 'AddressInvalid in packer-t' } });
    expect(await startedBy(engine, execution.id)).toEqual([{ attempt: 1, worker: 'packer-t' }]);
  });

  it('SIGKILLed mid-task: the heartbeat lapses and the retry runs on another worker', async () => {
    const wf = workflow('shipKill')
      .task('pack', worker('proc-kill', { heartbeatMs: 300 }), {
        timeoutMs: 20_000, resultPath: 'parcel',
        retry: [{ errors: ['Stepwise.HeartbeatTimeout'], intervalMs: 10, maxAttempts: 3 }],
      })
      .build();
    const { engine, url } = await serve(wf);
    const first = new WorkerProcess(url, 'proc-kill', 'doomed');
    const { execution } = await engine.startExecution('shipKill', { mode: 'gate' });
    await first.saw('TASK pack 1');
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = new WorkerProcess(url, 'proc-kill', 'survivor');
    second.child.stdin!.write('release\n');
    const end = await engine.waitForEnd(execution.id, 20_000);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toMatchObject({ parcel: { by: 'survivor' } });
    expect(await startedBy(engine, execution.id)).toEqual([{ attempt: 1, worker: 'doomed' }, { attempt: 2, worker: 'survivor' }]);
    const { events } = await engine.getHistory(execution.id, { limit: 100 });
    expect(events.filter((e) => e.type === T.StepFailed).map((e) => (e.data?.error as { code?: string } | undefined)?.code)).toEqual(['Stepwise.HeartbeatTimeout']);
    expect(events.filter((e) => e.type === T.StepSucceeded)).toHaveLength(1);
  });

  it('stop() lets the running task finish within the grace time, then the process exits', async () => {
    const wf = workflow('shipStop').task('pack', worker('proc-stop'), { timeoutMs: 20_000, resultPath: 'parcel' }).build();
    const { engine, url } = await serve(wf);
    const w = new WorkerProcess(url, 'proc-stop', 'graceful', 20_000);
    const { execution } = await engine.startExecution('shipStop', { mode: 'gate' });
    await w.saw('TASK pack 1');
    w.child.kill('SIGTERM');
    await w.saw('STOPPING');
    expect(w.lines).not.toContain('STOPPED'); // still waiting for its running task
    w.child.stdin!.write('release\n');
    await w.saw('STOPPED');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    const end = await engine.waitForEnd(execution.id, 20_000);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toMatchObject({ parcel: { by: 'graceful' } });
    expect(await startedBy(engine, execution.id)).toEqual([{ attempt: 1, worker: 'graceful' }]);
  });
});

/** Sends a poll on a raw socket and closes it as soon as the request is written, before any answer. */
function pollAndHangUp(url: string, queue: string): Promise<void> {
  const { hostname, port } = new URL(url);
  const body = JSON.stringify({ workerId: 'vanishing', waitMs: 10_000 });
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(pollRequest(hostname, queue, body), () => {
        socket.destroy();
        resolve();
      });
    });
    socket.on('error', () => resolve());
  });
}

const pollRequest = (host: string, queue: string, body: string) =>
  `POST /v1/queues/${queue}/poll HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

async function hangUpAfterServerHolds(url: string, queue: string, polls: AbortSignal[]): Promise<void> {
  const before = polls.length;
  const { hostname, port } = new URL(url);
  const body = JSON.stringify({ workerId: 'vanishing', waitMs: 10_000 });
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(pollRequest(hostname, queue, body));
  const deadline = Date.now() + 10_000;
  while (polls.length === before) {
    if (Date.now() > deadline) throw new Error('the server never took the poll');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const gone = polls[polls.length - 1]!;
  socket.destroy();
  if (!gone.aborted) await new Promise((resolve) => gone.addEventListener('abort', resolve, { once: true }));
}

const rawPoll = (url: string, queue: string) =>
  fetch(`${url}/v1/queues/${queue}/poll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ workerId: 'next', waitMs: 10_000 }) });

describe('a poll whose client goes away', () => {
  it('while it waits: the task that arrives later goes to the next poll, first attempt', async () => {
    const wf = workflow('gone1').task('do', worker('gone-q1'), { timeoutMs: 20_000 }).build();
    const { engine, url, polls } = await serve(wf);
    await hangUpAfterServerHolds(url, 'gone-q1', polls);
    const { execution } = await engine.startExecution('gone1', { a: 1 });
    const next = await rawPoll(url, 'gone-q1');
    expect(next.status).toBe(200);
    const task = await next.json() as { taskToken: string; input: unknown; context: { attempt: number } };
    expect(task).toMatchObject({ input: { a: 1 }, context: { attempt: 1 } });
    expect(await startedBy(engine, execution.id)).toEqual([{ attempt: 1, worker: 'next' }]);
  });

  it('with a task ready: the task is not lost, the next poll gets it', async () => {
    const wf = workflow('gone2').task('do', worker('gone-q2'), { timeoutMs: 20_000 }).build();
    const { engine, url } = await serve(wf);
    const { execution } = await engine.startExecution('gone2', { b: 2 });
    await pollAndHangUp(url, 'gone-q2');
    const next = await rawPoll(url, 'gone-q2');
    expect(next.status).toBe(200);
    const task = await next.json() as { taskToken: string; input: unknown; context: { attempt: number } };
    expect(task).toMatchObject({ input: { b: 2 }, context: { attempt: 1 } });
    const answered = await fetch(`${url}/v1/tasks/${task.taskToken}/succeed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ output: 'ok' }) });
    expect(answered.status).toBe(200);
    expect((await engine.waitForEnd(execution.id, 10_000)).output).toBe('ok');
  });
});
