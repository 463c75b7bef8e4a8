/**
 * The WAL's size under sustained writes: starts of a parked workflow, `inFlight` at a time, for
 * `secs` seconds on SQLite at FULL, the `-wal` file's size sampled each second, then how long
 * close() takes (its TRUNCATE checkpoint). A WAL that never restarts grows here by tens of MB a
 * second. Run: `node dist/bench/wal-growth.js [secs] [inFlight]`.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Engine, SqliteStore } from '../src/index.js';
import { benchDir, removeDir } from './util.js';
import { parked } from './workflows.js';

async function main(): Promise<void> {
  const secs = Number(process.argv[2] ?? 60);
  const inFlight = Number(process.argv[3] ?? 100);
  const dir = benchDir('wal-growth');
  const path = join(dir, 'w.db');
  const store = await SqliteStore.open(path, { synchronous: 'full' });
  const engine = new Engine({ store }).register(parked);
  await engine.start();
  const walMB = () => Number((statSync(`${path}-wal`).size / 1048576).toFixed(1));
  const samples: number[] = [];
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const sampler = setInterval(() => samples.push(walMB()), 1000);
  let n = 0;
  let stop = false;
  const t0 = performance.now();
  const starter = async () => {
    while (!stop) await engine.startExecution('parked', { n: n++ });
  };
  const starters = Array.from({ length: inFlight }, starter);
  await new Promise((resolve) => setTimeout(resolve, secs * 1000));
  stop = true;
  await Promise.all(starters);
  clearInterval(sampler);
  delay.disable();
  const startsPerSec = Math.round(n / ((performance.now() - t0) / 1000));
  const walEndMB = walMB();
  await engine.stop();
  const c0 = performance.now();
  await store.close();
  const closeMs = Math.round(performance.now() - c0);
  console.log(JSON.stringify({
    secs, inFlight, startsPerSec, walMB: samples.join(' '), walMaxMB: Math.max(walEndMB, ...samples), walEndMB, closeMs,
    loopDelayMs: { p99: Number((delay.percentile(99) / 1e6).toFixed(1)), max: Number((delay.max / 1e6).toFixed(1)) },
  }));
  removeDir(dir);
}

void main();
