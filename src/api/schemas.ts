/**
 * JSON schemas for every route: fastify validates requests with them, serialises responses with
 * them, and @fastify/swagger turns them into /openapi.json. Keep them and docs/http-api.md in step.
 */
import { ErrorCodes } from '../core/errors.js';
import { HistoryEventType } from '../core/events.js';
import { EXECUTION_ID_PATTERN, NAME_PATTERN } from '../core/ids.js';
import { HISTORY_LIMIT, LIST_LIMIT } from '../core/limits.js';
import { EXECUTION_STATUSES } from '../core/status.js';

export { HISTORY_LIMIT, LIST_LIMIT };
/** Longest path parameter the router accepts (ids are at most 128 characters). */
export const MAX_PARAM_LENGTH = 256;
const MAX_CURSOR_LENGTH = 1024;

export const errorSchema = {
  type: 'object',
  description: 'Every error response has this shape; `code` is from the error catalog.',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ErrorCodes) },
        message: { type: 'string' },
      },
    },
  },
} as const;

const errorResponses = { '4xx': errorSchema, '5xx': errorSchema } as const;

const isoTime = { type: 'string', format: 'date-time' } as const;
const anyJson = { description: 'Any JSON value.' } as const;

const executionError = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
} as const;

/** One execution as GET /v1/executions/:id shows it. */
export const executionSchema = {
  type: 'object',
  required: ['id', 'workflow', 'version', 'status', 'input', 'startedAt'],
  properties: {
    id: { type: 'string' },
    workflow: { type: 'string' },
    version: { type: 'string', description: 'Content hash of the definition the execution started on.' },
    status: { type: 'string', enum: [...EXECUTION_STATUSES] },
    input: anyJson,
    output: anyJson,
    error: executionError,
    startedAt: isoTime,
    endedAt: isoTime,
    parentId: { type: 'string', description: 'The execution whose invoke state started this one.' },
  },
} as const;

/** One execution in a listing: the summary without input and output (GET the execution for those). */
export const executionListItemSchema = {
  type: 'object',
  required: ['id', 'workflow', 'version', 'status', 'startedAt'],
  properties: {
    id: { type: 'string' },
    workflow: { type: 'string' },
    version: { type: 'string' },
    status: { type: 'string', enum: [...EXECUTION_STATUSES] },
    error: executionError,
    startedAt: isoTime,
    endedAt: isoTime,
    parentId: { type: 'string', description: 'The execution whose invoke state started this one.' },
  },
} as const;

export const startedSchema = {
  type: 'object',
  required: ['id', 'workflow', 'status'],
  properties: {
    id: { type: 'string' },
    workflow: { type: 'string' },
    version: { type: 'string' },
    status: { type: 'string', enum: [...EXECUTION_STATUSES] },
    startedAt: isoTime,
  },
} as const;

export const historyEventSchema = {
  type: 'object',
  required: ['seq', 'type', 'timestamp'],
  properties: {
    seq: { type: 'integer', minimum: 1 },
    type: { type: 'string', enum: Object.values(HistoryEventType) },
    timestamp: isoTime,
    step: { type: 'string' },
    attempt: { type: 'integer' },
    data: { type: 'object', additionalProperties: true },
  },
} as const;

const stateSchema = {
  type: 'object',
  required: ['name', 'type'],
  additionalProperties: true,
  properties: {
    name: { type: 'string' },
    type: { type: 'string' },
  },
} as const;

export const workflowSchema = {
  type: 'object',
  required: ['name', 'version'],
  additionalProperties: true,
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    startAt: { type: 'string' },
    states: { type: 'array', items: stateSchema },
    mermaid: { type: 'string', description: 'The workflow as a Mermaid state diagram.' },
    machine: { type: 'object', additionalProperties: true, description: 'The compiled xstate machine config as JSON.' },
    input: { type: 'object', additionalProperties: true, description: "The input's JSON Schema, when the workflow declares one (a start whose input does not match gets 400)." },
  },
} as const;

