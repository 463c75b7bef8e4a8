/**
 * `npm run bench`: runs every benchmark, each in its own child process, prints a table of
 * figure | baseline | ratio | target | pass, and writes bench/results/latest.json and the
 * generated part of docs/performance.md.
 *
 *   node dist/bench/run.js                        all benchmarks (a few minutes)
 *   node dist/bench/run.js --only step,throughput  a subset (writes bench/results/subset.json.tmp,
 *                                                  leaves latest.json and the doc alone)
 *   node dist/bench/run.js --quick                 shorter runs, 10k parked (smoke test; not written)
 *   node dist/bench/run.js --profile               also writes a V8 CPU profile per benchmark
 *                                                  under data/bench/profiles/
 *
 * Benchmarks: step (1), throughput (2), pg (PostgreSQL throughput), http (3), scale (4), history (5), cluster,
 * schedule (7), burst (timer bursts), coldstart (8). See docs/performance.md.
 */
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem, tmpdir } from 'node:os';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { markdown, targetsSummary, textTable, writeDoc, writeJson, type Machine, type RunReport } from './report.js';
import { filesystemOf, type BenchResult } from './util.js';

const ALL = ['step', 'throughput', 'pg', 'http', 'scale', 'history', 'cluster', 'schedule', 'burst', 'coldstart'] as const;
type Bench = (typeof ALL)[number];

const REPO = resolve(new URL('../..', import.meta.url).pathname);

const QUICK: Record<Bench, unknown> = {
  step: { rounds: 2, sliceMs: 500, rawSliceMs: 250, warmupMs: 200 },
  throughput: { rounds: 2, sliceMs: 400, rawSliceMs: 150, warmupMs: 200 },
  pg: { rounds: 1, sliceMs: 500, rawSliceMs: 200, warmupMs: 200 },
  http: { durationSec: 2, warmupSec: 1, rounds: 1 },
  scale: { parked: 10_000, timers: 2_000 },
  history: { reads: 5 },
  cluster: { executions: 150, processes: [1, 2], handlerBound: { executions: 60, stepDelayMs: 50, concurrency: 16 }, pickupSamples: { listen: 5, poll: 3 } },
  schedule: { slots: 5 },
  burst: { timers: 2_000, parked: 0, bursts: 1, sliceMs: 500, warmupMs: 200 },
  coldstart: { runs: 3 },
};

function parseArgs(argv: string[]): { only: Bench[]; quick: boolean; profile: boolean } {
  let only: Bench[] = [...ALL];
  let quick = false;
  let profile = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only' || a.startsWith('--only=')) {
      const list = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i] ?? '';
      only = list.split(',').map((s) => s.trim()).filter(Boolean) as Bench[];
      const bad = only.filter((b) => !ALL.includes(b));
      if (bad.length) throw new Error(`unknown benchmark(s): ${bad.join(', ')}; choose from ${ALL.join(', ')}`);
    } else if (a === '--quick') quick = true;
    else if (a === '--profile') profile = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node dist/bench/run.js [--only step,throughput,pg,http,scale,history,cluster,schedule,burst,coldstart] [--quick] [--profile]');
      process.exit(0);
    } else throw new Error(`unknown argument '${a}'`);
  }
  return { only, quick, profile };
}

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(resolve(REPO, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function machine(): Machine {
  const db = new Database(':memory:');
  const sqlite = db.prepare('SELECT sqlite_version()').pluck().get() as string;
  db.close();
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: totalmem() / 1024 ** 3,
    node: process.version,
    platform: `${platform()} ${release()}`,
    packages: Object.fromEntries(['xstate', 'better-sqlite3', 'fastify', 'autocannon'].map((p) => [p, version(p)])),
    sqlite,
    filesystem: filesystemOf(tmpdir()),
    loadavgStart: loadavg(),
    date: new Date().toISOString(),
  };
}

function runChild(bench: Bench, options: unknown, profile: boolean): Promise<BenchResult> {
  const execArgv = ['--expose-gc'];
  if (profile) {
    const dir = resolve(REPO, 'data', 'bench', 'profiles');
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${bench}-${Date.now()}.cpuprofile`);
  }
  const args = [bench, ...(options !== undefined ? [JSON.stringify(options)] : [])];
  return new Promise((resolveRun, reject) => {
    const child = fork(new URL('./child.js', import.meta.url).pathname, args, { execArgv, stdio: 'inherit' });
    let message: { ok: boolean; result?: BenchResult; error?: string } | undefined;
    child.on('message', (m) => { message = m as typeof message; });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (message?.ok && message.result) resolveRun(message.result);
      else reject(new Error(message?.error ?? `benchmark '${bench}' exited with code ${code}`));
    });
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const full = args.only.length === ALL.length && !args.quick;
  const m = machine();
  console.log(`Stepwise benchmarks: ${args.only.join(', ')}${args.quick ? ' (quick)' : ''}`);
  console.log(`${m.cpu}, ${m.cores} cores, ${m.memoryGiB.toFixed(1)} GiB, Node ${m.node}, SQLite ${m.sqlite}; files on ${m.filesystem}; load ${m.loadavgStart.map((x) => x.toFixed(2)).join(' ')}`);
  const t0 = Date.now();
  const results: BenchResult[] = [];
  const failures: RunReport['failures'] = [];
  for (const bench of args.only) {
    const tb = Date.now();
    process.stdout.write(`\n== ${bench} ...\n`);
    try {
      const result = await runChild(bench, args.quick ? QUICK[bench] : undefined, args.profile);
      if (bench === 'scale') {
        // How much of the RSS growth is SQLite's page cache: the parked phase again, cache capped at 2 MiB.
        const capped = await runChild('scale', { ...(args.quick ? (QUICK.scale as object) : {}), sqliteCacheKiB: 2048, parkedOnly: true }, false);
        const at = result.rows.findIndex((r) => r.key === 'scale.rssGrowthMB');
        result.rows.splice(at + 1, 0, ...capped.rows);
        result.details.smallCache = capped.details;
      }
      results.push(result);
      console.log(textTable([result]));
      console.log(`(${((Date.now() - tb) / 1000).toFixed(1)} s)`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ bench, error: message });
      console.error(`${bench} FAILED: ${message}`);
    }
  }
  m.loadavgEnd = loadavg();
  const durationSec = (Date.now() - t0) / 1000;
  const table = textTable(results);
  const { passed, missed } = targetsSummary(results);
  const summary = `Targets: ${passed.length} pass, ${missed.length} miss${missed.length ? `: ${missed.map((r) => r.key).join(', ')}` : ''}.`;
  console.log(`\n== all results (${durationSec.toFixed(0)} s)\n${table}\n\n${summary}`);
  for (const f of failures) console.log(`FAILED: ${f.bench}: ${f.error.split('\n')[0]}`);

  const command = `node dist/bench/run.js${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
  const report: RunReport = { machine: m, command, durationSec, benches: args.only, results, failures };
  if (full) {
    writeJson(resolve(REPO, 'bench', 'results', 'latest.json'), report);
    writeDoc(resolve(REPO, 'docs', 'performance.md'), markdown(report, `${table}\n\n${summary}`));
    console.log('\nWrote bench/results/latest.json and docs/performance.md.');
  } else {
    writeJson(resolve(REPO, 'bench', 'results', 'subset.json.tmp'), report);
    console.log('\nPartial or quick run: wrote bench/results/subset.json.tmp (latest.json and docs/performance.md are written by full runs only).');
  }
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
