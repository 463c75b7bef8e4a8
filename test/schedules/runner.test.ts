/**
 * The schedule runner on SQLite and a virtual clock: each slot starts one execution with the
 * slot's id; a restart (the store closed and opened again) neither loses nor repeats a slot, and
 * missed slots follow catchUp; a start that a crash kept from being recorded is not repeated;
 * the overlap policies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExecutionStatus, VirtualClock, schedule, type CatchUpPolicy } from '../../src/index.js';
import { MINUTE, T0, gatedWorkflow, scheduleRig, slotId } from './schedule-harness.js';

const rigs: Array<{ close(): Promise<void> }> = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) await rig.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function rig(options: Parameters<typeof scheduleRig>[0]) {
  const r = await scheduleRig(options);
  rigs.push(r);
  return r;
}

const everyMinute = (extra: Partial<Parameters<typeof schedule>[0]> = {}) =>
  schedule({ id: 'tick', cron: '* * * * *', workflow: 'quick', input: { n: 1 }, ...extra });

describe('firing', () => {
  it('starts one execution per slot, with the slot as its id, and counts them', async () => {
    const r = await rig({ schedules: [everyMinute()] });
    await r.advanceTo(T0 + 3 * MINUTE);
    expect(r.fired('tick')).toEqual([slotId('tick', 1), slotId('tick', 2), slotId('tick', 3)]);
    expect(await r.executionIds()).toEqual([slotId('tick', 1), slotId('tick', 2), slotId('tick', 3)]);
    const view = await r.runner.get('tick');
    expect(view).toMatchObject({ firedCount: 3, missedCount: 0, lastSlotAt: T0 + 3 * MINUTE, lastExecutionId: slotId('tick', 3), nextSlotAt: T0 + 4 * MINUTE });
    expect(view.upcoming).toEqual([4, 5, 6, 7, 8].map((n) => T0 + n * MINUTE));
    const started = await r.engine.getExecution(slotId('tick', 2));
    expect(started.input).toEqual({ n: 1 });
    expect(started.startedAt).toBe(T0 + 2 * MINUTE);
  });

  it('reads the cron in its time zone, seconds included', async () => {
    const r = await rig({ schedules: [schedule({ id: 'paris', cron: '30 0 9 * * *', timezone: 'Europe/Paris', workflow: 'quick' })] });
    // 09:00:30 in Paris on 1 January is 08:00:30 UTC.
    expect((await r.runner.get('paris')).nextSlotAt).toBe(Date.UTC(2026, 0, 1, 8, 0, 30));
  });

  it('does not repeat a start that a crash kept from being recorded', async () => {
    const r = await rig({ schedules: [everyMinute()] });
    // As if a process started slot 1 and died before moving the schedule on.
    await r.engine.startExecution('quick', { n: 1 }, { id: slotId('tick', 1) });
    await r.advanceTo(T0 + MINUTE);
    expect(r.events.filter((e) => e.type === 'fired')).toEqual([
      { type: 'fired', schedule: 'tick', slotAt: T0 + MINUTE, executionId: slotId('tick', 1), created: false },
    ]);
    expect(await r.executionIds()).toEqual([slotId('tick', 1)]);
    expect((await r.runner.get('tick')).firedCount).toBe(1);
  });

  it('a paused schedule fires nothing, and resumes from the next future slot', async () => {
    const r = await rig({ schedules: [everyMinute()] });
    await r.runner.setPaused('tick', true);
    await r.advanceTo(T0 + 5 * MINUTE + 10_000);
    expect(await r.executionIds()).toEqual([]);
    const resumed = await r.runner.setPaused('tick', false);
    expect(resumed.nextSlotAt).toBe(T0 + 6 * MINUTE);
    await r.advanceTo(T0 + 6 * MINUTE);
    expect(await r.executionIds()).toEqual([slotId('tick', 6)]);
  });

  it('a deleted schedule fires no more', async () => {
    const r = await rig({ schedules: [everyMinute()] });
    await r.advanceTo(T0 + MINUTE);
    await r.runner.delete('tick');
    await r.advanceTo(T0 + 3 * MINUTE);
    expect(await r.executionIds()).toEqual([slotId('tick', 1)]);
  });

  it('counts a slot whose input the engine refuses as failed, and moves on', async () => {
    const r = await rig({ maxInputBytes: 1024, schedules: [schedule({ id: 'big', cron: '* * * * *', workflow: 'quick', input: { pad: 'x'.repeat(2000) } })] });
    await r.advanceTo(T0 + 2 * MINUTE);
    expect(await r.executionIds()).toEqual([]);
    const view = await r.runner.get('big');
    expect(view).toMatchObject({ firedCount: 0, failedCount: 2, lastSlotAt: T0 + 2 * MINUTE, nextSlotAt: T0 + 3 * MINUTE });
    expect(view.lastError).toMatch(/^VALIDATION_FAILED: /);
    expect(r.events.filter((e) => e.type === 'failed')).toHaveLength(2);
  });
});

describe('a restart', () => {
  async function restartAfterDowntime(catchUp: CatchUpPolicy, downtimeMinutes: number, catchUpLimit?: number) {
    // overlap 'allow': with 'skip', a caught-up slot would find the one before it still running.
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-sched-'));
    dirs.push(dir);
    const location = join(dir, 'db.sqlite');
    const def = everyMinute({ catchUp, overlap: 'allow', ...(catchUpLimit ? { catchUpLimit } : {}) });
    const first = await scheduleRig({ location, schedules: [def] });
    await first.advanceTo(T0 + 2 * MINUTE);
    expect(await first.executionIds()).toEqual([slotId('tick', 1), slotId('tick', 2)]);
    await first.close();
    // Down from just after minute 2 until 30 s past minute 2 + downtime.
    const back = T0 + (2 + downtimeMinutes) * MINUTE + 30_000;
    const second = await rig({ location, schedules: [def], clock: new VirtualClock(back) });
    await second.advanceTo(back);
    return second;
  }

  it("catchUp 'none' skips the missed slots and goes on with the next future one", async () => {
    const r = await restartAfterDowntime('none', 5);
    expect(await r.executionIds()).toEqual([slotId('tick', 1), slotId('tick', 2)]);
    expect(await r.runner.get('tick')).toMatchObject({ missedCount: 5, nextSlotAt: T0 + 8 * MINUTE });
    await r.advanceTo(T0 + 8 * MINUTE);
    expect(await r.executionIds()).toEqual([slotId('tick', 1), slotId('tick', 2), slotId('tick', 8)]);
  });

  it("catchUp 'latest' fires only the most recent missed slot", async () => {
    const r = await restartAfterDowntime('latest', 5);
    expect(await r.executionIds()).toEqual([slotId('tick', 1), slotId('tick', 2), slotId('tick', 7)]);
    expect(await r.runner.get('tick')).toMatchObject({ firedCount: 3, missedCount: 4, nextSlotAt: T0 + 8 * MINUTE });
  });

  it("catchUp 'all' fires each missed slot, up to its limit (the latest ones)", async () => {
    const r = await restartAfterDowntime('all', 5, 3);
    expect(await r.executionIds()).toEqual([1, 2, 5, 6, 7].map((n) => slotId('tick', n)).sort());
    expect(await r.runner.get('tick')).toMatchObject({ firedCount: 5, missedCount: 2 });
  });

  it('with no downtime to speak of, repeats no slot and loses none', async () => {
    const r = await restartAfterDowntime('none', 0);
    await r.advanceTo(T0 + 4 * MINUTE);
    expect(await r.executionIds()).toEqual([1, 2, 3, 4].map((n) => slotId('tick', n)));
  });
});

describe('overlap', () => {
  async function overlapRig(overlap: 'skip' | 'allow' | 'cancelPrevious') {
    const gated = gatedWorkflow();
    const r = await rig({ workflows: [gated.wf], schedules: [schedule({ id: 'job', cron: '* * * * *', workflow: 'gated', overlap })] });
    await r.advanceTo(T0 + MINUTE);
    expect((await r.engine.getExecution(slotId('job', 1))).status).toBe(ExecutionStatus.RUNNING);
    await r.advanceTo(T0 + 2 * MINUTE);
    return { r, gated };
  }

  it("'skip' skips a slot while the previous execution runs, and counts it", async () => {
    const { r, gated } = await overlapRig('skip');
    expect(await r.executionIds()).toEqual([slotId('job', 1)]);
    expect(r.events.find((e) => e.type === 'skipped')).toEqual({ type: 'skipped', schedule: 'job', slotAt: T0 + 2 * MINUTE, runningId: slotId('job', 1) });
    gated.open();
    await r.engine.waitForEnd(slotId('job', 1), 5000);
    await r.advanceTo(T0 + 3 * MINUTE);
    expect(await r.executionIds()).toEqual([slotId('job', 1), slotId('job', 3)]);
    expect(await r.runner.get('job')).toMatchObject({ firedCount: 2, skippedCount: 1 });
  });

  it("'allow' starts the next slot beside the running one", async () => {
    const { r, gated } = await overlapRig('allow');
    expect(await r.executionIds()).toEqual([slotId('job', 1), slotId('job', 2)]);
    gated.open();
  });

  it("'cancelPrevious' cancels the running execution, then starts", async () => {
    const { r } = await overlapRig('cancelPrevious');
    expect(await r.executionIds()).toEqual([slotId('job', 1), slotId('job', 2)]);
    expect(r.events.find((e) => e.type === 'cancelled-previous')).toMatchObject({ cancelledId: slotId('job', 1), slotAt: T0 + 2 * MINUTE });
    expect((await r.engine.waitForEnd(slotId('job', 1), 5000)).status).toBe(ExecutionStatus.CANCELLED);
    expect((await r.engine.getExecution(slotId('job', 2))).status).toBe(ExecutionStatus.RUNNING);
  });
});

describe('a store that fails for a while', () => {
  it('keeps the runner alive: the slot fires once the store answers again', async () => {
    const { Engine, ScheduleRunner, StepwiseError, openStore, scheduleStoreFor } = await import('../../src/index.js');
    const { quick } = await import('./schedule-harness.js');
    const clock = new VirtualClock(T0);
    const store = await openStore(':memory:');
    const engine = new Engine({ store, clock }).register(quick);
    await engine.start();
    const real = scheduleStoreFor(store);
    let failing = false;
    const outage = () => new StepwiseError('STORE_UNAVAILABLE', 'storage fault SQLITE_BUSY: database is locked');
    const flaky = Object.assign(Object.create(real) as typeof real, {
      init: () => real.init(),
      due: (now: number, limit: number) => (failing ? Promise.reject(outage()) : real.due(now, limit)),
      nextSlotAt: () => (failing ? Promise.reject(outage()) : real.nextSlotAt()),
    });
    const runner = new ScheduleRunner({ engine, store: flaky, clock, schedules: [everyMinute()], logger: { info() {}, warn() {}, error() {} } });
    rigs.push({ close: async () => { await runner.stop(); await engine.stop({ graceMs: 0 }); await store.close(); } });
    await runner.start();
    await runner.idle();
    failing = true;
    await clock.advance(MINUTE); // the wake for slot 1 finds the store failing, and so does arming the next one
    await runner.idle();
    expect(clock.nextTimerAt()).toBe(T0 + MINUTE + 1000);
    failing = false;
    await clock.advance(1000);
    await runner.idle();
    expect((await engine.listExecutions()).items.map((e) => e.id)).toEqual([slotId('tick', 1)]);
  });
});
