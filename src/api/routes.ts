import type { FastifyInstance } from 'fastify';
import { isValidExecutionId, isValidName } from '../core/ids.js';
import type { ExecutionStatus } from '../core/status.js';
import type { ApiEngine } from './engine-port.js';
import { httpError } from './http-errors.js';
import { jsonDepthExceeds } from '../core/json.js';
import { MAX_INPUT_DEPTH } from './json-body.js';
import { withWorkflowInputs } from './openapi-inputs.js';
import { presentEvent, presentExecution, presentStarted } from './present.js';
import { HISTORY_LIMIT, LIST_LIMIT, routeSchemas } from './schemas.js';

export interface RouteOptions {
  engine: ApiEngine;
  startRateLimit: { max: number; timeWindowMs: number };
}

function knownWorkflowName(name: string): string {
  // A name that could never be registered is simply not found.
  if (!isValidName(name)) throw httpError('WORKFLOW_NOT_FOUND', `no workflow named '${clip(name)}'`);
  return name;
}

function knownExecutionId(id: string): string {
  if (!isValidExecutionId(id)) throw httpError('EXECUTION_NOT_FOUND', `no execution with id '${clip(id)}'`);
  return id;
}

function clip(text: string, max = 140): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export async function registerRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const { engine } = opts;

  app.get('/healthz', { schema: routeSchemas.healthz }, async () => {
    const health = engine.health?.() ?? { ok: true };
    // A store that can no longer make commits durable: 503 with its code, so a supervisor restarts us.
    if (!health.ok) throw httpError(health.code, health.message);
    return { ok: true };
  });

  // Ours returns a promise (src/api/openapi-doc.ts); a host's @fastify/swagger returns the document.
  app.get('/openapi.json', { schema: routeSchemas.openapi }, async () =>
    withWorkflowInputs(await (app as unknown as { swagger(): unknown }).swagger(), engine.listWorkflows()),
  );

  app.get('/v1/workflows', { schema: routeSchemas.listWorkflows }, async () => ({ workflows: engine.listWorkflows() }));

  app.get<{ Params: { name: string } }>('/v1/workflows/:name', { schema: routeSchemas.describeWorkflow }, async (request) =>
    engine.describeWorkflow(knownWorkflowName(request.params.name)),
  );

  app.post<{ Params: { name: string }; Body: { input: unknown; id?: string } }>(
    '/v1/workflows/:name/executions',
    {
      schema: routeSchemas.startExecution,
      config: { rateLimit: { max: opts.startRateLimit.max, timeWindow: opts.startRateLimit.timeWindowMs } },
    },
    async (request, reply) => {
      const name = knownWorkflowName(request.params.name);
      const { input, id } = request.body;
      // The body parser already bounds depth; this keeps the rule explicit for the input itself.
      if (jsonDepthExceeds(input, MAX_INPUT_DEPTH)) {
        throw httpError('INPUT_TOO_DEEP', `body.input is nested deeper than ${MAX_INPUT_DEPTH} levels`);
      }
      // A W3C trace context from the caller: the execution's span becomes its child (docs/observability.md).
      const traceparent = request.headers.traceparent;
      const { execution, created } = await engine.startExecution(name, input, {
        ...(id === undefined ? {} : { id }), ...(typeof traceparent === 'string' ? { traceparent } : {}),
      });
      reply.header('Location', `${app.prefix}/v1/executions/${encodeURIComponent(execution.id)}`);
      return reply.code(created ? 201 : 200).send(presentStarted(execution));
    },
  );

  app.get<{ Querystring: { workflow?: string; status?: ExecutionStatus; parentId?: string; limit?: number; cursor?: string } }>(
    '/v1/executions',
    { schema: routeSchemas.listExecutions },
    async (request) => {
      const { workflow, status, parentId, cursor } = request.query;
      const limit = request.query.limit ?? LIST_LIMIT.default;
      const page = await engine.listExecutions({
        limit,
        ...(workflow !== undefined ? { workflow } : {}),
        ...(status !== undefined ? { status } : {}),
        ...(parentId !== undefined ? { parentId } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
      });
      return {
        items: page.items.map((e) => presentExecution(e, { withData: false })),
        ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      };
    },
  );

  app.get<{ Params: { id: string } }>('/v1/executions/:id', { schema: routeSchemas.getExecution }, async (request) =>
    presentExecution(await engine.getExecution(knownExecutionId(request.params.id))),
  );

  app.get<{ Params: { id: string }; Querystring: { after?: string; limit?: number } }>(
    '/v1/executions/:id/history',
    { schema: routeSchemas.getHistory },
    async (request, reply) => {
      const id = knownExecutionId(request.params.id);
      const { after } = request.query;
      const limit = request.query.limit ?? HISTORY_LIMIT.default;
      const page = await engine.getHistory(id, { limit, ...(after !== undefined ? { after } : {}) });
      // An empty page past a cursor says nothing about whether the execution exists: make sure.
      if (page.events.length === 0) await engine.getExecution(id);
      const body = {
        events: page.events.map(presentEvent),
        ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      };
      // Serialised here: the response schema's serializer walks each event's free-form `data`
      // key by key, ~20% of a 1,000-event page's CPU; presentEvent already gives exactly the
      // documented shape, which JSON.stringify writes faster (bench/profile.ts history).
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(body));
    },
  );

  app.post<{ Params: { id: string } }>('/v1/executions/:id/cancel', { schema: routeSchemas.cancelExecution }, async (request, reply) => {
    const execution = await engine.cancel(knownExecutionId(request.params.id));
    return reply.code(202).send(presentExecution(execution));
  });
}
