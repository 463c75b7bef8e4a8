/**
 * 1. Step overhead: one execution at a time of a 10-step no-op workflow. Steps per second next
 * to raw single-write SQLite transactions per second at the same synchronous setting. Each step
 * is one durable commit (its StepSucceeded, the next StepStarted and the snapshot); the execution
 * adds one more commit for its start, so 10 steps cost 11 commits: the best possible ratio with
 * commit-bound steps is 10/11 = 0.91.
 */
import { interleaved } from './baseline.js';
import { closedLoop, mergeLoops, openRig, withoutSamples } from './harness.js';
import { benchDir, removeDir, round, type BenchResult, type Row, type Sync } from './util.js';
import { noop10 } from './workflows.js';
import { Metrics } from '../src/observability/metrics.js';
import { combineObservers } from '../src/observability/combine.js';
import { stepLogObserver } from '../src/observability/step-log.js';

export interface StepOptions { syncs: Sync[]; rounds: number; sliceMs: number; rawSliceMs: number; warmupMs: number }
const DEFAULTS: StepOptions = { syncs: ['full', 'normal'], rounds: 5, sliceMs: 1000, rawSliceMs: 500, warmupMs: 500 };

export async function run(given: Partial<StepOptions> = {}): Promise<BenchResult> {
  const opts = { ...DEFAULTS, ...given };
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const notes: string[] = [];
  for (const sync of opts.syncs) {
    const dir = benchDir(`step-${sync}`);
    try {
      const rig = await openRig(dir, sync, [noop10]);
      const { raw, values } = await interleaved(dir, sync, opts.rounds, opts.rawSliceMs, (round) =>
        closedLoop(rig, noop10, (i) => ({ i }), 1, opts.sliceMs, round === 0 ? opts.warmupMs : 100));
      await rig.close();
      const loop = mergeLoops(values);
      const stepsPerSec = loop.execPerSec * 10;
      const ratio = stepsPerSec / raw.txPerSec;
      details[sync] = { raw, loop: withoutSamples(loop), stepsPerSec, commitsPerSec: loop.execPerSec * loop.commitsPerExecution };
      rows.push({
        key: `step.${sync}.stepsPerSec`, bench: 'step', label: `10-step no-op, 1 at a time, steps/s (${sync.toUpperCase()})`,
        value: round(stepsPerSec, 0), unit: 'steps/s', baseline: round(raw.txPerSec, 0), baselineLabel: `raw 1-write tx/s (${sync.toUpperCase()})`,
        ratio: round(ratio, 3), target: '≥ 0.5× raw', pass: ratio >= 0.5,
        note: `${round(loop.commitsPerExecution, 2)} commits/exec; per step ${round(1000 / stepsPerSec, 3)} ms vs raw commit ${round(raw.meanUs / 1000, 3)} ms; raw slices ${round(raw.min, 0)}–${round(raw.max, 0)} tx/s`,
      });
    } finally {
      removeDir(dir);
    }
  }
  rows.push(await metricsOverhead(opts));
  return { bench: 'step', rows, details, notes };
}

/**
 * The cost of observing: the same loop (NORMAL sync, where a step is cheapest and any overhead
 * shows most) on two engines, one with the metrics and ctx.log observers `serve` installs and
 * one without, measured in alternating slices so drift in the machine's load hits both alike.
 */
async function metricsOverhead(opts: StepOptions): Promise<Row> {
  const dir = benchDir('step-metrics');
  try {
    const off = await openRig(dir, 'normal', [noop10], 'off');
    const on = await openRig(dir, 'normal', [noop10], 'on', (store) => ({ observer: combineObservers(new Metrics({ store }), stepLogObserver(() => undefined)) }));
    const offSlices = [];
    const onSlices = [];
    for (let r = 0; r < opts.rounds * 2; r++) {
      // Each engine warms up in its first slice; the order flips every round so neither always goes first.
      const warm = r < 2 ? opts.warmupMs : 100;
      const slice = (rig: typeof on) => closedLoop(rig, noop10, (i) => ({ i }), 1, opts.sliceMs, warm);
      if (r % 2 === 0) {
        offSlices.push(await slice(off));
        onSlices.push(await slice(on));
      } else {
        onSlices.push(await slice(on));
        offSlices.push(await slice(off));
      }
    }
    await off.close();
    await on.close();
    const offRate = mergeLoops(offSlices).execPerSec * 10;
    const onRate = mergeLoops(onSlices).execPerSec * 10;
    const ratio = onRate / offRate;
    return {
      key: 'step.metrics.stepsPerSec', bench: 'step', label: '10-step no-op, 1 at a time, steps/s with metrics + ctx.log (NORMAL)',
      value: round(onRate, 0), unit: 'steps/s', baseline: round(offRate, 0), baselineLabel: 'same, no observer',
      ratio: round(ratio, 3), target: '≥ 0.95× no observer', pass: ratio >= 0.95,
      note: `overhead ${round((1 - ratio) * 100, 1)}%; alternating slices`,
    };
  } finally {
    removeDir(dir);
  }
}
