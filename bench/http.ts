/**
 * 3. HTTP: starts per second and p50/p99 latency over 10 connections (autocannon in a separate
 * process) on the real API (buildServer, real Engine, SqliteStore at the default
 * synchronous=FULL), two figures so that the HTTP layer's own cost shows apart from the engine's:
 *
 * (a) POST /v1/workflows/parked/executions: the workflow parks on a one-hour wait, so a request
 *     costs one start (one commit) and nothing runs after it; against a fastify hello-world POST
 *     route served by this same process with the same request body.
 * (b) POST /v1/workflows/noop4/executions: the executions run their 4 steps in the same process
 *     while the load goes on, as they would in production; against the same workflow started
 *     in-process with `engine.startExecution`, 10 at a time (closed loop), on the same engine.
 *
 * (a) also has its ceiling beside it: the same parked workflow started in-process, 10 at a time,
 *     which is what the engine alone reaches with no HTTP at all.
 *
 * The phases alternate round by round (hello, parked over HTTP and in-process, noop4 over HTTP,
 * noop4 in-process), each after the previous phase's executions have drained, so all see the
 * same machine.
 */
import { fork } from 'node:child_process';
import { buildServer } from '../src/api/server.js';
import { helloWorldServer } from './baseline.js';
import { openRig } from './harness.js';
import type { LoadResult } from './load.js';
import { benchDir, now, removeDir, round, sleep, summarize, type BenchResult, type Row } from './util.js';
import { noop4, parked } from './workflows.js';

export interface HttpOptions { connections: number; durationSec: number; warmupSec: number; rounds: number }
/** `rounds` × (hello-world, then starts), each `warmupSec` + `durationSec`, so both see the same machine. */
const DEFAULTS: HttpOptions = { connections: 10, durationSec: 3, warmupSec: 1, rounds: 2 };

interface Merged { requests: number; elapsedSec: number; reqPerSec: number; non2xx: number; errors: number; timeouts: number; latencyMs: ReturnType<typeof summarize>; rounds: number[] }

function merge(results: LoadResult[]): Merged {
  const requests = results.reduce((n, r) => n + r.requests, 0);
  const elapsedSec = results.reduce((n, r) => n + r.elapsedSec, 0);
  return {
    requests, elapsedSec, reqPerSec: requests / elapsedSec,
    non2xx: results.reduce((n, r) => n + r.non2xx, 0), errors: results.reduce((n, r) => n + r.errors, 0), timeouts: results.reduce((n, r) => n + r.timeouts, 0),
    latencyMs: summarize(results.flatMap((r) => r.samples)), rounds: results.map((r) => r.reqPerSec),
  };
}

function load(url: string, body: string, opts: HttpOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./load.js', import.meta.url).pathname, [JSON.stringify({ url, body, ...opts })], { stdio: 'inherit' });
    let result: LoadResult | undefined;
    child.on('message', (m) => { result = m as LoadResult; });
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`load generator exited with ${code}`))));
  });
}

/** `connections` executions started in-process at a time, each worker starting the next when its start returns. */
async function inProcess(engine: { startExecution(w: string, input: unknown): Promise<unknown> }, workflow: string, opts: HttpOptions): Promise<LoadResult> {
  const phase = async (sec: number, record: boolean) => {
    const latencies: number[] = [];
    let requests = 0;
    const stopAt = now() + sec * 1000;
    const t0 = now();
    await Promise.all(Array.from({ length: opts.connections }, async () => {
      while (now() < stopAt) {
        const t = now();
        await engine.startExecution(workflow, { n: 1 });
        requests++;
        if (record) latencies.push(now() - t);
      }
    }));
    return { latencies, requests, elapsedSec: (now() - t0) / 1000 };
  };
  if (opts.warmupSec > 0) await phase(opts.warmupSec, false);
  const { latencies, requests, elapsedSec } = await phase(opts.durationSec, true);
  latencies.sort((a, b) => a - b);
  const l = summarize(latencies);
  return {
    requests, elapsedSec, reqPerSec: requests / elapsedSec, non2xx: 0, errors: 0, timeouts: 0,
    latencyMs: { p50: l.p50, p90: l.p90, p99: l.p99, max: l.max, mean: l.mean }, samples: latencies,
  };
}

