/**
 * 1. Step overhead: one execution at a time of a 10-step no-op workflow. Steps per second next
 * to raw single-write SQLite transactions per second at the same synchronous setting. Each step
 * is one durable commit (its StepSucceeded, the next StepStarted and the snapshot); the execution
 * adds one more commit for its start, so 10 steps cost 11 commits: the best possible ratio with
 * commit-bound steps is 10/11 = 0.91.
 */
import { interleaved } from './baseline.js';
import { closedLoop, mergeLoops, openRig, withoutSamples, type LoopResult } from './harness.js';
import { benchDir, quantile, removeDir, round, type BenchResult, type Row, type Sync } from './util.js';
import { noop10 } from './workflows.js';
import { pureTransitions } from './pure.js';
import { Metrics } from '../src/observability/metrics.js';
import { combineObservers } from '../src/observability/combine.js';
import { stepLogObserver } from '../src/observability/step-log.js';
import type { EngineObserver } from '../src/core/observer.js';
import { Tracing } from '../src/observability/tracing.js';
import { StepwiseIdGenerator } from '../src/observability/span-ids.js';

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
      // Pure xstate transitions of the same machine, in short slices alternating with the
      // engine's (CPU time of each). On a shared machine both inflate while others run, by
      // different amounts from one moment to the next; the lowest quartile of each (the least
      // disturbed slices) is what the ratio compares, the medians are in the note.
      const pure = pureTransitions(noop10, 10, { i: 1 });
      pure.slice(opts.warmupMs);
      const pureUs: number[] = [];
      const engineUs: number[] = [];
      const SUB = 5;
      const { raw, values } = await interleaved(dir, sync, opts.rounds, opts.rawSliceMs, async (round) => {
        const parts: LoopResult[] = [];
        for (let k = 0; k < SUB; k++) {
          const part = await closedLoop(rig, noop10, (i) => ({ i }), 1, opts.sliceMs / SUB, round === 0 && k === 0 ? opts.warmupMs : 20);
          parts.push(part);
          if (part.executions > 0) engineUs.push(part.cpuUs / (part.executions * 10));
          const p = pure.slice(opts.rawSliceMs / SUB);
          pureUs.push(p.cpuUs / p.transitions);
        }
        return mergeLoops(parts);
      });
      await rig.close();
      const loop = mergeLoops(values);
      const cpuPerStep = quantile(engineUs, 25);
      const cpuPerTransition = quantile(pureUs, 25);
      const cpuRatio = cpuPerStep / cpuPerTransition;
      const stepsPerSec = loop.execPerSec * 10;
      const ratio = stepsPerSec / raw.txPerSec;
      details[sync] = { raw, loop: withoutSamples(loop), stepsPerSec, commitsPerSec: loop.execPerSec * loop.commitsPerExecution, cpuPerStep, cpuPerTransition, engineUs, pureUs };
      rows.push({
        key: `step.${sync}.stepsPerSec`, bench: 'step', label: `10-step no-op, 1 at a time, steps/s (${sync.toUpperCase()})`,
        value: round(stepsPerSec, 0), unit: 'steps/s', baseline: round(raw.txPerSec, 0), baselineLabel: `raw 1-write tx/s (${sync.toUpperCase()})`,
        ratio: round(ratio, 3), target: '≥ 0.5× raw', pass: ratio >= 0.5,
        note: `${round(loop.commitsPerExecution, 2)} commits/exec; per step ${round(1000 / stepsPerSec, 3)} ms vs raw commit ${round(raw.meanUs / 1000, 3)} ms; raw slices ${round(raw.min, 0)}–${round(raw.max, 0)} tx/s`,
      });
      rows.push({
        key: `step.${sync}.cpuPerStep`, bench: 'step', label: `10-step no-op, 1 at a time, CPU per step (${sync.toUpperCase()})`,
        value: round(cpuPerStep, 1), unit: 'µs', baseline: round(cpuPerTransition, 1), baselineLabel: 'one pure xstate transition() of the same machine, µs CPU',
        ratio: round(cpuRatio, 2), ...(sync === 'normal' ? { target: '≤ 2× transition', pass: cpuRatio <= 2 } : {}),
        note: `process CPU (user + system) ÷ steps, lowest quartile of ${engineUs.length} slices; medians ${round(quantile(engineUs, 50), 1)} vs ${round(quantile(pureUs, 50), 1)} µs (${round(quantile(engineUs, 50) / quantile(pureUs, 50), 2)}×)`,
      });
    } finally {
      removeDir(dir);
    }
  }
  rows.push(...(await observerOverhead(opts)));
  return { bench: 'step', rows, details, notes };
}

