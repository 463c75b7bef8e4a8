import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ChildLines } from '../fixtures/child-lines.js';
import { assertDistCurrent } from '../fixtures/dist-check.js';
import { repoRoot } from '../fixtures/paths.js';
import { until } from '../helpers/until.js';

/**
 * Issue 9: the engine is SIGKILLed while a worker holds a task (the worker here is this test,
 * speaking the wire protocol). After the restart the worker's late answer is accepted once or
 * refused with 409, and the step never succeeds twice. The kill is placed by a handshake: the
 * poll has answered with the task, so its StepStarted and token are committed.
 */

const root = mkdtempSync(join(tmpdir(), 'stepwise-held-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
let alive: ChildLines[] = [];
afterEach(async () => {
  for (const c of alive) {
    if (!c.exitInfo) c.child.kill('SIGKILL');
    await c.exited;
  }
  alive = [];
});

async function serveOn(db: string): Promise<{ url: string; proc: ChildLines }> {
  assertDistCurrent();
  const script = join(repoRoot(), 'dist', 'test', 'fixtures', 'remote-engine.js');
  const proc = new ChildLines(spawn(process.execPath, [script, '--db', db], { stdio: ['ignore', 'pipe', 'pipe'] }));
  alive.push(proc);
  const line = await proc.waitForLine((l) => l.startsWith('LISTENING '));
  if (!line) throw new Error(`the engine did not start: ${proc.stderr}`);
  return { url: line.slice('LISTENING '.length), proc };
}

async function killHard(proc: ChildLines): Promise<void> {
  proc.child.kill('SIGKILL');
  expect((await proc.exited).signal).toBe('SIGKILL');
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function poll(url: string, queue: string, workerId: string): Promise<{ taskToken: string; context: { attempt: number } }> {
  const res = await post(`${url}/v1/queues/${queue}/poll`, { workerId, waitMs: 10_000 });
  expect(res.status).toBe(200);
  return res.json() as Promise<{ taskToken: string; context: { attempt: number } }>;
}

interface Event { type: string; step?: string; attempt?: number; data?: { error?: { code?: string }; worker?: string } }

async function history(url: string, id: string): Promise<Event[]> {
  const res = await fetch(`${url}/v1/executions/${id}/history?limit=500`);
  return ((await res.json()) as { events: Event[] }).events;
}

async function execution(url: string, id: string): Promise<{ status: string; output?: unknown }> {
  return (await fetch(`${url}/v1/executions/${id}`)).json() as Promise<{ status: string; output?: unknown }>;
}

describe('crash: SIGKILL of the engine while a worker holds a task', () => {
  it('the late answer after the restart is accepted once; its replay gets 409; the step succeeds once', async () => {
    const db = join(mkdtempSync(join(root, `s${++n}-`)), 'stepwise.db');
    const first = await serveOn(db);
    expect((await post(`${first.url}/v1/workflows/held/executions`, { id: 'h-1', input: { n: 1 } })).status).toBe(201);
    const task = await poll(first.url, 'held-q', 'worker-a');
    expect(task.context.attempt).toBe(1);
    await killHard(first.proc);

    const second = await serveOn(db);
    const late = await post(`${second.url}/v1/tasks/${task.taskToken}/succeed`, { output: { by: 'worker-a' } });
    expect([200, 409]).toContain(late.status);
    if (late.status === 409) {
      // Refused: the task must come back to the queue, never be lost.
      const again = await poll(second.url, 'held-q', 'worker-b');
      expect((await post(`${second.url}/v1/tasks/${again.taskToken}/succeed`, { output: { by: 'worker-b' } })).status).toBe(200);
    }
    const replay = await post(`${second.url}/v1/tasks/${task.taskToken}/succeed`, { output: { by: 'replay' } });
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('TASK_NOT_CURRENT');

    await until('h-1 ends', async () => (await execution(second.url, 'h-1')).status !== 'RUNNING');
    const end = await execution(second.url, 'h-1');
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toEqual({ n: 1, parcel: { by: late.status === 200 ? 'worker-a' : 'worker-b' } });
    const events = await history(second.url, 'h-1');
    expect(events.filter((e) => e.type === 'StepSucceeded' && e.step === 'pack')).toHaveLength(1);
  });

  it('when the heartbeat lapsed across the restart: the late answer gets 409 and only the retry succeeds', async () => {
    const db = join(mkdtempSync(join(root, `s${++n}-`)), 'stepwise.db');
    const first = await serveOn(db);
    expect((await post(`${first.url}/v1/workflows/beating/executions`, { id: 'b-1', input: {} })).status).toBe(201);
    const task = await poll(first.url, 'beat-q', 'worker-a');
    expect((await post(`${first.url}/v1/tasks/${task.taskToken}/heartbeat`, {})).status).toBe(200);
    await killHard(first.proc);

    const second = await serveOn(db);
    // Handshake: the restarted engine has failed attempt 1 for its lapsed heartbeat.
    await until('attempt 1 fails with HeartbeatTimeout', async () =>
      (await history(second.url, 'b-1')).some((e) => e.type === 'StepFailed' && e.data?.error?.code === 'Stepwise.HeartbeatTimeout'));
    const late = await post(`${second.url}/v1/tasks/${task.taskToken}/succeed`, { output: 'late' });
    expect(late.status).toBe(409);

    const retry = await poll(second.url, 'beat-q', 'worker-b');
    expect(retry.context.attempt).toBe(2);
    expect((await post(`${second.url}/v1/tasks/${retry.taskToken}/succeed`, { output: 'fresh' })).status).toBe(200);
    await until('b-1 ends', async () => (await execution(second.url, 'b-1')).status !== 'RUNNING');
    expect(await execution(second.url, 'b-1')).toMatchObject({ status: 'SUCCEEDED', output: { parcel: 'fresh' } });
    const events = await history(second.url, 'b-1');
    expect(events.filter((e) => e.type === 'StepSucceeded' && e.step === 'pack')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'StepStarted').map((e) => [e.attempt, e.data?.worker])).toEqual([[1, 'worker-a'], [2, 'worker-b']]);
  });
});
