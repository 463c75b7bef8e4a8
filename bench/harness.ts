/**
 * A real Engine on a real SqliteStore in a temp dir, and a closed-loop driver: `inFlight`
 * workers, each starting an execution and waiting for its end before starting the next.
 * The end is the moment the ending commit is durable (probeCommits), not a polled status.
 */
import { join } from 'node:path';
import { Engine, SqliteStore, type EngineOptions, type Workflow } from '../src/index.js';
import type { Store } from '../src/core/store.js';
import { benchId, now, probeCommits, summarize, type CommitProbe, type Sync } from './util.js';

export interface Rig {
  store: SqliteStore;
  engine: Engine;
  probe: CommitProbe;
  dbPath: string;
  close(): Promise<void>;
}

export async function openRig(
  dir: string, synchronous: Sync, workflows: Workflow<any>[], name = 'engine', engineOptions: (store: Store) => Partial<EngineOptions> = () => ({}),
): Promise<Rig> {
  const dbPath = join(dir, `${name}-${synchronous}.db`);
  const store = await SqliteStore.open(dbPath, { synchronous });
  const probe = probeCommits(store);
  const engine = new Engine({ store, ...engineOptions(store) });
  engine.register(...workflows);
  await engine.start();
  return {
    store, engine, probe, dbPath,
    async close() {
      await engine.stop({ graceMs: 2000 });
      await store.close();
    },
  };
}

export interface LoopResult {
  executions: number;
  elapsedMs: number;
  execPerSec: number;
  latencyMs: ReturnType<typeof summarize>;
  /** Store transactions and execution commits during the measured window. */
  transactions: number;
  commits: number;
  events: number;
  commitsPerExecution: number;
  executionsPerTransaction: number;
  /** CPU time of this process (user + system, µs) during the measured window. */
  cpuUs: number;
  /** Every measured latency (ms); dropped before results are written. */
  samples?: number[];
}

/** Sums several slices of the same loop into one result (latency percentiles over all samples). */
export function mergeLoops(slices: LoopResult[]): LoopResult {
  const samples = slices.flatMap((s) => s.samples ?? []);
  const executions = slices.reduce((n, s) => n + s.executions, 0);
  const elapsedMs = slices.reduce((n, s) => n + s.elapsedMs, 0);
  const transactions = slices.reduce((n, s) => n + s.transactions, 0);
  const commits = slices.reduce((n, s) => n + s.commits, 0);
  const events = slices.reduce((n, s) => n + s.events, 0);
  const cpuUs = slices.reduce((n, s) => n + s.cpuUs, 0);
  return {
    executions, elapsedMs, execPerSec: (executions / elapsedMs) * 1000, latencyMs: summarize(samples),
    transactions, commits, events, commitsPerExecution: commits / executions, executionsPerTransaction: commits / Math.max(1, transactions),
    cpuUs, samples,
  };
}

export function withoutSamples(r: LoopResult): Omit<LoopResult, 'samples'> {
  const { samples: _s, ...rest } = r;
  return rest;
}

/**
 * Runs executions of `wf` with `inFlight` at a time for `durationMs` (after `warmupMs` unmeasured),
 * and returns executions/s and start-to-end latency. Every execution started is awaited.
 */
export async function closedLoop(
  rig: Pick<Rig, 'engine' | 'probe'>, wf: Workflow<any>, input: (i: number) => unknown, inFlight: number, durationMs: number, warmupMs: number,
  options: { useWaitForEnd?: boolean } = {},
): Promise<LoopResult> {
  const { engine, probe } = rig;
  let i = 0;
  const one = async (): Promise<number> => {
    const id = benchId(wf.name);
    const t0 = now();
    if (options.useWaitForEnd) {
      await engine.startExecution(wf.name, input(i++), { id });
      await engine.waitForEnd(id);
      return now() - t0;
    }
    const ended = probe.endOf(id);
    await engine.startExecution(wf.name, input(i++), { id });
    return (await ended) - t0;
  };
  const phase = async (ms: number, record: boolean) => {
    const latencies: number[] = [];
    const stopAt = now() + ms;
    const worker = async () => {
      while (now() < stopAt) {
        const l = await one();
        if (record) latencies.push(l);
      }
    };
    const t0 = now();
    await Promise.all(Array.from({ length: inFlight }, worker));
    return { latencies, elapsedMs: now() - t0 };
  };
  await phase(warmupMs, false);
  probe.reset();
  const cpu0 = process.cpuUsage();
  const { latencies, elapsedMs } = await phase(durationMs, true);
  const cpu = process.cpuUsage(cpu0);
  const n = latencies.length;
  return {
    executions: n,
    elapsedMs,
    execPerSec: (n / elapsedMs) * 1000,
    latencyMs: summarize(latencies),
    transactions: probe.transactions,
    commits: probe.commits,
    events: probe.events,
    commitsPerExecution: probe.commits / n,
    executionsPerTransaction: probe.commits / Math.max(1, probe.transactions),
    cpuUs: cpu.user + cpu.system,
    samples: latencies,
  };
}