const nameParams = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1, maxLength: MAX_PARAM_LENGTH, description: 'A workflow name.' } },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: MAX_PARAM_LENGTH, description: 'An execution id.' } },
} as const;

export const routeSchemas = {
  healthz: {
    summary: 'Liveness check (never needs a token)',
    tags: ['meta'],
    security: [],
    response: {
      200: { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' } } },
      ...errorResponses,
    },
  },
  openapi: {
    summary: 'This OpenAPI document',
    tags: ['meta'],
    response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
  },
  listWorkflows: {
    summary: 'List registered workflows',
    tags: ['workflows'],
    response: {
      200: {
        type: 'object',
        required: ['workflows'],
        properties: { workflows: { type: 'array', items: workflowSchema } },
      },
      ...errorResponses,
    },
  },
  describeWorkflow: {
    summary: 'Describe one workflow: states, Mermaid diagram and compiled machine',
    tags: ['workflows'],
    params: nameParams,
    response: { 200: workflowSchema, ...errorResponses },
  },
  startExecution: {
    summary: 'Start an execution (idempotent when `id` is given)',
    tags: ['executions'],
    params: nameParams,
    headers: {
      type: 'object',
      properties: {
        traceparent: {
          type: 'string',
          description: 'W3C trace context of the caller: the execution\'s span (and its steps) join that trace. A malformed value is ignored.',
        },
      },
    },
    body: {
      type: 'object',
      required: ['input'],
      additionalProperties: false,
      properties: {
        input: { description: 'The execution input: any JSON value, nested at most 64 deep.' },
        id: {
          type: 'string',
          pattern: EXECUTION_ID_PATTERN,
          description: 'Optional caller-chosen id; starting again with the same id and input returns the same execution.',
        },
      },
    },
    response: {
      200: { ...startedSchema, description: 'An execution with this id and input already existed.' },
      201: { ...startedSchema, description: 'The execution was created.' },
      ...errorResponses,
    },
  },
  listExecutions: {
    summary: 'List executions, newest first',
    tags: ['executions'],
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: {
        workflow: { type: 'string', pattern: NAME_PATTERN },
        status: { type: 'string', enum: [...EXECUTION_STATUSES] },
        parentId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$', description: 'Only the children of this execution (started by its invoke states).' },
        limit: { type: 'integer', minimum: LIST_LIMIT.min, maximum: LIST_LIMIT.max, default: LIST_LIMIT.default },
        cursor: { type: 'string', minLength: 1, maxLength: MAX_CURSOR_LENGTH, description: 'nextCursor of the previous page.' },
      },
    },
    response: {
      200: {
        type: 'object',
        required: ['items'],
        properties: {
          items: { type: 'array', items: executionListItemSchema },
          nextCursor: { type: 'string' },
        },
      },
      ...errorResponses,
    },
  },
  getExecution: {
    summary: 'Describe one execution',
    tags: ['executions'],
    params: idParams,
    response: { 200: executionSchema, ...errorResponses },
  },
  getHistory: {
    summary: "An execution's history events, in order",
    tags: ['executions'],
    params: idParams,
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: {
        after: { type: 'string', minLength: 1, maxLength: MAX_CURSOR_LENGTH, description: 'nextCursor of the previous page.' },
        limit: { type: 'integer', minimum: HISTORY_LIMIT.min, maximum: HISTORY_LIMIT.max, default: HISTORY_LIMIT.default },
      },
    },
    response: {
      200: {
        type: 'object',
        required: ['events'],
        properties: {
          events: { type: 'array', items: historyEventSchema },
          nextCursor: { type: 'string' },
        },
      },
      ...errorResponses,
    },
  },
  cancelExecution: {
    summary: 'Request cancellation; compensations of completed steps run',
    tags: ['executions'],
    params: idParams,
    response: { 202: executionSchema, ...errorResponses },
  },
} as const;
