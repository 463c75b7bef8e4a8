/**
 * 2. Throughput: the 4-step no-op workflow and the checkout example, 1 and 100 executions in
 * flight (closed loop): executions/s and start-to-end latency. The baseline is raw single-write
 * SQLite commits/s at the same synchronous setting; the engine's rate is put on the same scale
 * as steps/s = executions/s × commits per execution (counted, not assumed), so the ratio says
 * how many durable step-commits the engine sustains per raw single-row commit the disk allows.
 * With many in flight, group commit packs many executions' commits into one transaction, so the
 * ratio can exceed 1.
 */
import { interleaved } from './baseline.js';
import { closedLoop, mergeLoops, openRig, withoutSamples, type LoopResult } from './harness.js';
import { benchDir, removeDir, round, type BenchResult, type Row, type Sync } from './util.js';
import { checkoutInput, noop4 } from './workflows.js';
import { checkout, shipping } from '../examples/checkout/workflow.js';

export interface ThroughputOptions {
  syncs: Sync[]; inFlight: number[]; workflows: Array<'noop4' | 'checkout'>;
  /** Each measurement is `rounds` slices of `sliceMs`, interleaved with raw-baseline slices of `rawSliceMs`. */
  rounds: number; sliceMs: number; rawSliceMs: number; warmupMs: number;
}

const DEFAULTS: ThroughputOptions = {
  syncs: ['full', 'normal'], inFlight: [1, 100], workflows: ['noop4', 'checkout'], rounds: 4, sliceMs: 1000, rawSliceMs: 300, warmupMs: 500,
};

export async function run(given: Partial<ThroughputOptions> = {}): Promise<BenchResult> {
  const opts = { ...DEFAULTS, ...given };
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const notes: string[] = [];
  for (const sync of opts.syncs) {
    const dir = benchDir(`throughput-${sync}`);
    const S = sync.toUpperCase();
    try {
      for (const name of opts.workflows) {
        const wf = name === 'noop4' ? noop4 : checkout;
        const input = name === 'noop4' ? (i: number) => ({ i }) : checkoutInput;
        for (const k of opts.inFlight) {
          // Each measurement gets its own raw baseline, in slices interleaved with the engine's.
          const rig = await openRig(dir, sync, name === 'noop4' ? [wf] : [wf, shipping], `${name}-${k}`);
          const { raw, values } = await interleaved(dir, sync, opts.rounds, opts.rawSliceMs, (round) =>
            closedLoop(rig, wf, input, k, opts.sliceMs, round === 0 ? opts.warmupMs : 100));
          let viaWait: LoopResult | undefined;
          if (k === 1 && name === 'noop4') {
            // The same loop ended by engine.waitForEnd instead of the commit hook: what that API adds.
            viaWait = await closedLoop(rig, wf, input, 1, opts.sliceMs, 100, { useWaitForEnd: true });
          }
          await rig.close();
          const loop = mergeLoops(values);
          const stepsPerSec = loop.execPerSec * loop.commitsPerExecution;
          const ratio = stepsPerSec / raw.txPerSec;
          details[`${sync}.${name}.${k}`] = { ...withoutSamples(loop), stepsPerSec, raw, ...(viaWait ? { waitForEnd: withoutSamples(viaWait) } : {}) };
          const tag = `${name}, ${k} in flight (${S})`;
          rows.push({
            key: `throughput.${sync}.${name}.${k}.execPerSec`, bench: 'throughput', label: `${tag}: executions/s`,
            value: round(loop.execPerSec, 1), unit: 'exec/s',
            note: `${round(loop.commitsPerExecution, 2)} commits/exec, ${round(loop.executionsPerTransaction, 1)} exec-commits/tx`,
          });
          rows.push({
            key: `throughput.${sync}.${name}.${k}.stepsPerSec`, bench: 'throughput', label: `${tag}: steps/s (= exec/s × commits/exec)`,
            value: round(stepsPerSec, 0), unit: 'steps/s', baseline: round(raw.txPerSec, 0), baselineLabel: `raw 1-write tx/s (${S})`,
            ratio: round(ratio, 3), note: `raw slices ${round(raw.min, 0)}–${round(raw.max, 0)} tx/s`,
            ...(k >= 100 ? { target: '≥ 1.0× raw', pass: ratio >= 1.0 } : {}),
          });
          rows.push({
            key: `throughput.${sync}.${name}.${k}.p50`, bench: 'throughput', label: `${tag}: p50 start→end`,
            value: round(loop.latencyMs.p50, 3), unit: 'ms',
            ...(k === 1 && name === 'noop4' && sync === 'normal' ? { target: '< 1 ms', pass: loop.latencyMs.p50 < 1 } : {}),
            ...(viaWait ? { note: `ended via engine.waitForEnd instead: p50 ${round(viaWait.latencyMs.p50, 3)} ms, p99 ${round(viaWait.latencyMs.p99, 3)} ms` } : {}),
          });
          rows.push({
            key: `throughput.${sync}.${name}.${k}.p99`, bench: 'throughput', label: `${tag}: p99 start→end`,
            value: round(loop.latencyMs.p99, 3), unit: 'ms',
          });
        }
      }
    } finally {
      removeDir(dir);
    }
  }
  return { bench: 'throughput', rows, details, notes };
}
