/**
 * `/v1/schedules`: create, list, describe, pause or resume, and delete durable schedules
 * (docs/triggers.md#schedules). A fastify plugin registered by buildServer when it is given a
 * schedule runner; every change goes through the runner, which re-arms its timer at once.
 */
import type { FastifyInstance } from 'fastify';
import { StepwiseError } from '../core/errors.js';
import { NAME_PATTERN, isValidName } from '../core/ids.js';
import { EXECUTION_STATUSES } from '../core/status.js';
import type { ScheduleRunner, ScheduleView } from '../schedules/runner.js';
import { MAX_CATCH_UP_LIMIT } from '../schedules/schedule.js';
import { httpError } from './http-errors.js';
import { iso } from './present.js';
import { MAX_PARAM_LENGTH, errorSchema } from './schemas.js';

/** What the routes need from the schedule runner. */
export type ScheduleApi = Pick<ScheduleRunner, 'create' | 'list' | 'get' | 'setPaused' | 'delete'>;

export interface ScheduleRoutesOptions {
  schedules: ScheduleApi;
}

/** A schedule's body is small (its input is at most 64 KiB); anything larger is refused with 413. */
export const SCHEDULE_BODY_LIMIT = 128 * 1024;

const errors = { '4xx': errorSchema, '5xx': errorSchema } as const;
const isoTime = { type: 'string', format: 'date-time' } as const;
const overlap = { type: 'string', enum: ['skip', 'allow', 'cancelPrevious'] } as const;
const catchUp = { type: 'string', enum: ['none', 'latest', 'all'] } as const;

const definitionProperties = {
  id: { type: 'string', pattern: NAME_PATTERN, description: 'Slot executions get the id `<id>@<slot time in ISO 8601>`.' },
  cron: { type: 'string', minLength: 1, maxLength: 200, description: 'Five fields, or six with seconds first; nicknames like `@hourly`.' },
  timezone: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA time zone the cron is read in (default UTC).' },
  workflow: { type: 'string', pattern: NAME_PATTERN },
  input: { description: 'The input of every execution it starts (any JSON, at most 64 KiB; default {}).' },
  overlap: { ...overlap, description: 'While the last execution it started still runs (default skip).' },
  catchUp: { ...catchUp, description: 'Slots missed while no process ran (default latest).' },
  catchUpLimit: { type: 'integer', minimum: 1, maximum: MAX_CATCH_UP_LIMIT, description: "With catchUp 'all': most missed slots fired (default 10)." },
} as const;

export const scheduleSchema = {
  type: 'object',
  required: ['id', 'cron', 'timezone', 'workflow', 'input', 'overlap', 'catchUp', 'catchUpLimit', 'paused', 'counts', 'createdAt'],
  properties: {
    ...definitionProperties,
    paused: { type: 'boolean' },
    nextFireAt: { ...isoTime, description: 'The next slot; absent while paused.' },
    upcoming: { type: 'array', items: isoTime, description: 'GET of one schedule: its next 5 fire times.' },
    lastRun: {
      type: 'object',
      required: ['slotAt'],
      properties: {
        slotAt: isoTime,
        executionId: { type: 'string', description: 'The execution the schedule started last.' },
        status: { type: 'string', enum: [...EXECUTION_STATUSES] },
      },
    },
    lastError: { type: 'string', description: 'Why the last slot could not start, when it could not.' },
    counts: {
      type: 'object',
      required: ['fired', 'skipped', 'missed', 'failed'],
      properties: { fired: { type: 'integer' }, skipped: { type: 'integer' }, missed: { type: 'integer' }, failed: { type: 'integer' } },
    },
    createdAt: isoTime,
    updatedAt: isoTime,
  },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: MAX_PARAM_LENGTH, description: 'A schedule id.' } },
} as const;

