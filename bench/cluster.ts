/**
 * Cluster benchmark: checkout executions per second on PostgreSQL with 1, 2 and 3 worker
 * processes sharing one schema, next to SQLite with one process, measured in the same run; and
 * how fast an idle worker picks up an execution started by another process, with LISTEN/NOTIFY
 * and with polling alone.
 *
 *   node dist/bench/cluster.js [--executions 600] [--handler-executions 300] [--processes 1,2,3] [--repeats 1] [--json]
 *
 * PostgreSQL: STEPWISE_BENCH_PG, else STEPWISE_TEST_PG, else postgres://postgres@127.0.0.1:5432/test.
 * Each PostgreSQL run uses a fresh schema (dropped after). Executions are started by this process
 * through an engine that runs no work (concurrency 0, never started): every first step is
 * committed unleased and NOTIFYed, and the workers claim it. SQLite cannot be shared, so its one
 * process starts its executions itself (and leases their first steps inline). Rate = executions /
 * (last ended_at − first started_at), from the database. Two series: handlers that do no work
 * (the engine and the database are the limit), and handlers that wait 50 ms with 16 at once per
 * process (handler capacity is the limit, as when handlers call slow APIs).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Engine } from '../src/index.js';
import { PostgresStore } from '../src/persistence/postgres/postgres-store.js';
import { checkout, shipping } from '../examples/checkout/workflow.js';
import { ClusterWorker, checkoutInput, sleep } from '../test/fixtures/cluster-harness.js';

export interface ClusterBenchOptions {
  pgUrl: string;
  /** Executions per throughput run. */
  executions: number;
  /** Worker-process counts to measure on PostgreSQL. */
  processes: number[];
  /** Runs per configuration; the best is reported (all are in details). */
  repeats: number;
  /** Engine concurrency per worker process. */
  concurrency: number;
  /**
   * A second series where handlers, not the engine, are the limit: each handler waits
   * `stepDelayMs` (an API call) and each process runs at most `concurrency` at once, so a process
   * tops out near concurrency / stepDelayMs steps/s and more processes add capacity. `executions: 0` skips it.
   */
  handlerBound: { executions: number; stepDelayMs: number; concurrency: number };
  /** Pickup-latency samples with LISTEN/NOTIFY, and with polling only. */
  pickupSamples: { listen: number; poll: number };
  /** The poll-only worker's pollIntervalMs (the default). */
  pollIntervalMs: number;
  log: (line: string) => void;
}

export interface ClusterBenchRow {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  note?: string;
}

export interface ClusterBenchResult {
  rows: ClusterBenchRow[];
  details: Record<string, unknown>;
}

