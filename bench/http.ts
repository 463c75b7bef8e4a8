/**
 * 3. HTTP: starts per second and p50/p99 latency over 10 connections (autocannon in a separate
 * process), POST /v1/workflows/noop4/executions on the real API (buildServer, real Engine,
 * SqliteStore at the default synchronous=FULL), next to a fastify hello-world POST route served
 * by this same process with the same request body. The started executions keep running in the
 * background while the load continues, as they would in production.
 */
import { fork } from 'node:child_process';
import { buildServer } from '../src/api/server.js';
import { helloWorldServer } from './baseline.js';
import { openRig } from './harness.js';
import type { LoadResult } from './load.js';
import { benchDir, removeDir, round, sleep, summarize, type BenchResult, type Row } from './util.js';
import { noop4 } from './workflows.js';

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

export async function run(given: Partial<HttpOptions> = {}): Promise<BenchResult> {
  const opts = { ...DEFAULTS, ...given };
  const dir = benchDir('http');
  const body = JSON.stringify({ input: { n: 1 } });
  try {
    const rig = await openRig(dir, 'full', [noop4]);
    const app = buildServer({ engine: rig.engine, logger: false, startRateLimit: { max: 1_000_000_000, timeWindowMs: 60_000 } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const hello = await helloWorldServer();

    const helloRuns: LoadResult[] = [];
    const startRuns: LoadResult[] = [];
    let commitsDuringLoad = 0;
    for (let i = 0; i < opts.rounds; i++) {
      helloRuns.push(await load(hello.url, body, opts));
      const before = rig.probe.commits;
      startRuns.push(await load(`http://127.0.0.1:${port}/v1/workflows/noop4/executions`, body, opts));
      commitsDuringLoad += rig.probe.commits - before;
    }
    await hello.app.close();
    const baseline = merge(helloRuns);
    const starts = merge(startRuns);
    // Let the started executions finish (bounded), to report whether the engine kept up.
    const db = rig.store.connection;
    const running = () => db.prepare("SELECT count(*) FROM executions WHERE status = 'RUNNING'").pluck().get() as number;
    const backlogAtEnd = running();
    const t0 = Date.now();
    while (running() > 0 && Date.now() - t0 < 20_000) await sleep(100);
    const drainMs = Date.now() - t0;
    const total = db.prepare('SELECT count(*) FROM executions').pluck().get() as number;
    await app.close();
    await rig.close();

    const ratio = starts.reqPerSec / baseline.reqPerSec;
    const rows: Row[] = [
      {
        key: 'http.startsPerSec', bench: 'http', label: `HTTP starts/s, ${opts.connections} connections (FULL)`,
        value: round(starts.reqPerSec, 0), unit: 'req/s', baseline: round(baseline.reqPerSec, 0), baselineLabel: 'fastify hello-world POST req/s',
        ratio: round(ratio, 3), target: '≥ 0.25× hello', pass: ratio >= 0.25,
        note: `${starts.requests} starts in ${round(starts.elapsedSec, 1)} s; rounds ${starts.rounds.map((r) => round(r, 0)).join(', ')} vs hello ${baseline.rounds.map((r) => round(r, 0)).join(', ')} req/s; ${starts.non2xx} non-2xx, ${starts.errors} errors`,
      },
      {
        key: 'http.p50', bench: 'http', label: 'HTTP start p50 latency', value: round(starts.latencyMs.p50, 3), unit: 'ms',
        baseline: round(baseline.latencyMs.p50, 3), baselineLabel: 'hello-world p50', ratio: round(starts.latencyMs.p50 / baseline.latencyMs.p50, 2),
      },
      {
        key: 'http.p99', bench: 'http', label: 'HTTP start p99 latency', value: round(starts.latencyMs.p99, 3), unit: 'ms',
        baseline: round(baseline.latencyMs.p99, 3), baselineLabel: 'hello-world p99', ratio: round(starts.latencyMs.p99 / baseline.latencyMs.p99, 2),
        target: '< 5 ms', pass: starts.latencyMs.p99 < 5,
      },
    ];
    const notes = [
      `HTTP: ${total} executions started in all; ${backlogAtEnd} were still running when the load stopped (drained in ${drainMs} ms); ` +
      `${commitsDuringLoad} execution commits during the start loads incl. warm-up (${round(commitsDuringLoad / (starts.elapsedSec + opts.rounds * opts.warmupSec), 0)}/s).`,
    ];
    return { bench: 'http', rows, details: { options: opts, body, baseline, starts, backlogAtEnd, drainMs, total, commitsDuringLoad }, notes };
  } finally {
    removeDir(dir);
  }
}
