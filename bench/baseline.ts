/**
 * The baselines every ratio divides by, measured in the same run, on the same disk, with the
 * same settings as the engine's store:
 *  - raw single-write SQLite transactions per second: better-sqlite3, WAL, the same
 *    `synchronous`, cache and temp-store pragmas as SqliteStore, one INSERT of a small
 *    history-shaped row per transaction (autocommit, prepared statement, a tight loop);
 *  - a fastify hello-world POST route (HTTP baseline), served by the benchmark's own process.
 */
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { now, type Sync } from './util.js';

export interface RawTxResult {
  synchronous: Sync;
  txPerSec: number;
  transactions: number;
  elapsedMs: number;
  /** Mean commit time, microseconds. */
  meanUs: number;
}

/**
 * Commits one small row per transaction for `durationMs` into a fresh file in `dir`.
 * The row looks like a StepSucceeded event: (execution_id, seq, type, ts, step, attempt, data).
 */
export function rawSingleWriteTx(dir: string, synchronous: Sync, durationMs: number): RawTxResult {
  const path = join(dir, `baseline-${synchronous}-${process.pid}-${fileCounter++}.db`);
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('cache_size = -65536');
    db.pragma('temp_store = MEMORY');
    db.exec(`CREATE TABLE history (
      execution_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, ts INTEGER NOT NULL,
      step TEXT, attempt INTEGER, data TEXT, PRIMARY KEY (execution_id, seq)) WITHOUT ROWID`);
    const insert = db.prepare('INSERT INTO history (execution_id, seq, type, ts, step, attempt, data) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const data = JSON.stringify({ key: 'step-3', output: { ok: true, n: 3 } });
    const exec = 'exec-0001-baseline';
    // Warm up: the first commits create the WAL and pages.
    let seq = 0;
    for (let i = 0; i < 50; i++) insert.run(exec, ++seq, 'StepSucceeded', Date.now(), 'step-3', 1, data);
    const t0 = now();
    const end = t0 + durationMs;
    let n = 0;
    let t = t0;
    while (t < end) {
      insert.run(exec, ++seq, 'StepSucceeded', Date.now(), 'step-3', 1, data);
      n++;
      if ((n & 7) === 0) t = now();
    }
    t = now();
    const elapsedMs = t - t0;
    return { synchronous, txPerSec: (n / elapsedMs) * 1000, transactions: n, elapsedMs, meanUs: (elapsedMs * 1000) / n };
  } finally {
    db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  }
}
let fileCounter = 0;

export interface InterleavedRaw extends RawTxResult {
  /** tx/s of each raw slice, in order: a wide spread means the disk changed speed during the run. */
  slices: number[];
  min: number;
  max: number;
}

/**
 * Alternates raw-baseline slices with slices of the measurement (R M R M … M R), so both see the
 * same disk over the same minutes: on a shared VM the fsync rate drifts by 2-5× within a minute,
 * and a baseline taken once, before, would make the ratio mostly noise. The raw figure is
 * transactions / time over all raw slices.
 */
export async function interleaved<T>(
  dir: string, synchronous: Sync, rounds: number, rawSliceMs: number, slice: (round: number) => Promise<T>,
): Promise<{ raw: InterleavedRaw; values: T[] }> {
  const raws: RawTxResult[] = [rawSingleWriteTx(dir, synchronous, rawSliceMs)];
  const values: T[] = [];
  for (let i = 0; i < rounds; i++) {
    values.push(await slice(i));
    raws.push(rawSingleWriteTx(dir, synchronous, rawSliceMs));
  }
  const transactions = raws.reduce((n, r) => n + r.transactions, 0);
  const elapsedMs = raws.reduce((n, r) => n + r.elapsedMs, 0);
  const slices = raws.map((r) => r.txPerSec);
  return {
    raw: {
      synchronous, transactions, elapsedMs, txPerSec: (transactions / elapsedMs) * 1000, meanUs: (elapsedMs * 1000) / transactions,
      slices, min: Math.min(...slices), max: Math.max(...slices),
    },
    values,
  };
}

/** The HTTP baseline: fastify with one POST route that parses the JSON body and answers a small JSON. */
export async function helloWorldServer(): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false });
  app.post('/hello', async (request) => {
    const body = request.body as { input?: unknown } | undefined;
    return { hello: 'world', got: body?.input !== undefined };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, url: `http://127.0.0.1:${port}/hello` };
}
