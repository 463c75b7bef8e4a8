/**
 * Two builds of Stepwise side by side in one process, for a before/after of the step's CPU on a
 * loaded machine: each checkout's own dist (and node_modules) runs the 10-step no-op workflow one
 * execution at a time at synchronous=NORMAL on its own file, in short slices that alternate A, B,
 * B, A, ... so that both see the same load; the paired ratio of each pair's CPU per step is what
 * to read (separate processes moved ±15% between runs here, more than the change measured).
 *
 *   node --expose-gc dist/bench/ab-step.js <checkout A> <checkout B> [pairs = 40] [sliceMs = 250]
 *
 * Each checkout must be built (`npm run build`) and have its node_modules.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Workflow } from '../src/index.js';
import type { LoopResult, Rig } from './harness.js';
import { quantile, type Sync } from './util.js';

interface Side {
  slice(warmupMs: number): Promise<number>;
  close(): Promise<void>;
}

type HarnessModule = {
  openRig(dir: string, sync: Sync, workflows: Workflow<unknown>[]): Promise<Rig>;
  closedLoop(rig: Rig, wf: Workflow<unknown>, input: (i: number) => unknown, inFlight: number, durationMs: number, warmupMs: number): Promise<LoopResult>;
};

async function side(checkout: string, tag: string, sliceMs: number): Promise<Side> {
  const from = (path: string) => pathToFileURL(resolve(checkout, 'dist', 'bench', path)).href;
  const harness = (await import(from('harness.js'))) as HarnessModule;
  const { noop10 } = (await import(from('workflows.js'))) as { noop10: Workflow<unknown> };
  const util = (await import(from('util.js'))) as { benchDir(name: string): string; removeDir(dir: string): void };
  const dir = util.benchDir(`ab-${tag}-${process.pid}`);
  const rig = await harness.openRig(dir, 'normal', [noop10]);
  return {
    async slice(warmupMs) {
      const r = await harness.closedLoop(rig, noop10, (i) => ({ i }), 1, sliceMs, warmupMs);
      return r.cpuUs / (r.executions * 10);
    },
    async close() {
      await rig.close();
      util.removeDir(dir);
    },
  };
}

async function main(): Promise<void> {
  const [a, b, pairsArg, sliceArg] = process.argv.slice(2);
  if (!a || !b) throw new Error('usage: node --expose-gc dist/bench/ab-step.js <checkout A> <checkout B> [pairs] [sliceMs]');
  const pairs = Number(pairsArg ?? 40);
  const sliceMs = Number(sliceArg ?? 250);
  const sideA = await side(a, 'a', sliceMs);
  const sideB = await side(b, 'b', sliceMs);
  await sideA.slice(1500);
  await sideB.slice(1500);
  const cpuA: number[] = [];
  const cpuB: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const aFirst = i % 2 === 0;
    const first = await (aFirst ? sideA : sideB).slice(30);
    const second = await (aFirst ? sideB : sideA).slice(30);
    const [x, y] = aFirst ? [first, second] : [second, first];
    cpuA.push(x);
    cpuB.push(y);
    ratios.push(y / x);
  }
  await sideA.close();
  await sideB.close();
  const q = (xs: number[], p: number) => quantile(xs, p * 100);
  const f = (x: number) => x.toFixed(1);
  console.log(`CPU per step, µs (lowest quartile / median of ${pairs} slices): A ${f(q(cpuA, 0.25))} / ${f(q(cpuA, 0.5))}, B ${f(q(cpuB, 0.25))} / ${f(q(cpuB, 0.5))}`);
  console.log(`B ÷ A, paired: median ${q(ratios, 0.5).toFixed(3)} (quartiles ${q(ratios, 0.25).toFixed(3)}–${q(ratios, 0.75).toFixed(3)})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
