/**
 * Usage and estimated cost (docs/observability.md#usage-and-cost):
 *   GET /v1/executions/:id/usage                       one execution, from its history
 *   GET /v1/usage?workflow=&from=&to=                  sums per workflow per UTC day
 * Both only read; a range is at most 366 days and defaults to the last 7.
 */
import type { FastifyInstance } from 'fastify';
import { NAME_PATTERN, isValidExecutionId } from '../core/ids.js';
import type { PriceTable } from '../observability/usage.js';
import { executionUsageReport, usageByDay, type UsageReads } from '../observability/usage-report.js';
import type { ApiEngine } from './engine-port.js';
import { httpError } from './http-errors.js';
import { MAX_PARAM_LENGTH, errorSchema } from './schemas.js';

const DAY_MS = 86_400_000;
const MAX_RANGE_MS = 366 * DAY_MS;
const errors = { '4xx': errorSchema, '5xx': errorSchema } as const;

const usageSchema = {
  type: 'object',
  required: ['stateTransitions', 'stepAttempts', 'retries', 'handlerMs', 'historyBytes', 'payloadBytes'],
  properties: {
    stateTransitions: { type: 'integer', description: 'States entered, retries included (as Step Functions bills them).' },
    stepAttempts: { type: 'integer' }, retries: { type: 'integer' }, handlerMs: { type: 'integer' },
    historyBytes: { type: 'integer' }, payloadBytes: { type: 'integer' },
  },
} as const;
const costSchema = { type: 'object', required: ['amount', 'currency'], properties: { amount: { type: 'number' }, currency: { type: 'string' } } } as const;
const time = { type: 'string', minLength: 10, maxLength: 40, description: 'ISO 8601 date or date-time (UTC when no offset).' } as const;

export interface UsageRouteOptions {
  engine: ApiEngine;
  prices?: PriceTable;
}

function parseTime(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(text) ? Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text) : Number.NaN;
  if (Number.isNaN(ms)) throw httpError('VALIDATION_FAILED', `${field} must be an ISO 8601 date or date-time, not '${text.slice(0, 40)}'`);
  return ms;
}

export async function registerUsageRoutes(app: FastifyInstance, opts: UsageRouteOptions): Promise<void> {
  const reads = opts.engine as UsageReads;

  app.get<{ Params: { id: string } }>('/v1/executions/:id/usage', {
    schema: {
      summary: "An execution's usage (transitions, attempts, retries, handler time, bytes) and estimated cost", tags: ['executions'],
      params: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', minLength: 1, maxLength: MAX_PARAM_LENGTH } } },
      querystring: { type: 'object', additionalProperties: false, properties: {} },
      response: {
        200: { type: 'object', required: ['executionId', 'workflow', 'status', 'usage', 'cost'], properties: {
          executionId: { type: 'string' }, workflow: { type: 'string' }, status: { type: 'string' }, usage: usageSchema, cost: costSchema,
        } },
        ...errors,
      },
    },
  }, async (request) => {
    const { id } = request.params;
    if (!isValidExecutionId(id)) throw httpError('EXECUTION_NOT_FOUND', `no execution with id '${id.slice(0, 140)}'`);
    return executionUsageReport(reads, id, opts.prices);
  });

  app.get<{ Querystring: { workflow?: string; from?: string; to?: string } }>('/v1/usage', {
    schema: {
      summary: 'Usage and estimated cost per workflow per UTC day, for executions started in [from, to)', tags: ['executions'],
      querystring: { type: 'object', additionalProperties: false, properties: { workflow: { type: 'string', pattern: NAME_PATTERN }, from: time, to: time } },
      response: {
        200: { type: 'object', required: ['from', 'to', 'days', 'total', 'complete'], properties: {
          from: { type: 'string' }, to: { type: 'string' },
          days: { type: 'array', items: { type: 'object', required: ['workflow', 'day', 'executions', 'usage', 'cost'], properties: {
            workflow: { type: 'string' }, day: { type: 'string' }, executions: { type: 'integer' }, usage: usageSchema, cost: costSchema,
          } } },
          total: { type: 'object', required: ['executions', 'usage', 'cost'], properties: { executions: { type: 'integer' }, usage: usageSchema, cost: costSchema } },
          complete: { type: 'boolean', description: 'False when the range held more executions than one report reads (10,000).' },
        } },
        ...errors,
      },
    },
  }, async (request) => {
    const to = parseTime(request.query.to, 'to') ?? Date.now();
    const from = parseTime(request.query.from, 'from') ?? to - 7 * DAY_MS;
    if (from >= to) throw httpError('VALIDATION_FAILED', 'from must be before to');
    if (to - from > MAX_RANGE_MS) throw httpError('VALIDATION_FAILED', 'the range from..to must be at most 366 days');
    const report = await usageByDay(reads, { from, to, ...(request.query.workflow ? { workflow: request.query.workflow } : {}) }, opts.prices);
    return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...report };
  });
}

/** Before a start runs, asks `gate` whether the workflow may start (its daily budget): it throws BUDGET_EXCEEDED when not. */
export function installStartGate(app: FastifyInstance, gate: { checkStart(workflow: string): void }): void {
  app.addHook('preHandler', async (request) => {
    if (request.method !== 'POST' || !request.routeOptions.url?.endsWith('/v1/workflows/:name/executions')) return;
    gate.checkStart((request.params as { name: string }).name);
  });
}
