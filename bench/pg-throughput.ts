/**
 * PostgreSQL throughput: the 4-step no-op workflow on a PostgresStore, 1, 32 and 100 executions in
 * flight (closed loop, each ended as a user sees it: engine.waitForEnd), default engine settings,
 * one process. The baseline is raw single-client PostgreSQL transactions/s against the same server
 * (bench/pg-baseline.ts), in slices interleaved with the engine's. The engine's rate is put on the
 * same scale as steps/s = executions/s × commits per execution (counted), so the ratio says how
 * many durable step-commits the engine sustains per transaction one client gets alone.
 *
 *   node dist/bench/child.js pg '{"inFlight":[1,32,100]}'
 *
 * PostgreSQL: STEPWISE_BENCH_PG, else STEPWISE_TEST_PG, else postgres://postgres@127.0.0.1:5432/test.
 * Each measurement uses a fresh schema (dropped after).
 */
import pg from 'pg';
import { Engine } from '../src/index.js';
import type { Store } from '../src/core/store.js';
import { PostgresStore } from '../src/persistence/postgres/postgres-store.js';
import { closedLoop, mergeLoops, withoutSamples } from './harness.js';
import { interleavedPg, RawPg } from './pg-baseline.js';
import { probeCommits, round, type BenchResult, type Row } from './util.js';
import { noop4 } from './workflows.js';

export interface PgThroughputOptions {
  pgUrl: string;
  inFlight: number[];
  /** Each measurement is `rounds` slices of `sliceMs`, interleaved with raw slices of `rawSliceMs`. */
  rounds: number; sliceMs: number; rawSliceMs: number; warmupMs: number;
  poolSize: number;
}

const DEFAULTS: PgThroughputOptions = {
  pgUrl: process.env.STEPWISE_BENCH_PG ?? process.env.STEPWISE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test',
  inFlight: [1, 32, 100], rounds: 3, sliceMs: 1500, rawSliceMs: 500, warmupMs: 500, poolSize: 10,
};

const schemaName = (tag: string) => `sw_bench_${tag}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Counts calls of the store's read and claim methods (on the instance), to show where round trips go. */
function countCalls(store: Store, names: Array<keyof Store>): { counts: Record<string, number>; reset(): void } {
  const counts: Record<string, number> = {};
  for (const name of names) {
    if (typeof store[name] !== 'function') continue;
    const original = (store[name] as (...a: unknown[]) => unknown).bind(store);
    counts[name] = 0;
    (store as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
      counts[name]++;
      return original(...a);
    };
  }
  return { counts, reset: () => Object.keys(counts).forEach((n) => (counts[n] = 0)) };
}

export async function run(given: Partial<PgThroughputOptions> = {}): Promise<BenchResult> {
  const opts = { ...DEFAULTS, ...given };
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const notes: string[] = [];
  const rawSchema = schemaName('raw');
  const raw = await RawPg.open(opts.pgUrl, rawSchema);
  try {
    for (const k of opts.inFlight) {
      const schema = schemaName(`pg${k}`);
      const store = await PostgresStore.open(opts.pgUrl, { schema, poolSize: opts.poolSize });
      const probe = probeCommits(store);
      const calls = countCalls(store, ['getExecution', 'getExecutions', 'claimWork', 'nextDueAt', 'renewLeases']);
      const engine = new Engine({ store }).register(noop4);
      await engine.start();
      let measured;
      try {
        measured = await interleavedPg(raw, opts.rounds, opts.rawSliceMs, async (r) => {
          calls.reset();
          const loop = await closedLoop({ engine, probe }, noop4, (i) => ({ i }), k, opts.sliceMs, r === 0 ? opts.warmupMs : 100, { useWaitForEnd: true });
          // per execution measured (the short warm-up before each slice is included: an over-estimate)
          const perExecution = Object.fromEntries(Object.entries(calls.counts).map(([name, n]) => [name, round(n / Math.max(1, loop.executions), 2)]));
          return { loop, perExecution };
        });
      } finally {
        await engine.stop({ graceMs: 2000 });
        await store.close();
        await dropSchema(opts.pgUrl, schema);
      }
      const loop = mergeLoops(measured.values.map((v) => v.loop));
      const rawTx = measured.raw.txPerSec;
      const stepsPerSec = loop.execPerSec * loop.commitsPerExecution;
      const ratio = stepsPerSec / rawTx;
      details[`pg.noop4.${k}`] = { ...withoutSamples(loop), stepsPerSec, raw: measured.raw, storeCallsPerExecution: measured.values.map((v) => v.perExecution) };
      const tag = `PostgreSQL, noop4, ${k} in flight`;
      rows.push({
        key: `pg.noop4.${k}.execPerSec`, bench: 'pg', label: `${tag}: executions/s (ended via waitForEnd)`,
        value: round(loop.execPerSec, 1), unit: 'exec/s',
        note: `${round(loop.commitsPerExecution, 2)} commits/exec, ${round(loop.executionsPerTransaction, 1)} exec-commits/batch`,
      });
      rows.push({
        key: `pg.noop4.${k}.stepsPerSec`, bench: 'pg', label: `${tag}: steps/s (= exec/s × commits/exec)`,
        value: round(stepsPerSec, 0), unit: 'steps/s', baseline: round(rawTx, 0), baselineLabel: 'raw 1-client PG tx/s',
        ratio: round(ratio, 3), note: `raw slices ${round(measured.raw.min, 0)}–${round(measured.raw.max, 0)} tx/s`,
        ...(k >= 100 ? { target: '≥ 3× raw', pass: ratio >= 3 } : {}),
      });
      rows.push({
        key: `pg.noop4.${k}.p50`, bench: 'pg', label: `${tag}: p50 start→end`, value: round(loop.latencyMs.p50, 2), unit: 'ms',
        ...(k === 32 ? { target: '< 25 ms', pass: loop.latencyMs.p50 < 25 } : {}),
      });
      rows.push({ key: `pg.noop4.${k}.p99`, bench: 'pg', label: `${tag}: p99 start→end`, value: round(loop.latencyMs.p99, 2), unit: 'ms' });
    }
    notes.push('PostgreSQL: raw = one client, BEGIN; INSERT; UPDATE; COMMIT (4 round trips), same server, interleaved with the engine.');
  } finally {
    await raw.close();
    await dropSchema(opts.pgUrl, rawSchema);
  }
  return { bench: 'pg', rows, details, notes };
}