const DEFAULTS: ClusterBenchOptions = {
  pgUrl: process.env.STEPWISE_BENCH_PG ?? process.env.STEPWISE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test',
  executions: 600,
  processes: [1, 2, 3],
  repeats: 1,
  concurrency: 128,
  handlerBound: { executions: 300, stepDelayMs: 50, concurrency: 16 },
  pickupSamples: { listen: 30, poll: 12 },
  pollIntervalMs: 1000,
  log: () => undefined,
};

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const schemaName = (tag: string) => `sw_bench_${tag}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

function percentiles(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { n: s.length, min: s[0], p50: at(0.5), p90: at(0.9), max: s[s.length - 1], mean: round(s.reduce((a, b) => a + b, 0) / s.length, 1) };
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** CPU time (ms) the given processes have used so far, from /proc (Linux); 0 elsewhere. */
function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // gone, or not Linux
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** The PostgreSQL server's processes on this host (it is local in this benchmark). */
function postgresPids(): number[] {
  try {
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

interface PgRun {
  processes: number;
  executions: number;
  ms: number;
  perSec: number;
  statuses: Record<string, number>;
  /** Step starts per worker. */
  split: Record<string, number>;
  /** CPU used during the run, in % of one core: the workers together, the PostgreSQL server, this (starting) process. */
  cpu: { workers: number; postgres: number; starter: number; cores: number };
  /** From the workers' counted stores: commit batches, execution-commits per batch, rows claimed, executions loaded. */
  store: { commitBatches: number; commitsPerBatch: number; msPerBatch: number; claimedRows: number; loads: number; notified: number };
}

/** What one throughput series runs: how many checkouts, with what handler delay, at what concurrency per process. */
interface Scenario { executions: number; concurrency: number; simulate: Record<string, unknown> }

/** One throughput run: `n` worker processes, `executions` checkouts, fresh schema. */
async function pgThroughput(opts: ClusterBenchOptions, sc: Scenario, n: number): Promise<PgRun> {
  const schema = schemaName(`p${n}`);
  const store = await PostgresStore.open(opts.pgUrl, { schema, poolSize: 4 });
  const starter = new Engine({ store, concurrency: 0, workerId: 'starter' }).register(checkout, shipping);
  const workers = Array.from({ length: n }, (_, i) => new ClusterWorker({
    workerId: `w${i}`, db: opts.pgUrl, schema, concurrency: sc.concurrency, env: { STEPWISE_STORE_STATS: '1' },
  }));
  const S = `"${schema}"`;
  try {
    await Promise.all(workers.map((w) => w.ready()));
    const workerPids = workers.map((w) => w.child.pid!).filter(Boolean);
    const pgPids = postgresPids();
    const cpu0 = { w: cpuMs(workerPids), pg: cpuMs(pgPids), self: process.cpuUsage(), at: Date.now() };
    await Promise.all(Array.from({ length: sc.executions }, (_, i) => starter.startExecution('checkout', checkoutInput(`b${i}`, sc.simulate), { id: `b-${i}` })));
    const deadline = Date.now() + 120_000;
    for (;;) {
      // A checkout (one order per customer) is QUEUED until its start row is claimed: not ended either.
      const { rows } = await store.connection.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${S}.executions WHERE status IN ('RUNNING', 'QUEUED')`);
      if (rows[0].n === 0) break;
      if (Date.now() > deadline) throw new Error(`${rows[0].n} executions still running after 120 s`);
      if (workers.some((w) => !w.alive)) throw new Error(`a worker died: ${workers.map((w) => w.stderr).join('\n')}`);
      await sleep(25);
    }
    const wall = Date.now() - cpu0.at;
    const self = process.cpuUsage(cpu0.self);
    const cpu = {
      workers: Math.round(((cpuMs(workerPids) - cpu0.w) / wall) * 100),
      postgres: Math.round(((cpuMs(postgresPids()) - cpu0.pg) / wall) * 100),
      starter: Math.round(((self.user + self.system) / 1000 / wall) * 100),
      cores: cpus().length,
    };
    const q = async <R extends pg.QueryResultRow>(text: string) => (await store.connection.query<R>(text)).rows;
    const [span] = await q<{ first: number; last: number }>(`SELECT min(started_at) AS first, max(ended_at) AS last FROM ${S}.executions WHERE workflow = 'checkout'`);
    const statuses = Object.fromEntries((await q<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM ${S}.executions GROUP BY 1`)).map((r) => [r.status, r.n]));
    const split = Object.fromEntries((await q<{ w: string; n: number }>(`SELECT data::json->>'worker' AS w, count(*)::int AS n FROM ${S}.history WHERE type = 'StepStarted' GROUP BY 1 ORDER BY 1`)).map((r) => [r.w, r.n]));
    const ms = span.last - span.first;
    await Promise.all(workers.map((w) => w.stop(5000)));
    const counted = workers.map((w) => {
      const line = w.lines.find((l) => l.startsWith('STATS '));
      return (line ? JSON.parse(line.slice(6)) : {}) as Record<string, { calls: number; ms: number; items: number } | undefined>;
    });
    const sum = (name: string, field: 'calls' | 'ms' | 'items') => counted.reduce((a, c) => a + (c[name]?.[field] ?? 0), 0);
    const storeStats = {
      commitBatches: sum('commit', 'calls'),
      commitsPerBatch: round(sum('commit', 'items') / Math.max(1, sum('commit', 'calls'))),
      msPerBatch: round(sum('commit', 'ms') / Math.max(1, sum('commit', 'calls'))),
      claimedRows: sum('claimWork', 'items'),
      loads: sum('getExecution', 'calls') + sum('getStepStates', 'items'),
      notified: sum('notified', 'calls'),
    };
    return { processes: n, executions: sc.executions, ms, perSec: (sc.executions / ms) * 1000, statuses, split, cpu, store: storeStats };
  } finally {
    await Promise.all(workers.map((w) => w.stop(5000)));
    await store.close();
    await dropSchema(opts.pgUrl, schema);
  }
}

/** SQLite: one process owns the file, starts its executions and runs them. */
async function sqliteThroughput(sc: Scenario): Promise<{ ms: number; perSec: number; statuses: Record<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-bench-cluster-'));
  try {
    const w = new ClusterWorker({
      workerId: 'sqlite', db: join(dir, 'bench.db'), concurrency: sc.concurrency,
      env: { STEPWISE_SELF_START: String(sc.executions), STEPWISE_SELF_INPUT: JSON.stringify(checkoutInput('s', sc.simulate)) },
    });
    const line = await w.waitForLine((l) => l.startsWith('RESULT '), 120_000);
    await w.exited;
    const r = JSON.parse(line.slice('RESULT '.length)) as { executions: number; firstStart: number; lastEnd: number; statuses: Record<string, number> };
    const ms = r.lastEnd - r.firstStart;
    return { ms, perSec: (r.executions / ms) * 1000, statuses: r.statuses };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Pickup latency: one idle worker; this process starts one execution at a time at a random point
 * of the worker's poll cycle; latency = the worker's first StepStarted − ExecutionStarted.
 */
async function pickup(opts: ClusterBenchOptions, listen: boolean, samples: number): Promise<number[]> {
  const schema = schemaName(listen ? 'listen' : 'poll');
  const store = await PostgresStore.open(opts.pgUrl, { schema, poolSize: 2 });
  const starter = new Engine({ store, concurrency: 0, workerId: 'starter' }).register(checkout, shipping);
  const worker = new ClusterWorker({ workerId: 'w0', db: opts.pgUrl, schema, noListen: !listen, pollIntervalMs: opts.pollIntervalMs });
  const out: number[] = [];
  try {
    await worker.ready();
    for (let i = 0; i < samples; i++) {
      await sleep(20 + Math.random() * (listen ? 200 : opts.pollIntervalMs));
      const id = `p-${i}`;
      await starter.startExecution('checkout', checkoutInput(id), { id });
      for (let t = 0; ; t++) {
        const { rows } = await store.connection.query<{ ts: number }>(
          `SELECT ts FROM "${schema}".history WHERE execution_id = $1 AND type IN ('ExecutionStarted', 'StepStarted') ORDER BY seq LIMIT 2`, [id]);
        if (rows.length === 2) {
          out.push(rows[1].ts - rows[0].ts);
          break;
        }
        if (t > 1000) throw new Error(`execution ${id} was not picked up`);
        await sleep(listen ? 2 : 10);
      }
      // let it finish, so the next sample starts from an idle worker
      for (let t = 0; t < 500; t++) {
        const e = await store.getExecution(id);
        if (e && e.status !== 'RUNNING' && e.status !== 'QUEUED') break;
        await sleep(5);
      }
    }
    return out;
  } finally {
    await worker.stop(5000);
    await store.close();
    await dropSchema(opts.pgUrl, schema);
  }
}

export async function runClusterBench(given: Partial<ClusterBenchOptions> = {}): Promise<ClusterBenchResult> {
  const opts: ClusterBenchOptions = {
    ...DEFAULTS, ...given,
    pickupSamples: { ...DEFAULTS.pickupSamples, ...given.pickupSamples },
    handlerBound: { ...DEFAULTS.handlerBound, ...given.handlerBound },
  };
  const rows: ClusterBenchRow[] = [];
  const details: Record<string, unknown> = { options: { ...opts, log: undefined }, cpus: cpus().length, cpuModel: cpus()[0]?.model };

  const series: Array<{ tag: string; label: string; sc: Scenario }> = [
    { tag: 'engine', label: 'no handler delay', sc: { executions: opts.executions, concurrency: opts.concurrency, simulate: {} } },
  ];
  const hb = opts.handlerBound;
  if (hb.executions > 0) {
    series.push({
      tag: 'handlers', label: `${hb.stepDelayMs} ms handlers, concurrency ${hb.concurrency}`,
      sc: { executions: hb.executions, concurrency: hb.concurrency, simulate: { stepDelayMs: hb.stepDelayMs } },
    });
  }
  for (const { tag, label, sc } of series) {
    opts.log(`[${label}] sqlite, 1 process, ${sc.executions} checkouts…`);
    const sqliteRuns = [];
    for (let r = 0; r < opts.repeats; r++) sqliteRuns.push(await sqliteThroughput(sc));
    const sqlite = sqliteRuns.reduce((a, b) => (b.perSec > a.perSec ? b : a));
    details[`${tag}.sqlite`] = sqliteRuns;
    rows.push({ name: `[${label}] SQLite, 1 process: checkout executions/s`, value: round(sqlite.perSec), unit: 'exec/s', note: `${sc.executions} in ${sqlite.ms} ms` });

    const pgBest = new Map<number, PgRun>();
    for (const n of opts.processes) {
      const runs: PgRun[] = [];
      for (let r = 0; r < opts.repeats; r++) {
        opts.log(`[${label}] postgres, ${n} process${n > 1 ? 'es' : ''}, ${sc.executions} checkouts…`);
        runs.push(await pgThroughput(opts, sc, n));
      }
      const best = runs.reduce((a, b) => (b.perSec > a.perSec ? b : a));
      pgBest.set(n, best);
      details[`${tag}.postgres.${n}`] = runs;
      rows.push({
        name: `[${label}] PostgreSQL, ${n} process${n > 1 ? 'es' : ''}: checkout executions/s`, value: round(best.perSec), unit: 'exec/s',
        baseline: round(sqlite.perSec), ratio: round(best.perSec / sqlite.perSec, 2),
        note: `${sc.executions} in ${best.ms} ms; step starts per worker ${JSON.stringify(best.split)}; CPU % of one core: workers ${best.cpu.workers}, postgres ${best.cpu.postgres}, starter ${best.cpu.starter} (of ${best.cpu.cores * 100})`,
      });
    }
    const one = pgBest.get(1);
    for (const [n, run] of pgBest) {
      if (n === 1 || !one) continue;
      rows.push({ name: `[${label}] PostgreSQL scaling, ${n} processes vs 1`, value: round(run.perSec / one.perSec, 2), unit: '×', baseline: 1, ratio: round(run.perSec / one.perSec, 2) });
    }
  }

  if (opts.pickupSamples.listen > 0) {
    opts.log(`pickup latency with LISTEN/NOTIFY (${opts.pickupSamples.listen} samples)…`);
    const p = percentiles(await pickup(opts, true, opts.pickupSamples.listen));
    details.pickupListen = p;
    rows.push({ name: 'pickup of a new execution by an idle worker, LISTEN/NOTIFY: p50', value: p.p50, unit: 'ms', note: `p90 ${p.p90}, max ${p.max} ms` });
  }
  if (opts.pickupSamples.poll > 0) {
    opts.log(`pickup latency, polling only every ${opts.pollIntervalMs} ms (${opts.pickupSamples.poll} samples)…`);
    const p = percentiles(await pickup(opts, false, opts.pickupSamples.poll));
    details.pickupPoll = p;
    rows.push({ name: `pickup of a new execution by an idle worker, poll only (${opts.pollIntervalMs} ms): p50`, value: p.p50, unit: 'ms', note: `mean ${p.mean}, p90 ${p.p90}, max ${p.max} ms` });
  }
  return { rows, details };
}

export function formatTable(rows: ClusterBenchRow[]): string {
  const head = ['benchmark', 'value', 'unit', 'baseline', 'ratio', 'note'];
  const body = rows.map((r) => [r.name, String(r.value), r.unit, r.baseline === undefined ? '' : String(r.baseline), r.ratio === undefined ? '' : `${r.ratio}×`, r.note ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      executions: { type: 'string' },
      'handler-executions': { type: 'string' },
      processes: { type: 'string' },
      repeats: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const result = await runClusterBench({
    ...(values.executions ? { executions: Number(values.executions) } : {}),
    ...(values.processes ? { processes: values.processes.split(',').map(Number) } : {}),
    ...(values.repeats ? { repeats: Number(values.repeats) } : {}),
    ...(values['handler-executions'] ? { handlerBound: { ...DEFAULTS.handlerBound, executions: Number(values['handler-executions']) } } : {}),
    log: (l) => process.stderr.write(`${l}\n`),
  });
  console.log(values.json ? JSON.stringify(result, null, 2) : formatTable(result.rows));
  if (!values.json) console.log(`\n(${cpus().length} CPUs, PostgreSQL and all processes on this host; SQLite synchronous=FULL)`);
}
