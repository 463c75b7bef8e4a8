import { afterEach, describe, expect, it } from 'vitest';
import { buildServer, callback, Engine, HistoryEventType as T, openStore, Worker, worker, workflow, type Store } from '../../src/index.js';

/** Worker and callback steps through a real server on a port, with the package's Worker client. */

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function serverWith(...workflows: Parameters<Engine['register']>) {
  const store: Store = await openStore(':memory:');
  const engine = new Engine({ store }).register(...workflows);
  await engine.start();
  const app = buildServer({ engine, logger: false } as never);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  cleanup.push(async () => {
    await app.close();
    await engine.stop({ graceMs: 0 });
    await store.close();
  });
  return { engine, url };
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('worker steps', () => {
  it('runs a worker step in a polling Worker, records its id, and refuses a replayed answer with 409', async () => {
    const wf = workflow('ship').task('pack', worker('shipping'), { timeoutMs: 10_000, resultPath: 'parcel' }).build();
    const { engine, url } = await serverWith(wf);
    const w = new Worker({ url, queue: 'shipping', workerId: 'packer-1', pollWaitMs: 1000, handler: async (input: { n: number }) => ({ packed: input.n }) });
    const running = w.run();
    cleanup.push(async () => { await w.stop({ graceMs: 0 }); await running; });
    const { execution } = await engine.startExecution('ship', { n: 3 });
    const end = await engine.waitForEnd(execution.id, 10_000);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toEqual({ n: 3, parcel: { packed: 3 } });
    const events = (await engine.getHistory(execution.id, { limit: 100 })).events;
    expect(events.find((e) => e.type === T.StepStarted)?.data?.worker).toBe('packer-1');
  });

  it('hands a task to a raw poll, takes one answer, and refuses the replay and a malformed token', async () => {
    const wf = workflow('raw').task('do', worker('raw-q'), { timeoutMs: 10_000 }).build();
    const { engine, url } = await serverWith(wf);
    const { execution } = await engine.startExecution('raw', { a: 1 });
    const polled = await post(`${url}/v1/queues/raw-q/poll`, { workerId: 'sh-1', waitMs: 5000 });
    expect(polled.status).toBe(200);
    const task = await polled.json() as { taskToken: string; input: unknown; context: { step: string; attempt: number } };
    expect(task.input).toEqual({ a: 1 });
    expect(task.context).toMatchObject({ step: 'do', attempt: 1 });
    expect((await post(`${url}/v1/tasks/${task.taskToken}/heartbeat`, {})).status).toBe(200);
    expect((await post(`${url}/v1/tasks/${task.taskToken}/succeed`, { output: 'done' })).status).toBe(200);
    const replay = await post(`${url}/v1/tasks/${task.taskToken}/succeed`, { output: 'again' });
    expect(replay.status).toBe(409);
    expect((await replay.json()).error.code).toBe('TASK_NOT_CURRENT');
    expect((await post(`${url}/v1/tasks/not-a-token/succeed`, { output: 1 })).status).toBe(400);
    expect((await post(`${url}/v1/queues/raw-q/poll`, { workerId: 'sh-1', waitMs: 50 })).status).toBe(204);
    const unknown = await post(`${url}/v1/queues/no-such-queue/poll`, { workerId: 'sh-1', waitMs: 5000 });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe('QUEUE_NOT_FOUND');
    expect((await engine.waitForEnd(execution.id, 5000)).output).toBe('done');
  });

  it('fails a task whose heartbeat lapses with Stepwise.HeartbeatTimeout, routed by catch', async () => {
    const wf = workflow('hb')
      .task('slow', worker('hb-q', { heartbeatMs: 200 }), { timeoutMs: 10_000, catch: [{ errors: ['Stepwise.HeartbeatTimeout'], next: 'lost' }] })
      .pass('lost')
      .build();
    const { engine, url } = await serverWith(wf);
    const { execution } = await engine.startExecution('hb', {});
    const polled = await post(`${url}/v1/queues/hb-q/poll`, { workerId: 'sleepy', waitMs: 5000 });
    const { taskToken } = await polled.json() as { taskToken: string };
    const end = await engine.waitForEnd(execution.id, 10_000);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toMatchObject({ error: { code: 'Stepwise.HeartbeatTimeout' } });
    expect((await post(`${url}/v1/tasks/${taskToken}/succeed`, { output: 1 })).status).toBe(409);
  });
});

describe('callback steps', () => {
  it('waits for the token handed out by the callback function and completes on the outside answer', async () => {
    let handOut!: (token: string) => void;
    const token = new Promise<string>((resolve) => { handOut = resolve; });
    const wf = workflow('approve').task('ask', callback(async (_input, ctx) => { handOut(ctx.taskToken); }), { timeoutMs: 60_000, resultPath: 'answer' }).build();
    const { engine, url } = await serverWith(wf);
    const { execution } = await engine.startExecution('approve', {});
    const t = await token;
    expect((await post(`${url}/v1/tasks/${t}/succeed`, { output: { approved: true } })).status).toBe(200);
    const end = await engine.waitForEnd(execution.id, 5000);
    expect(end.output).toEqual({ answer: { approved: true } });
  });

  it('fails with Stepwise.Timeout when no answer comes before the timeout', async () => {
    const wf = workflow('late').task('ask', callback(() => undefined), { timeoutMs: 300 }).build();
    const { engine } = await serverWith(wf);
    const { execution } = await engine.startExecution('late', {});
    const end = await engine.waitForEnd(execution.id, 5000);
    expect(end.status).toBe('FAILED');
    expect(end.error?.code).toBe('Stepwise.Timeout');
  });
});