const spread = (m: Merged) => m.rounds.map((r) => round(r, 0)).join(', ');

export async function run(given: Partial<HttpOptions> = {}): Promise<BenchResult> {
  const opts = { ...DEFAULTS, ...given };
  const dir = benchDir('http');
  const body = JSON.stringify({ input: { n: 1 } });
  try {
    const rig = await openRig(dir, 'full', [noop4, parked]);
    const app = buildServer({ engine: rig.engine, logger: false, startRateLimit: { max: 1_000_000_000, timeWindowMs: 60_000 } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const hello = await helloWorldServer();
    const db = rig.store.connection;
    const running = () => db.prepare("SELECT count(*) FROM executions WHERE status = 'RUNNING' AND workflow = 'noop4'").pluck().get() as number;
    /** Lets the noop4 executions a phase started finish (bounded), so the next phase starts clean. */
    const drain = async () => {
      const t0 = Date.now();
      const backlog = running();
      while (running() > 0 && Date.now() - t0 < 20_000) await sleep(50);
      return { backlog, ms: Date.now() - t0 };
    };

    const helloRuns: LoadResult[] = [];
    const parkedRuns: LoadResult[] = [];
    const parkedInProcessRuns: LoadResult[] = [];
    const httpRuns: LoadResult[] = [];
    const inProcessRuns: LoadResult[] = [];
    const drains: Array<{ after: string; backlog: number; ms: number }> = [];
    let commitsDuringLoad = 0;
    for (let i = 0; i < opts.rounds; i++) {
      helloRuns.push(await load(hello.url, body, opts));
      parkedRuns.push(await load(`http://127.0.0.1:${port}/v1/workflows/parked/executions`, body, opts));
      parkedInProcessRuns.push(await inProcess(rig.engine, 'parked', opts));
      const before = rig.probe.commits;
      httpRuns.push(await load(`http://127.0.0.1:${port}/v1/workflows/noop4/executions`, body, opts));
      commitsDuringLoad += rig.probe.commits - before;
      drains.push({ after: 'http', ...(await drain()) });
      inProcessRuns.push(await inProcess(rig.engine, 'noop4', opts));
      drains.push({ after: 'in-process', ...(await drain()) });
    }
    await hello.app.close();
    const baseline = merge(helloRuns);
    const parkedStarts = merge(parkedRuns);
    const parkedLocal = merge(parkedInProcessRuns);
    const starts = merge(httpRuns);
    const local = merge(inProcessRuns);
    const total = db.prepare('SELECT count(*) FROM executions').pluck().get() as number;
    await app.close();
    await rig.close();

    const parkedRatio = parkedStarts.reqPerSec / baseline.reqPerSec;
    const runningRatio = starts.reqPerSec / local.reqPerSec;
    const rows: Row[] = [
      {
        key: 'http.parked.startsPerSec', bench: 'http', label: `(a) HTTP starts/s, parked workflow (one commit each), ${opts.connections} connections (FULL)`,
        value: round(parkedStarts.reqPerSec, 0), unit: 'req/s', baseline: round(baseline.reqPerSec, 0), baselineLabel: 'fastify hello-world POST req/s',
        ratio: round(parkedRatio, 3), target: '≥ 0.25× hello', pass: parkedRatio >= 0.25,
        note: `${parkedStarts.requests} starts in ${round(parkedStarts.elapsedSec, 1)} s; rounds ${spread(parkedStarts)} vs hello ${spread(baseline)} req/s; ${parkedStarts.non2xx} non-2xx, ${parkedStarts.errors} errors`,
      },
      {
        key: 'http.parked.inProcess', bench: 'http', label: `(a) its ceiling: parked starts/s in-process (engine.startExecution, ${opts.connections} at a time, no HTTP)`,
        value: round(parkedLocal.reqPerSec, 0), unit: 'starts/s', baseline: round(baseline.reqPerSec, 0), baselineLabel: 'fastify hello-world POST req/s',
        ratio: round(parkedLocal.reqPerSec / baseline.reqPerSec, 3),
        note: `HTTP (a) is ${round(parkedStarts.reqPerSec / parkedLocal.reqPerSec, 3)}× this; rounds ${spread(parkedLocal)}; p50 ${round(parkedLocal.latencyMs.p50, 3)} ms, p99 ${round(parkedLocal.latencyMs.p99, 3)} ms`,
      },
      {
        key: 'http.parked.p50', bench: 'http', label: '(a) HTTP start p50 latency, parked workflow', value: round(parkedStarts.latencyMs.p50, 3), unit: 'ms',
        baseline: round(baseline.latencyMs.p50, 3), baselineLabel: 'hello-world p50', ratio: round(parkedStarts.latencyMs.p50 / baseline.latencyMs.p50, 2),
      },
      {
        key: 'http.parked.p99', bench: 'http', label: '(a) HTTP start p99 latency, parked workflow', value: round(parkedStarts.latencyMs.p99, 3), unit: 'ms',
        baseline: round(baseline.latencyMs.p99, 3), baselineLabel: 'hello-world p99', ratio: round(parkedStarts.latencyMs.p99 / baseline.latencyMs.p99, 2),
        target: '< 5 ms', pass: parkedStarts.latencyMs.p99 < 5,
      },
      {
        key: 'http.running.startsPerSec', bench: 'http', label: `(b) HTTP starts/s, noop4 running in the same process, ${opts.connections} connections (FULL)`,
        value: round(starts.reqPerSec, 0), unit: 'req/s', baseline: round(local.reqPerSec, 0), baselineLabel: `engine.startExecution, ${opts.connections} at a time, starts/s`,
        ratio: round(runningRatio, 3), target: '≥ 0.8× in-process', pass: runningRatio >= 0.8,
        note: `${starts.requests} starts in ${round(starts.elapsedSec, 1)} s; rounds ${spread(starts)} vs in-process ${spread(local)}; hello-world ${round(baseline.reqPerSec, 0)} req/s (${round(starts.reqPerSec / baseline.reqPerSec, 3)}×); ${starts.non2xx} non-2xx, ${starts.errors} errors`,
      },
      {
        key: 'http.running.p50', bench: 'http', label: '(b) HTTP start p50 latency, noop4', value: round(starts.latencyMs.p50, 3), unit: 'ms',
        baseline: round(local.latencyMs.p50, 3), baselineLabel: 'in-process start p50', ratio: round(starts.latencyMs.p50 / local.latencyMs.p50, 2),
      },
      {
        key: 'http.running.p99', bench: 'http', label: '(b) HTTP start p99 latency, noop4', value: round(starts.latencyMs.p99, 3), unit: 'ms',
        baseline: round(local.latencyMs.p99, 3), baselineLabel: 'in-process start p99', ratio: round(starts.latencyMs.p99 / local.latencyMs.p99, 2),
      },
    ];
    const notes = [
      `HTTP: ${total} executions started in all; noop4 backlog after each phase ${drains.map((d) => `${d.after} ${d.backlog} (drained in ${d.ms} ms)`).join(', ')}; ` +
      `${commitsDuringLoad} execution commits during the noop4 HTTP loads incl. warm-up (${round(commitsDuringLoad / (starts.elapsedSec + opts.rounds * opts.warmupSec), 0)}/s).`,
    ];
    return { bench: 'http', rows, details: { options: opts, body, baseline, parked: parkedStarts, parkedInProcess: parkedLocal, starts, inProcess: local, drains, total, commitsDuringLoad }, notes };
  } finally {
    removeDir(dir);
  }
}
