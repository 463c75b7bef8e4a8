/**
 * The routes of work finished outside the engine (docs/handlers.md#the-wire-format): polling
 * workers take tasks from `POST /v1/queues/:queue/poll`, and workers and callback systems answer
 * with `POST /v1/tasks/:token/{succeed,fail,heartbeat}`. Bearer-token protected like every /v1 route.
 */
import type { FastifyInstance } from 'fastify';
import type { StepError } from '../core/errors.js';
import { toJson } from '../core/json.js';
import { httpError } from './http-errors.js';
import { errorSchema } from './schemas.js';

type Outcome = { ok: true; output: unknown } | { ok: false; error: StepError };
type Answer = 'applied' | 'not-current' | 'malformed';

/** What the routes need from the engine (the real Engine has it). */
export interface TaskEngine {
  pollTask(queue: string, pollerId: string, waitMs: number, gone: AbortSignal): Promise<{ taskToken: string; input: unknown; context: Record<string, unknown> } | undefined>;
  answerTask(token: string, outcome: Outcome): Promise<Answer>;
  heartbeatTask(token: string): Promise<Answer>;
  releaseTask(token: string): Promise<void>;
  /** When given, a poll for a queue it does not know is refused with 404 rather than left to wait. */
  hasQueue?(queue: string): boolean;
}

export function isTaskEngine(engine: unknown): engine is TaskEngine {
  return typeof (engine as Partial<TaskEngine>).pollTask === 'function';
}

export const MAX_POLL_WAIT_MS = 30_000;
const MAX_OUTPUT_BYTES = 256 * 1024;

const errors = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema, 413: errorSchema, 415: errorSchema };
const tokenParams = {
  type: 'object', required: ['token'], additionalProperties: false,
  properties: { token: { type: 'string', minLength: 1, maxLength: 200, description: 'The task token from a poll or from ctx.taskToken.' } },
} as const;
const taken = { 200: { type: 'object', properties: { ok: { type: 'boolean' } } }, ...errors };

export const taskRouteSchemas = {
  poll: {
    summary: 'Take a task from a worker queue (long poll)', tags: ['tasks'],
    params: { type: 'object', required: ['queue'], additionalProperties: false, properties: { queue: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$' } } },
    body: {
      type: 'object', required: ['workerId'], additionalProperties: false,
      properties: { workerId: { type: 'string', minLength: 1, maxLength: 200 }, waitMs: { type: 'integer', minimum: 0, maximum: MAX_POLL_WAIT_MS } },
    },
    response: {
      200: {
        type: 'object', required: ['taskToken', 'input', 'context'],
        properties: { taskToken: { type: 'string' }, input: {}, context: { type: 'object', additionalProperties: true } },
      },
      204: { type: 'null', description: 'Nothing arrived within waitMs: poll again.' },
      ...errors,
    },
  },
  succeed: {
    summary: "Complete a task with its output", tags: ['tasks'], params: tokenParams,
    body: { type: 'object', required: ['output'], additionalProperties: false, properties: { output: {} } }, response: taken,
  },
  fail: {
    summary: 'Fail a task', tags: ['tasks'], params: tokenParams,
    body: {
      type: 'object', required: ['error'], additionalProperties: false,
      properties: {
        error: {
          type: 'object', required: ['name'], additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, message: { type: 'string', maxLength: 4096 } },
        },
        terminal: { type: 'boolean' },
      },
    },
    response: taken,
  },
  heartbeat: {
    summary: 'Report that a task is still running', tags: ['tasks'], params: tokenParams,
    body: { type: 'object', additionalProperties: false, properties: {} }, response: taken,
  },
} as const;

function outcomeOrError(result: Answer): { ok: true } {
  if (result === 'malformed') throw httpError('VALIDATION_FAILED', 'params.token is not a task token');
  if (result === 'not-current') throw httpError('TASK_NOT_CURRENT', 'the task token is no longer current (retried, cancelled, timed out or already answered)');
  return { ok: true };
}

export async function registerTaskRoutes(app: FastifyInstance, opts: { engine: TaskEngine }): Promise<void> {
  const { engine } = opts;

  app.post<{ Params: { queue: string }; Body: { workerId: string; waitMs?: number } }>(
    '/v1/queues/:queue/poll', { schema: taskRouteSchemas.poll },
    async (request, reply) => {
      if (engine.hasQueue && !engine.hasQueue(request.params.queue)) {
        throw httpError('QUEUE_NOT_FOUND', `no registered workflow has a step bound to worker queue '${request.params.queue}'`);
      }
      const gone = new AbortController();
      const socket = request.raw.socket;
      // A client that hangs up sends FIN: node ends the socket ('end') and may close it only later,
      // after a reply it cannot deliver any more; either means the poll's client has gone.
      const hungUp = () => socket.destroyed || socket.readableEnded;
      const onClose = () => gone.abort();
      socket.once('end', onClose);
      socket.once('close', onClose);
      if (hungUp()) gone.abort();
      try {
        const task = await engine.pollTask(request.params.queue, request.body.workerId, request.body.waitMs ?? MAX_POLL_WAIT_MS, gone.signal);
        // Let the socket events that arrived while the task was taken be seen first: a client that
        // hung up right after asking is then caught here rather than sent a task it never reads.
        if (task) await new Promise((resolve) => setImmediate(resolve));
        if (task && (gone.signal.aborted || hungUp())) {
          // Its client went away before hearing of it: the task goes to the next poll.
          await engine.releaseTask(task.taskToken);
          return reply.code(204).send();
        }
        if (!task) return reply.code(204).send();
        return reply.code(200).send(task);
      } finally {
        socket.off('end', onClose);
        socket.off('close', onClose);
      }
    },
  );

  app.post<{ Params: { token: string }; Body: { output: unknown } }>('/v1/tasks/:token/succeed', { schema: taskRouteSchemas.succeed }, async (request) => {
    const checked = toJson(request.body.output ?? null, { maxBytes: MAX_OUTPUT_BYTES });
    if (!checked.ok) {
      if (checked.reason === 'too-large') throw httpError('PAYLOAD_TOO_LARGE', `body.output is over the output limit of ${MAX_OUTPUT_BYTES} bytes`);
      throw httpError(checked.reason === 'too-deep' ? 'INPUT_TOO_DEEP' : 'VALIDATION_FAILED', `body.output: ${checked.message}`);
    }
    return outcomeOrError(await engine.answerTask(request.params.token, { ok: true, output: request.body.output ?? null }));
  });

  app.post<{ Params: { token: string }; Body: { error: { name: string; message?: string }; terminal?: boolean } }>(
    '/v1/tasks/:token/fail', { schema: taskRouteSchemas.fail },
    async (request) => {
      const { error, terminal } = request.body;
      const stepError: StepError = { code: error.name, message: error.message ?? error.name, ...(terminal ? { terminal: true } : {}) };
      return outcomeOrError(await engine.answerTask(request.params.token, { ok: false, error: stepError }));
    },
  );

  app.post<{ Params: { token: string } }>('/v1/tasks/:token/heartbeat', { schema: taskRouteSchemas.heartbeat }, async (request) =>
    outcomeOrError(await engine.heartbeatTask(request.params.token)),
  );
}
