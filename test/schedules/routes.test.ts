/**
 * /v1/schedules through the real server (buildServer + app.inject), a real engine on SQLite and a
 * schedule runner on a virtual clock: the documented answers, and every hostile request refused
 * with its status and catalog code, with nothing created.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { MINUTE, T0, scheduleRig } from './schedule-harness.js';

const TOKEN = 'schedule-route-token';
let rig: Awaited<ReturnType<typeof scheduleRig>>;
let app: FastifyInstance;

function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${TOKEN}`, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(payload !== undefined ? { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) } : {}),
  });
}

function expectError(res: LightMyRequestResponse, status: number, code: string, message?: RegExp): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(JSON.parse(res.body)).toEqual({ error: { code, message: message ? expect.stringMatching(message) : expect.any(String) } });
}

async function scheduleCount(): Promise<number> {
  return (await rig.runner.list()).length;
}

const body = { id: 'nightly', cron: '0 30 2 * * *', timezone: 'Europe/Paris', workflow: 'quick', input: { report: 'sales' } };

beforeAll(async () => {
  rig = await scheduleRig({});
  app = buildServer({ engine: rig.engine, token: TOKEN, schedules: rig.runner });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await rig?.close();
});

describe('POST /v1/schedules', () => {
  it('creates a schedule (201), then answers 200 for the same definition and 409 for another', async () => {
    const res = await call('POST', '/v1/schedules', body);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers.location).toBe('/v1/schedules/nightly');
    const created = JSON.parse(res.body);
    expect(created).toMatchObject({
      id: 'nightly', cron: '0 30 2 * * *', timezone: 'Europe/Paris', workflow: 'quick', input: { report: 'sales' },
      overlap: 'skip', catchUp: 'latest', catchUpLimit: 10, paused: false, counts: { fired: 0, skipped: 0, missed: 0, failed: 0 },
    });
    // 02:30:00 in Paris is 01:30:00 UTC in January.
    expect(created.nextFireAt).toBe('2026-01-01T01:30:00.000Z');
    expect(created.upcoming).toHaveLength(5);
    expect(created.upcoming[1]).toBe('2026-01-02T01:30:00.000Z');

    const again = await call('POST', '/v1/schedules', { ...body, input: { report: 'sales' } });
    expect(again.statusCode).toBe(200);
    expectError(await call('POST', '/v1/schedules', { ...body, cron: '0 0 3 * * *' }), 409, 'SCHEDULE_CONFLICT', /nightly/);
    expect(await scheduleCount()).toBe(1);
  });

  it.each([
    ['a cron with a field out of range', { cron: '61 * * * *' }, 400, 'INVALID_CRON', /cron '61 \* \* \* \*' is not valid/],
    ['a cron with three fields', { cron: '* * *' }, 400, 'INVALID_CRON', /cron/],
    ['a cron with seven fields', { cron: '* * * * * * *' }, 400, 'INVALID_CRON', /cron/],
    ['a cron that never fires', { cron: '0 0 30 2 *' }, 400, 'INVALID_CRON', /never fires/],
    ['an unknown time zone', { timezone: 'Mars/Olympus_Mons' }, 400, 'UNKNOWN_TIME_ZONE', /timezone 'Mars\/Olympus_Mons'/],
    ['an unknown workflow', { workflow: 'nope' }, 404, 'WORKFLOW_NOT_FOUND', /workflow 'nope'/],
    ['a missing cron', { cron: undefined }, 400, 'VALIDATION_FAILED', /body\.cron is required/],
    ['an unknown field', { every: 'minute' }, 400, 'VALIDATION_FAILED', /body\.every is not allowed/],
    ['a bad overlap', { overlap: 'sometimes' }, 400, 'VALIDATION_FAILED', /body\.overlap must be one of/],
    ['a catchUpLimit of 0', { catchUpLimit: 0 }, 400, 'VALIDATION_FAILED', /catchUpLimit/],
    ['an id that cannot be one', { id: 'no spaces' }, 400, 'VALIDATION_FAILED', /body\.id/],
    ['an input over 64 KiB', { input: { pad: 'x'.repeat(70_000) } }, 400, 'VALIDATION_FAILED', /input must be JSON of at most 65536 bytes/],
  ])('refuses %s', async (_what, change, status, code, message) => {
    const res = await call('POST', '/v1/schedules', { ...body, id: 'hostile', ...change });
    expectError(res, status, code, message);
    expect(await scheduleCount()).toBe(1);
  });

  it('refuses a body that is not JSON, nested too deep, or too large', async () => {
    expectError(await call('POST', '/v1/schedules', '{"id": "x",'), 400, 'MALFORMED_JSON');
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = { d: deep };
    expectError(await call('POST', '/v1/schedules', { ...body, id: 'deep', input: deep }), 400, 'INPUT_TOO_DEEP');
    expectError(await call('POST', '/v1/schedules', { ...body, id: 'huge', input: 'x'.repeat(200_000) }), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await call('POST', '/v1/schedules', 'id=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(await scheduleCount()).toBe(1);
  });

  it('needs the bearer token', async () => {
    expectError(await app.inject({ method: 'POST', url: '/v1/schedules', payload: { ...body, id: 'anon' } }), 401, 'UNAUTHORIZED');
    expectError(await app.inject({ method: 'GET', url: '/v1/schedules' }), 401, 'UNAUTHORIZED');
  });
});

describe('GET, PATCH and DELETE', () => {
  it('lists schedules with their last run and next fire time', async () => {
    await call('POST', '/v1/schedules', { id: 'minutely', cron: '* * * * *', workflow: 'quick' });
    await rig.advanceTo(T0 + MINUTE);
    const res = await call('GET', '/v1/schedules');
    expect(res.statusCode).toBe(200);
    const { items } = JSON.parse(res.body);
    expect(items.map((s: { id: string }) => s.id)).toEqual(['minutely', 'nightly']);
    expect(items[0]).toMatchObject({
      nextFireAt: '2026-01-01T00:02:00.000Z',
      lastRun: { slotAt: '2026-01-01T00:01:00.000Z', executionId: 'minutely@2026-01-01T00:01:00.000Z', status: 'SUCCEEDED' },
      counts: { fired: 1 },
    });
    expect(items[0].upcoming).toBeUndefined();
    const execution = await call('GET', `/v1/executions/${encodeURIComponent('minutely@2026-01-01T00:01:00.000Z')}`);
    expect(execution.statusCode).toBe(200);
  });

  it('pauses and resumes', async () => {
    const paused = await call('PATCH', '/v1/schedules/minutely', { paused: true });
    expect(paused.statusCode, paused.body).toBe(200);
    expect(JSON.parse(paused.body)).toMatchObject({ paused: true, upcoming: [] });
    expect(JSON.parse(paused.body).nextFireAt).toBeUndefined();
    const resumed = JSON.parse((await call('PATCH', '/v1/schedules/minutely', { paused: false })).body);
    expect(resumed).toMatchObject({ paused: false, nextFireAt: '2026-01-01T00:02:00.000Z' });
    expectError(await call('PATCH', '/v1/schedules/minutely', { paused: 'yes' }), 400, 'VALIDATION_FAILED');
    expectError(await call('PATCH', '/v1/schedules/minutely', {}), 400, 'VALIDATION_FAILED', /paused is required/);
    expectError(await call('PATCH', '/v1/schedules/ghost', { paused: true }), 404, 'SCHEDULE_NOT_FOUND');
  });

  it('answers 404 for an unknown schedule, whatever its id looks like', async () => {
    expectError(await call('GET', '/v1/schedules/ghost'), 404, 'SCHEDULE_NOT_FOUND', /ghost/);
    expectError(await call('GET', `/v1/schedules/${encodeURIComponent('../../etc')}`), 404, 'SCHEDULE_NOT_FOUND');
    expectError(await call('GET', `/v1/schedules/${'x'.repeat(300)}`), 400, 'VALIDATION_FAILED');
  });

  it('deletes (204), then the schedule is gone', async () => {
    const res = await call('DELETE', '/v1/schedules/minutely');
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expectError(await call('DELETE', '/v1/schedules/minutely'), 404, 'SCHEDULE_NOT_FOUND');
    expectError(await call('GET', '/v1/schedules/minutely'), 404, 'SCHEDULE_NOT_FOUND');
  });

  it('describes every route in the OpenAPI document', async () => {
    const doc = JSON.parse((await call('GET', '/openapi.json')).body);
    expect(Object.keys(doc.paths['/v1/schedules'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/v1/schedules/{id}'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
  });
});
