/**
 * The observers' own CPU per step, two builds side by side in one process. The engine of this
 * checkout runs one 10-step no-op execution at synchronous=NORMAL and records the calls it makes
 * to its observer; those calls (execution trace, commits, step attempts and their ends) are then
 * replayed, execution after execution with fresh ids, into the metrics + ctx.log observers and
 * into those plus Tracing (OpenTelemetry SDK tracer provider, batch processor, in-memory exporter)
 * of each checkout, in short slices rotating over the four. The engine itself is left out: on a
 * loaded machine its ~77 µs a step moves by more than the few µs the observers cost, which is what
 * `bench/step.ts`'s observer rows (rates of one engine with the observer switched) cannot resolve.
 *
 *   node dist/bench/ab-observer.js <checkout A> <checkout B> [rounds = 20] [executions a slice = 200]
 *
 * Each checkout must be built (`npm run build`) and have its node_modules. Prints, per mode, the
 * lowest quartile and median of the slices' CPU per step (µs).
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EngineObserver, StepAttemptEnd, StepAttemptScope } from '../src/core/observer.js';
import type { ExecutionTrace } from '../src/core/trace-context.js';
import { closedLoop, openRig } from './harness.js';
import { benchDir, percentile, removeDir } from './util.js';
import { noop10 } from './workflows.js';

type Call =
  | ['executionTrace', Parameters<NonNullable<EngineObserver['executionTrace']>>[0]]
  | ['committed', Parameters<NonNullable<EngineObserver['committed']>>[0]]
  | ['commitDone', Parameters<NonNullable<EngineObserver['commitDone']>>[0]]
  | ['stepAttemptStarted', Parameters<NonNullable<EngineObserver['stepAttemptStarted']>>[0]]
  | ['end', StepAttemptEnd];

/** One execution's observer calls, in order, as this checkout's engine makes them. */
async function record(): Promise<Call[]> {
  const calls: Call[] = [];
  let on = false;
  const recorder: EngineObserver = {
    commitDone: (info) => void (on && calls.push(['commitDone', info])),
    committed: (info) => void (on && calls.push(['committed', info])),
    executionTrace: (info) => {
      if (on) calls.push(['executionTrace', info]);
      return { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', span: { startedAt: info.startedAt } };
    },
    stepAttemptStarted: (info) => {
      if (on) calls.push(['stepAttemptStarted', info]);
      return { end: (result) => void (on && calls.push(['end', result])) };
    },
  };
  const dir = benchDir(`ab-observer-${process.pid}`);
  const rig = await openRig(dir, 'normal', [noop10], 'recorded', () => ({ observer: recorder }));
  await closedLoop(rig, noop10, (i) => ({ i }), 1, 200, 100);
  on = true;
  await closedLoop(rig, noop10, (i) => ({ i }), 1, 1, 0);
  on = false;
  await rig.close();
  removeDir(dir);
  const first = calls.findIndex((c) => c[0] === 'executionTrace');
  let last = calls.findIndex((c, i) => i > first && c[0] === 'committed' && c[1].events.some((e) => e.type === 'ExecutionSucceeded'));
  if (first < 0 || last < 0) throw new Error('no whole execution recorded');
  if (calls[last + 1]?.[0] === 'commitDone') last++;
  return calls.slice(first, last + 1);
}

interface Modes { metrics: EngineObserver; traces: EngineObserver; reset(): void; shutdown(): Promise<void> }

/** The observers `serve` installs, from one checkout's dist and node_modules. */
async function observersOf(checkout: string): Promise<Modes> {
  const from = async <T>(file: string) => (await import(pathToFileURL(resolve(checkout, 'dist', 'src', 'observability', file)).href)) as T;
  const { Metrics } = await from<typeof import('../src/observability/metrics.js')>('metrics.js');
  const { combineObservers } = await from<typeof import('../src/observability/combine.js')>('combine.js');
  const { stepLogObserver } = await from<typeof import('../src/observability/step-log.js')>('step-log.js');
  const { Tracing } = await from<typeof import('../src/observability/tracing.js')>('tracing.js');
  const { StepwiseIdGenerator } = await from<typeof import('../src/observability/span-ids.js')>('span-ids.js');
  // One SDK for both sides (this checkout's): the SDK is not what is compared, and a second copy of it measured slower.
  const sdk = createRequire(import.meta.url)('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace');
  const exporter = new sdk.InMemorySpanExporter();
  const idGenerator = new StepwiseIdGenerator();
  const provider = new sdk.TracerProvider({ idGenerator, spanProcessors: [new sdk.BatchSpanProcessor({ exporter })] });
  // Every execution's commits are replayed in order, so Tracing never reads a history.
  const store = { readHistory: () => Promise.reject(new Error('no history read expected')) };
  const metrics = combineObservers(new Metrics({ store: undefined }), stepLogObserver(() => undefined));
  return {
    metrics,
    traces: combineObservers(metrics, new Tracing({ store, idGenerator, tracerProvider: provider })),
    reset: () => exporter.reset(),
    shutdown: () => provider.shutdown(),
  };
}

let serial = 0;

/** One execution's calls into `o`, with a fresh execution id and the trace `o` made for it. */
function replay(o: EngineObserver, script: Call[]): void {
  const executionId = `replayed-${serial++}`;
  let trace: ExecutionTrace | undefined;
  let scope: StepAttemptScope | undefined;
  for (const call of script) {
    switch (call[0]) {
      case 'executionTrace': trace = o.executionTrace?.({ ...call[1], executionId, startedAt: Date.now() }); break;
      case 'committed': o.committed?.({ ...call[1], executionId, trace }); break;
      case 'commitDone': o.commitDone?.(call[1]); break;
      case 'stepAttemptStarted': scope = o.stepAttemptStarted?.({ ...call[1], executionId, trace }); break;
      case 'end': scope?.end(call[1]); break;
    }
  }
}

async function main(): Promise<void> {
  const [a, b, roundsArg, perArg] = process.argv.slice(2);
  if (!a || !b) throw new Error('usage: node dist/bench/ab-observer.js <checkout A> <checkout B> [rounds] [executions a slice]');
  const rounds = Number(roundsArg ?? 20);
  const perSlice = Number(perArg ?? 200);
  const script = await record();
  const steps = script.filter((c) => c[0] === 'stepAttemptStarted').length;
  const sides = [await observersOf(a), await observersOf(b)];
  const modes = sides.flatMap((s, k) => [[`metrics ${k === 0 ? 'A' : 'B'}`, s.metrics], [`traces ${k === 0 ? 'A' : 'B'}`, s.traces]] as const);
  const us = new Map<string, number[]>(modes.map(([name]) => [name, []]));
  const tick = () => new Promise<void>((done) => setImmediate(done));
  for (let r = 0; r <= rounds; r++) {
    for (const [name, o] of modes) {
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < perSlice; i++) {
        replay(o, script);
        if (i % 10 === 9) await tick(); // the batch processor's timer runs between executions, as in an engine
      }
      const cpu = process.cpuUsage(cpu0);
      if (r > 0) us.get(name)!.push((cpu.user + cpu.system) / (perSlice * steps)); // round 0 warms up
    }
    // No forced gc() between slices: its concurrent sweeping runs into the next slice (process CPU
    // counts every thread), which measured A/A pairs apart by a third.
    for (const s of sides) s.reset();
  }
  for (const s of sides) await s.shutdown();
  console.log(`A = ${a}\nB = ${b}\n${rounds} rounds of ${perSlice} executions (${steps} steps each) per mode; observer CPU per step, µs`);
  for (const [name, xs] of us) {
    const sorted = [...xs].sort((x, y) => x - y);
    console.log(`${name.padEnd(10)} lowest quartile ${percentile(sorted, 25).toFixed(2)}  median ${percentile(sorted, 50).toFixed(2)}`);
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
