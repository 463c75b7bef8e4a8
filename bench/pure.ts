/**
 * The pure-transition baseline of the step benchmark: CPU time of one xstate transition of the
 * same machine the engine runs, through xstate's public `transition(machine, snapshot, event)`,
 * with nothing else (no store, no handler, no engine). The events are the ones a run of the
 * workflow gives its machine: STEP_SUCCEEDED of step k from the snapshot after step k − 1.
 */
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { Workflow } from '../src/index.js';

export interface PureBaseline {
  /** Runs pure transitions for about `ms` and returns the CPU µs and count. */
  slice(ms: number): { cpuUs: number; transitions: number };
}

/** `steps` task states named s1…sN in a row, as bench/workflows.ts builds them. */
export function pureTransitions(wf: Workflow<unknown>, steps: number, input: unknown): PureBaseline {
  const machine = wf.machine;
  const chain: AnyMachineSnapshot[] = [initialTransition(machine, input)[0]];
  const events = Array.from({ length: steps }, (_, k) => ({ type: 'STEP_SUCCEEDED', key: `s${k + 1}`, output: input }));
  for (let k = 0; k < steps; k++) chain.push(transition(machine, chain[k], events[k])[0]);
  let sink = 0;
  return {
    slice(ms) {
      const cpu0 = process.cpuUsage();
      const end = performance.now() + ms;
      let n = 0;
      while (performance.now() < end) {
        for (let k = 0; k < steps; k++) sink += transition(machine, chain[k], events[k])[1].length;
        n += steps;
      }
      const cpu = process.cpuUsage(cpu0);
      if (sink < 0) console.log(sink); // keeps the results alive
      return { cpuUs: cpu.user + cpu.system, transitions: n };
    },
  };
}
