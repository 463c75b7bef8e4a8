/** `stepwise schedules …` (the compiled CLI as a child process) against a real server in this process. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { cli, ensureBuilt, type RunResult } from '../cli/cli-helpers.js';
import { scheduleRig } from './schedule-harness.js';

describe('stepwise schedules', () => {
  let rig: Awaited<ReturnType<typeof scheduleRig>>;
  let app: FastifyInstance;
  let c: (args: string[]) => Promise<RunResult>;

  beforeAll(async () => {
    await ensureBuilt();
    rig = await scheduleRig({});
    app = buildServer({ engine: rig.engine, schedules: rig.runner });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    c = (args) => cli(['schedules', ...args, '--url', url]);
  }, 240_000);

  afterAll(async () => {
    await app?.close();
    await rig?.close();
  });

  it('creates, lists, gets, pauses, resumes and deletes', async () => {
    const created = await c(['create', 'hourly', '--cron', '0 * * * *', '--workflow', 'quick', '--input', '{"n":1}', '--timezone', 'Asia/Tokyo', '--catch-up', 'none']);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ id: 'hourly', timezone: 'Asia/Tokyo', catchUp: 'none', input: { n: 1 }, nextFireAt: '2026-01-01T01:00:00.000Z' });

    const list = await c(['list']);
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+CRON\s+WORKFLOW\s+STATE\s+NEXT\s+LAST RUN\s+FIRED\/SKIPPED\/MISSED\/FAILED$/);
    expect(lines[1]).toMatch(/^hourly\s+0 \* \* \* \* \(Asia\/Tokyo\)\s+quick\s+active\s+2026-01-01T01:00:00.000Z\s+-\s+0\/0\/0\/0$/);
    expect(JSON.parse((await c(['list', '--json'])).stdout).items).toHaveLength(1);

    expect(JSON.parse((await c(['get', 'hourly'])).stdout).upcoming).toHaveLength(5);
    expect(JSON.parse((await c(['pause', 'hourly'])).stdout)).toMatchObject({ paused: true });
    expect(JSON.parse((await c(['resume', 'hourly'])).stdout)).toMatchObject({ paused: false });
    expect((await c(['delete', 'hourly'])).code).toBe(0);
    expect((await c(['list'])).stdout.trim()).toBe('(no schedules)');
  });

  it('exits 3 for an unknown schedule, 4 for a conflict, 1 for a bad cron, 2 for a usage error', async () => {
    const missing = await c(['get', 'ghost']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^stepwise: SCHEDULE_NOT_FOUND: /);
    expect((await c(['create', 'twice', '--cron', '* * * * *', '--workflow', 'quick'])).code).toBe(0);
    const conflict = await c(['create', 'twice', '--cron', '*/5 * * * *', '--workflow', 'quick']);
    expect(conflict.code).toBe(4);
    expect(conflict.stderr).toMatch(/^stepwise: SCHEDULE_CONFLICT: /);
    const bad = await c(['create', 'bad', '--cron', 'every minute', '--workflow', 'quick']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^stepwise: INVALID_CRON: /);
    for (const args of [['create', 'x', '--workflow', 'quick'], ['frobnicate'], ['get'], ['pause', 'x', '--cron', '* * * * *'], ['get', 'not valid']]) {
      const usage = await c(args);
      expect(usage.code, args.join(' ')).toBe(2);
      expect(usage.stderr).toMatch(/^stepwise: USAGE: /);
    }
  });
});