export const scheduleRouteSchemas = {
  create: {
    summary: 'Create a schedule (idempotent: the same id and definition returns it)',
    tags: ['schedules'],
    body: {
      type: 'object',
      required: ['id', 'cron', 'workflow'],
      additionalProperties: false,
      properties: { ...definitionProperties, paused: { type: 'boolean', description: 'Create it paused.' } },
    },
    response: {
      200: { ...scheduleSchema, description: 'A schedule with this id and definition already existed.' },
      201: { ...scheduleSchema, description: 'The schedule was created.' },
      ...errors,
    },
  },
  list: {
    summary: 'List schedules with their last run and next fire time',
    tags: ['schedules'],
    response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: scheduleSchema } } }, ...errors },
  },
  get: {
    summary: 'Describe one schedule, with its next 5 fire times',
    tags: ['schedules'],
    params: idParams,
    response: { 200: scheduleSchema, ...errors },
  },
  patch: {
    summary: 'Pause or resume a schedule (resuming skips the slots passed while paused)',
    tags: ['schedules'],
    params: idParams,
    body: { type: 'object', required: ['paused'], additionalProperties: false, properties: { paused: { type: 'boolean' } } },
    response: { 200: scheduleSchema, ...errors },
  },
  delete: {
    summary: 'Delete a schedule (the executions it started are kept)',
    tags: ['schedules'],
    params: idParams,
    response: { 204: { type: 'null', description: 'Deleted.' }, ...errors },
  },
} as const;

/** Registers the schedule routes; call it through `app.register(registerScheduleRoutes, options)`. */
export async function registerScheduleRoutes(app: FastifyInstance, opts: ScheduleRoutesOptions): Promise<void> {
  const { schedules } = opts;

  app.post<{ Body: Record<string, unknown> }>('/v1/schedules', { schema: scheduleRouteSchemas.create, bodyLimit: SCHEDULE_BODY_LIMIT }, async (request, reply) => {
    const { schedule, created } = await asRequestError(() => schedules.create(request.body as never));
    reply.header('Location', `/v1/schedules/${encodeURIComponent(schedule.id)}`);
    return reply.code(created ? 201 : 200).send(present(schedule));
  });

  app.get('/v1/schedules', { schema: scheduleRouteSchemas.list }, async () => ({ items: (await schedules.list()).map((s) => present(s, false)) }));

  app.get<{ Params: { id: string } }>('/v1/schedules/:id', { schema: scheduleRouteSchemas.get }, async (request) =>
    present(await schedules.get(knownId(request.params.id))),
  );

  app.patch<{ Params: { id: string }; Body: { paused: boolean } }>('/v1/schedules/:id', { schema: scheduleRouteSchemas.patch }, async (request) =>
    present(await schedules.setPaused(knownId(request.params.id), request.body.paused)),
  );

  app.delete<{ Params: { id: string } }>('/v1/schedules/:id', { schema: scheduleRouteSchemas.delete }, async (request, reply) => {
    await schedules.delete(knownId(request.params.id));
    return reply.code(204).send();
  });
}

/** An id that could never be a schedule's is simply not found. */
function knownId(id: string): string {
  if (!isValidName(id)) throw httpError('SCHEDULE_NOT_FOUND', `no schedule has id '${id.length > 140 ? `${id.slice(0, 140)}…` : id}'`);
  return id;
}

/** A definition the builder refuses is a bad request body here, not a bad workflow definition. */
async function asRequestError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof StepwiseError && error.code === 'INVALID_DEFINITION') throw httpError('VALIDATION_FAILED', error.message);
    throw error;
  }
}

function present(s: ScheduleView, withUpcoming = true) {
  const d = s.definition;
  return {
    id: s.id,
    cron: d.cron,
    timezone: d.timezone,
    workflow: d.workflow,
    input: d.input,
    overlap: d.overlap,
    catchUp: d.catchUp,
    catchUpLimit: d.catchUpLimit,
    paused: s.paused,
    ...(s.upcoming.length > 0 ? { nextFireAt: iso(s.upcoming[0]) } : {}),
    ...(withUpcoming ? { upcoming: s.upcoming.map((t) => iso(t)!) } : {}),
    ...(s.lastSlotAt !== undefined
      ? { lastRun: { slotAt: iso(s.lastSlotAt), ...(s.lastExecutionId ? { executionId: s.lastExecutionId } : {}), ...(s.lastStatus ? { status: s.lastStatus } : {}) } }
      : {}),
    ...(s.lastError ? { lastError: s.lastError } : {}),
    counts: { fired: s.firedCount, skipped: s.skippedCount, missed: s.missedCount, failed: s.failedCount },
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}
