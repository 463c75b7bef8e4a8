import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';

/**
 * A test double for the worker client's protocol: the poll and task routes of docs/handlers.md,
 * in memory, on a real fastify server. It stands in for the Stepwise server until its routes exist.
 */

export interface Answer {
  token: string;
  verb: 'succeed' | 'fail';
  body: any;
}

interface Task {
  token: string;
  queue: string;
  input: unknown;
  context: Record<string, unknown>;
}

type Waiter = (task: Task | undefined) => void;

export async function taskServerDouble(options: { token?: string; port?: number; bodyLimit?: number } = {}) {
  const app = Fastify({ bodyLimit: options.bodyLimit ?? 1024 * 1024, forceCloseConnections: true });
  const pending = new Map<string, Task[]>();
  const waiters = new Map<string, Waiter[]>();
  /** Tokens handed out and still expecting an answer. */
  const current = new Map<string, Task>();
  const answers: Answer[] = [];
  /** Every succeed or fail request, refused ones included. */
  const attempts: Answer[] = [];
  const heartbeats = new Map<string, number>();
  const polls: Array<{ queue: string; workerId: unknown; waitMs: unknown; authorization?: string }> = [];
  const listeners = new Set<() => void>();
  /** The next this-many succeed/fail requests get 503, as from a server restarting. */
  let unavailableAnswers = 0;
  const changed = () => listeners.forEach((l) => l());

  const error = (code: string, message: string) => ({ error: { code, message } });

  app.addHook('onRequest', async (request, reply) => {
    if (options.token && request.headers.authorization !== `Bearer ${options.token}`) {
      return reply.code(401).send(error('UNAUTHORIZED', 'this route needs the token'));
    }
  });

  app.post<{ Params: { queue: string }; Body: { workerId?: unknown; waitMs?: unknown } }>('/v1/queues/:queue/poll', async (request, reply) => {
    const { queue } = request.params;
    const waitMs = Number(request.body?.waitMs ?? 0);
    if (typeof request.body?.workerId !== 'string' || !(waitMs >= 0 && waitMs <= 30_000)) {
      return reply.code(400).send(error('VALIDATION_FAILED', 'workerId and waitMs <= 30000 are required'));
    }
    polls.push({ queue, workerId: request.body.workerId, waitMs, authorization: request.headers.authorization });
    changed();
    let task = pending.get(queue)?.shift();
    if (!task) {
      task = await new Promise<Task | undefined>((resolve) => {
        const list = waiters.get(queue) ?? [];
        const timer = setTimeout(() => give(undefined), waitMs);
        const give: Waiter = (t) => {
          clearTimeout(timer);
          waiters.set(queue, (waiters.get(queue) ?? []).filter((w) => w !== give));
          resolve(t);
        };
        // A poll whose client has gone away takes nothing: the task goes to the next poll.
        reply.raw.once('close', () => give(undefined));
        list.push(give);
        waiters.set(queue, list);
      });
    }
    if (!task) return reply.code(204).send();
    current.set(task.token, task);
    return { taskToken: task.token, input: task.input, context: task.context };
  });

  const answer = (verb: 'succeed' | 'fail' | 'heartbeat') =>
    app.post<{ Params: { token: string }; Body: any }>(`/v1/tasks/:token/${verb}`, async (request, reply) => {
      const { token } = request.params;
      if (verb !== 'heartbeat') attempts.push({ token, verb, body: request.body });
      if (verb !== 'heartbeat' && unavailableAnswers > 0) {
        unavailableAnswers -= 1;
        changed();
        return reply.code(503).send(error('STORE_UNAVAILABLE', 'the store is busy; retry later'));
      }
      if (!current.has(token)) return reply.code(409).send(error('TASK_NOT_CURRENT', `task token is no longer current`));
      if (verb === 'heartbeat') heartbeats.set(token, (heartbeats.get(token) ?? 0) + 1);
      else {
        current.delete(token);
        answers.push({ token, verb, body: request.body });
      }
      changed();
      return { ok: true };
    });
  answer('succeed');
  answer('fail');
  answer('heartbeat');

  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const port = (app.server.address() as { port: number }).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    answers,
    attempts,
    polls,
    /** Puts a task on a queue (or hands it to a waiting poll); returns its token. */
    enqueue(queue: string, input: unknown, context: Record<string, unknown> = {}): string {
      const token = randomBytes(16).toString('base64url');
      const task: Task = {
        token, queue, input,
        context: { executionId: `e-${token.slice(0, 6)}`, workflow: 'wf', step: 'ship', attempt: 1, idempotencyKey: `k-${token}`, deadline: null, ...context },
      };
      const waiter = waiters.get(queue)?.[0];
      if (waiter) waiter(task);
      else pending.set(queue, [...(pending.get(queue) ?? []), task]);
      return token;
    },
    /** Makes a token no longer current, as a retry, cancel or timeout would. */
    expire(token: string): void {
      current.delete(token);
    },
    refuseAnswers(count: number): void {
      unavailableAnswers = count;
    },
    heartbeatsOf: (token: string) => heartbeats.get(token) ?? 0,
    pendingIn: (queue: string) => pending.get(queue)?.length ?? 0,
    /** Resolves once `condition` holds, re-checked on every request the double handles. */
    until(condition: () => boolean): Promise<void> {
      return new Promise((resolve) => {
        const check = () => {
          if (!condition()) return;
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        check();
      });
    },
    answerOf(token: string): Promise<Answer> {
      return this.until(() => answers.some((a) => a.token === token)).then(() => answers.find((a) => a.token === token)!);
    },
    async close(): Promise<void> {
      for (const list of waiters.values()) for (const give of [...list]) give(undefined);
      await app.close();
    },
  };
}

export type TaskServerDouble = Awaited<ReturnType<typeof taskServerDouble>>;
