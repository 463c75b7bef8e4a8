/**
 * Schedule lateness: on an idle server (SQLite file, real clock), a schedule firing every
 * second; for each slot, how long after the slot's time its start was committed and the
 * schedule moved on (the runner's 'fired' event). The baseline, measured in the same run and
 * process, is the lateness of a bare setTimeout aimed at the half-second between two slots (so
 * the two never compete for the same instant). Target: p99 < 100 ms.
 */
import { performance } from 'node:perf_hooks';
import { ScheduleRunner, schedule, scheduleStoreFor } from '../src/index.js';
import { openRig } from './harness.js';
import { benchDir, removeDir, round, summarize, type BenchResult } from './util.js';
import { workflow } from '../src/index.js';

export interface ScheduleOptions { slots: number }
const DEFAULTS: ScheduleOptions = { slots: 30 };

const wallNow = (): number => performance.timeOrigin + performance.now();

const noop = workflow('noop').task('nothing', async () => ({})).build();

export async function run(given: Partial<ScheduleOptions> = {}): Promise<BenchResult> {
  const opts = { ...DEFAULTS, ...given };
  const dir = benchDir('schedule');
  const rig = await openRig(dir, 'full', [noop]);
  const runner = new ScheduleRunner({
    engine: rig.engine,
    store: scheduleStoreFor(rig.store),
    schedules: [schedule({ id: 'every-second', cron: '* * * * * *', workflow: 'noop', overlap: 'allow' })],
  });
  const lateness: number[] = [];
  const commitLateness: number[] = [];
  const baseline: number[] = [];
  let baselineTimer: ReturnType<typeof setTimeout> | undefined;
  try {
    const done = new Promise<void>((resolve) => {
      let skipFirst = true; // the first slot may come right after start-up, while the JIT warms
      runner.on((event) => {
        if (event.type !== 'fired') return;
        const late = wallNow() - event.slotAt;
        if (skipFirst) {
          skipFirst = false;
          return;
        }
        lateness.push(late);
        void rig.engine.getExecution(event.executionId).then((e) => commitLateness.push(e.startedAt - event.slotAt));
        if (lateness.length >= opts.slots) resolve();
      });
    });
    const aimBaseline = () => {
      const target = Math.floor(wallNow() / 1000) * 1000 + 1500;
      baselineTimer = setTimeout(() => {
        baseline.push(wallNow() - target);
        aimBaseline();
      }, target - wallNow());
    };
    await runner.start();
    aimBaseline();
    await done;
  } finally {
    clearTimeout(baselineTimer);
    await runner.stop();
    await rig.close();
    removeDir(dir);
  }
  const s = summarize(lateness);
  const b = summarize(baseline.slice(1));
  return {
    bench: 'schedule',
    rows: [
      {
        key: 'schedule.lateness.p99Ms',
        bench: 'schedule',
        label: `slot start lateness p99 (${s.n} slots, every second, idle)`,
        value: round(s.p99, 2),
        unit: 'ms',
        baseline: round(b.p99, 2),
        baselineLabel: 'bare setTimeout lateness p99',
        ratio: b.p99 > 0 ? round(s.p99 / b.p99, 1) : undefined,
        target: '< 100 ms',
        pass: s.p99 < 100,
      },
      {
        key: 'schedule.lateness.p50Ms',
        bench: 'schedule',
        label: 'slot start lateness p50',
        value: round(s.p50, 2),
        unit: 'ms',
        baseline: round(b.p50, 2),
        baselineLabel: 'bare setTimeout lateness p50',
      },
    ],
    details: { options: opts, lateness: s, baseline: b, startedAtLatenessMs: summarize(commitLateness) },
    notes: [
      "Lateness is measured when the runner reports the slot fired: after the execution's start and the schedule's move to the next slot are both committed.",
    ],
  };
}
