/**
 * The doors an operator or another system uses to move a waiting or failed execution on:
 * POST /v1/executions/:id/events/:name (deliver an event), POST /v1/events (publish a correlated
 * event to every execution waiting on its name and key) and POST /v1/executions/:id/redrive.
 * The engine checks everything that needs the execution (ended, not failed, compensated); the
 * schemas here refuse malformed requests before it is asked.
 */
import type { FastifyInstance } from 'fastify';
import { EXECUTION_ID_PATTERN, isValidExecutionId } from '../core/ids.js';
import { jsonDepthExceeds } from '../core/json.js';
import type { ApiEngine } from './engine-port.js';
import { httpError } from './http-errors.js';
import { MAX_INPUT_DEPTH } from './json-body.js';
import { presentExecution } from './present.js';
import { errorSchema, executionSchema, MAX_PARAM_LENGTH } from './schemas.js';

const errorResponses = { '4xx': errorSchema, '5xx': errorSchema } as const;

/** An event's name, as the DSL's `event` option accepts it. */
export const EVENT_NAME_PATTERN = '^[A-Za-z0-9_.:-]{1,128}$';

const eventParams = {
  type: 'object',
  required: ['id', 'name'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1, maxLength: MAX_PARAM_LENGTH, description: 'An execution id.' },
    name: { type: 'string', pattern: EVENT_NAME_PATTERN, description: "The event's name (what a waitForEvent state's `event` names)." },
  },
} as const;

const eventAccepted = {
  type: 'object',
  required: ['id', 'name', 'executionId', 'created'],
  properties: {
    id: { type: 'string', description: "The event's id (the one given, or a new one)." },
    name: { type: 'string' },
    executionId: { type: 'string' },
    created: { type: 'boolean', description: 'false when an event with this id was delivered before (nothing changed).' },
  },
} as const;

const published = {
  type: 'object',
  required: ['id', 'deliveredTo', 'retainedUntil'],
  properties: {
    id: { type: 'string', description: "The event's id (the one given, or a new one)." },
    deliveredTo: {
      type: 'array', items: { type: 'string' },
      description: 'Executions it was delivered to: waiting now (201), or every one so far for a replay (200).',
    },
    retainedUntil: { type: 'string', format: 'date-time', description: 'Kept until then for executions that reach a wait on its name and key later.' },
  },
} as const;

export const eventRouteSchemas = {
  publishEvent: {
    summary: 'Publish a correlated event to every execution waiting on its name and key (idempotent when `id` is given)',
    description: 'Delivered to each execution waiting in a waitForEvent state for `name` whose `key` function returned `key`, '
      + 'and kept for the retention time (`correlatedEventRetentionMs`, 24 h by default) for executions that reach such a wait '
      + 'later: each gets it once. The same `id` again while the event is kept answers 200 and changes nothing.',
    tags: ['executions'],
    body: {
      type: 'object',
      required: ['name', 'key'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', pattern: EVENT_NAME_PATTERN, description: "The event's name (what a waitForEvent state's `event` names)." },
        key: { type: 'string', minLength: 1, maxLength: 256, description: 'The correlation key (what a waitForEvent state\'s `key` function returns).' },
        payload: { description: "The event's payload: any JSON value, nested at most 64 deep; null when absent." },
        id: { type: 'string', pattern: EXECUTION_ID_PATTERN, description: 'Optional event id; the same id again answers 200 and changes nothing.' },
      },
    },
    response: {
      200: { ...published, description: 'An event with this id is kept already; nothing changed.' },
      201: { ...published, description: 'The event was kept and delivered.' },
      ...errorResponses,
    },
  },
  sendEvent: {
    summary: 'Deliver an event to an execution (idempotent when `id` is given)',
    description: 'Kept in the execution\'s mailbox, in order, until a waitForEvent state for `name` takes it. '
      + 'Events nobody waits for never keep the execution from ending.',
    tags: ['executions'],
    params: eventParams,
    body: {
      type: 'object',
      additionalProperties: false,
      properties: {
        payload: { description: "The event's payload: any JSON value, nested at most 64 deep; null when absent." },
        id: { type: 'string', pattern: EXECUTION_ID_PATTERN, description: 'Optional event id; the same id again answers 200 and changes nothing.' },
      },
    },
    response: {
      200: { ...eventAccepted, description: 'An event with this id was already delivered; nothing changed.' },
      201: { ...eventAccepted, description: 'The event was delivered (EventReceived is in the history).' },
      ...errorResponses,
    },
  },
  redrive: {
    summary: 'Resume a FAILED execution from the state that failed',
    description: 'Steps that completed do not run again. 409 EXECUTION_NOT_FAILED unless the execution is FAILED; '
      + '409 EXECUTION_COMPENSATED when its compensations ran.',
    tags: ['executions'],
    params: {
      type: 'object',
      required: ['id'],
      additionalProperties: false,
      properties: { id: { type: 'string', minLength: 1, maxLength: MAX_PARAM_LENGTH, description: 'An execution id.' } },
    },
    response: {
      202: {
        type: 'object',
        required: ['execution', 'count'],
        properties: {
          execution: executionSchema,
          count: { type: 'integer', description: 'How many times the execution has been redriven, this one included.' },
        },
      },
      ...errorResponses,
    },
  },
} as const;

function knownExecutionId(id: string): string {
  if (!isValidExecutionId(id)) throw httpError('EXECUTION_NOT_FOUND', `no execution with id '${id.slice(0, 140)}'`);
  return id;
}

export async function registerEventRoutes(app: FastifyInstance, opts: { engine: Pick<ApiEngine, 'sendEvent' | 'redrive' | 'publishEvent'> }): Promise<void> {
  const { engine } = opts;

  app.post<{ Body: { name: string; key: string; payload?: unknown; id?: string } }>('/v1/events', { schema: eventRouteSchemas.publishEvent }, async (request, reply) => {
    const { name, key, payload = null, id } = request.body;
    if (jsonDepthExceeds(payload, MAX_INPUT_DEPTH)) throw httpError('INPUT_TOO_DEEP', `body.payload is nested deeper than ${MAX_INPUT_DEPTH} levels`);
    const sent = await engine.publishEvent({ name, key, payload, ...(id === undefined ? {} : { id }) });
    return reply.code(sent.created ? 201 : 200).send({ id: sent.id, deliveredTo: sent.deliveredTo, retainedUntil: new Date(sent.retainedUntil).toISOString() });
  });

  app.post<{ Params: { id: string; name: string }; Body: { payload?: unknown; id?: string } | undefined }>(
    '/v1/executions/:id/events/:name',
    { schema: eventRouteSchemas.sendEvent },
    async (request, reply) => {
      const executionId = knownExecutionId(request.params.id);
      const { payload = null, id } = request.body ?? {};
      if (jsonDepthExceeds(payload, MAX_INPUT_DEPTH)) throw httpError('INPUT_TOO_DEEP', `body.payload is nested deeper than ${MAX_INPUT_DEPTH} levels`);
      const sent = await engine.sendEvent(executionId, request.params.name, payload, id === undefined ? {} : { id });
      return reply.code(sent.created ? 201 : 200).send({ id: sent.id, name: request.params.name, executionId, created: sent.created });
    },
  );

  app.post<{ Params: { id: string } }>('/v1/executions/:id/redrive', { schema: eventRouteSchemas.redrive }, async (request, reply) => {
    const { execution, count } = await engine.redrive(knownExecutionId(request.params.id));
    return reply.code(202).send({ execution: presentExecution(execution), count });
  });
}
