/**
 * Two engines, each with its own PostgreSQL pool and schedule runner, on one schema and one
 * virtual clock, so both wake for every slot at the same instant and race for it: every slot is
 * started exactly once, no slot is lost, the counters count each once, and only the process whose
 * compare-and-set landed reports it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore, VirtualClock, schedule, type ScheduleEvent } from '../../src/index.js';
import { PG_URL, dropSchema, pgAvailable, throwawaySchema } from '../store/pg-helpers.js';
import { MINUTE, T0, scheduleRig } from './schedule-harness.js';

const available = await pgAvailable();
const schema = throwawaySchema('sw_sched');

describe.skipIf(!available)('two processes on PostgreSQL racing for the same slots', () => {
  const rigs: Array<Awaited<ReturnType<typeof scheduleRig>>> = [];
  const stores: PostgresStore[] = [];

  beforeAll(async () => {
    const clock = new VirtualClock(T0);
    const schedules = [
      schedule({ id: 'minutely', cron: '* * * * *', workflow: 'quick', overlap: 'allow' }),
      schedule({ id: 'half-minute', cron: '*/30 * * * * *', workflow: 'quick', overlap: 'allow', input: { half: true } }),
      schedule({ id: 'every-two', cron: '*/2 * * * *', workflow: 'quick' }),
    ];
    for (let i = 0; i < 2; i++) stores.push(await PostgresStore.open(PG_URL, { schema, poolSize: 4 }));
    // Both start at once: each upserts the same code schedules.
    rigs.push(...(await Promise.all(stores.map((store) => scheduleRig({ store, clock, schedules, pollIntervalMs: 5000 })))));
  });

  afterAll(async () => {
    for (const r of rigs) await r.close().catch(() => undefined);
    for (const s of stores) await s.close().catch(() => undefined);
    if (available) await dropSchema(schema);
  });

  it('starts each slot exactly once', async () => {
    const clock = rigs[0]!.clock;
    const end = T0 + 10 * MINUTE;
    const settle = async () => {
      await Promise.all(rigs.map((r) => r.runner.idle()));
      await Promise.all(rigs.map((r) => r.engine.idle({ handlerGraceMs: 20 })));
      await Promise.all(rigs.map((r) => r.runner.idle()));
    };
    for (;;) {
      await settle();
      const next = clock.nextTimerAt();
      if (next === undefined || next > end) break;
      await clock.advance(next - clock.now());
    }
    await settle();

    const expected = [
      ...Array.from({ length: 10 }, (_, i) => `minutely@${new Date(T0 + (i + 1) * MINUTE).toISOString()}`),
      ...Array.from({ length: 20 }, (_, i) => `half-minute@${new Date(T0 + (i + 1) * 30_000).toISOString()}`),
      ...Array.from({ length: 5 }, (_, i) => `every-two@${new Date(T0 + (i + 1) * 2 * MINUTE).toISOString()}`),
    ].sort();
    const ids = (await rigs[0]!.engine.listExecutions({ limit: 500 })).items.map((e) => e.id).sort();
    expect(ids).toEqual(expected);

    const events: ScheduleEvent[] = rigs.flatMap((r) => r.events);
    const fired = events.filter((e) => e.type === 'fired').map((e) => (e as { executionId: string }).executionId).sort();
    expect(fired).toEqual(expected); // reported once, by the winner of each slot
    expect(fired.filter((id, i) => fired.indexOf(id) !== i)).toEqual([]);
    // They did race: the loser of a slot finds the row moved on.
    expect(events.filter((e) => e.type === 'lost-race').length).toBeGreaterThan(0);

    const views = await rigs[1]!.runner.list();
    expect(views.map((v) => [v.id, v.firedCount, v.skippedCount, v.missedCount, v.failedCount])).toEqual([
      ['every-two', 5, 0, 0, 0],
      ['half-minute', 20, 0, 0, 0],
      ['minutely', 10, 0, 0, 0],
    ]);
  });
});