/**
 * The cost of observing: one engine (NORMAL sync, where a step is cheapest and any overhead shows
 * most) whose observer is switched, in rotating slices, between nothing, the metrics and ctx.log
 * observers `serve` installs, and those plus traces (the Tracing observer on an SDK tracer
 * provider with a batch processor and an in-memory exporter: everything but the network). One
 * engine, not several side by side: a second engine and file in the same process measured 10-25%
 * slower whichever of them observed, which hid the difference.
 */
async function observerOverhead(opts: StepOptions): Promise<Row[]> {
  const dir = benchDir('step-metrics');
  const { BatchSpanProcessor, InMemorySpanExporter, TracerProvider } = await import('@opentelemetry/sdk-trace');
  const exporter = new InMemorySpanExporter();
  const idGenerator = new StepwiseIdGenerator();
  const provider = new TracerProvider({ idGenerator, spanProcessors: [new BatchSpanProcessor({ exporter })] });
  try {
    const modes = ['off', 'metrics', 'traces'] as const;
    let mode: (typeof modes)[number] = 'off';
    let metrics: EngineObserver = {};
    let traced: EngineObserver = {};
    const on = () => (mode === 'off' ? undefined : mode === 'metrics' ? metrics : traced);
    const toggled: EngineObserver = {
      commitDone: (info) => on()?.commitDone?.(info),
      storeError: (code) => on()?.storeError?.(code),
      committed: (info) => on()?.committed?.(info),
      stepAttemptStarted: (info) => on()?.stepAttemptStarted?.(info),
      executionTrace: (info) => on()?.executionTrace?.(info),
    };
    const rig = await openRig(dir, 'normal', [noop10], 'observed', (store) => {
      metrics = combineObservers(new Metrics({ store }), stepLogObserver(() => undefined));
      traced = combineObservers(metrics, new Tracing({ store, idGenerator, tracerProvider: provider }));
      return { observer: toggled };
    });
    const slices: Record<(typeof modes)[number], LoopResult[]> = { off: [], metrics: [], traces: [] };
    for (let r = 0; r < opts.rounds * 6; r++) {
      mode = modes[r % 3]!;
      const slice = await closedLoop(rig, noop10, (i) => ({ i }), 1, opts.sliceMs, r < 3 ? opts.warmupMs : 100);
      slices[mode].push(slice);
      exporter.reset();
    }
    await rig.close();
    const rate = (m: (typeof modes)[number]) => mergeLoops(slices[m]).execPerSec * 10;
    const offRate = rate('off');
    const metricsRate = rate('metrics');
    const tracesRate = rate('traces');
    const ratio = metricsRate / offRate;
    const tracesRatio = tracesRate / offRate;
    // CPU per step of each mode (lowest quartile of its slices): what the observers cost, less
    // moved than the rates by other processes on the machine.
    const cpu = (m: (typeof modes)[number]) => quantile(slices[m].filter((x) => x.executions > 0).map((x) => x.cpuUs / (x.executions * 10)), 25);
    const cpuNote = `CPU per step off ${round(cpu('off'), 1)}, metrics ${round(cpu('metrics'), 1)}, traces ${round(cpu('traces'), 1)} µs (lowest quartile of slices)`;
    return [{
      key: 'step.metrics.stepsPerSec', bench: 'step', label: '10-step no-op, 1 at a time, steps/s with metrics + ctx.log (NORMAL)',
      value: round(metricsRate, 0), unit: 'steps/s', baseline: round(offRate, 0), baselineLabel: 'same engine, observer off',
      ratio: round(ratio, 3), target: '≥ 0.95× observer off', pass: ratio >= 0.95,
      note: `overhead ${round((1 - ratio) * 100, 1)}%; ${opts.rounds * 2} rotating slices each; ${cpuNote}`,
    }, {
      key: 'step.traces.stepsPerSec', bench: 'step', label: '10-step no-op, 1 at a time, steps/s with metrics + ctx.log + traces (NORMAL)',
      value: round(tracesRate, 0), unit: 'steps/s', baseline: round(offRate, 0), baselineLabel: 'same engine, observer off',
      ratio: round(tracesRatio, 3), target: '≥ 0.8× observer off', pass: tracesRatio >= 0.8,
      note: `overhead ${round((1 - tracesRatio) * 100, 1)}% (traces alone ${round((1 - tracesRate / metricsRate) * 100, 1)}% over metrics); in-memory exporter, batch processor; ${opts.rounds * 2} rotating slices each; ${cpuNote}`,
    }];
  } finally {
    await provider.shutdown();
    removeDir(dir);
  }
}
