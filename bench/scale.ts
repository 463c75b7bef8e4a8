/**
 * 4. Scale: 100,000 executions parked on a one-hour wait, created through engine.startExecution
 * with many starts in flight. Reports resident memory before and after (after a forced GC; the
 * child runs with --expose-gc), disk per execution (database + WAL + shm / count), the time to
 * resume after a restart (close engine and store; then open the store, new Engine, start(), and
 * one claim query: nothing is due, so that is when the first due work could be claimed), and then
 * 10,000 timers due at the same instant: p99 lateness of TimerFired (its timestamp − data.dueAt)
 * and of the handler that runs after the wait (wall clock at the handler − due time).
 */
import { Engine, SqliteStore } from '../src/index.js';
import { openRig, type Rig } from './harness.js';
import {
  benchDir, benchId, collectGarbage, MB, now, probeCommits, removeDir, round, sleep, sqliteFootprint, summarize,
  type BenchResult, type Row,
} from './util.js';
import { lateness, parked, timerProbe } from './workflows.js';

export interface ScaleOptions {
  parked: number;
  timers: number;
  /** Starts awaited at once while creating. */
  inFlight: number;
  /** Creation stops here and the figures are extrapolated (and labelled so). */
  createBudgetMs: number;
  /** Overrides SqliteStore's page cache (KiB) to see how much of the RSS growth is that cache. */
  sqliteCacheKiB?: number;
  /** Only the parked phase (memory and disk), for the page-cache comparison run. */
  parkedOnly?: boolean;
}
const DEFAULTS: ScaleOptions = { parked: 100_000, timers: 10_000, inFlight: 1000, createBudgetMs: 120_000 };

function x(extrapolated: boolean): string {
  return extrapolated ? ' (EXTRAPOLATED)' : '';
}

function rss(): number {
  return process.memoryUsage().rss;
}

/** Starts `count` executions, `inFlight` at a time, until done or `budgetMs` passes; returns how many. */
async function create(rig: Rig, count: number, inFlight: number, budgetMs: number, wf: string, input: (i: number) => unknown): Promise<{ created: number; elapsedMs: number }> {
  let next = 0;
  const t0 = now();
  const deadline = t0 + budgetMs;
  const worker = async () => {
    while (next < count && now() < deadline) {
      const i = next++;
      await rig.engine.startExecution(wf, input(i), { id: benchId(wf) });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { created: next, elapsedMs: now() - t0 };
}

export async function run(given: Partial<ScaleOptions> = {}): Promise<BenchResult> {
  const opts = { ...DEFAULTS, ...given };
  const dir = benchDir('scale');
  const notes: string[] = [];
  try {
    let rig = await openRig(dir, 'full', [parked, timerProbe], 'scale');
    if (opts.sqliteCacheKiB !== undefined) rig.store.connection.pragma(`cache_size = -${opts.sqliteCacheKiB}`);
    const cacheKiB = -(rig.store.connection.pragma('cache_size', { simple: true }) as number);
    // Warm the code paths, then take the "before" reading with an engine that is up and idle.
    await create(rig, 200, 50, 10_000, 'parked', (n) => ({ n }));
    await collectGarbage();
    const rssBefore = rss();
    const heapBefore = process.memoryUsage().heapUsed;
    const made = await create(rig, opts.parked - 200, opts.inFlight, opts.createBudgetMs, 'parked', (n) => ({ n }));
    const createdTotal = made.created + 200;
    const createRate = (made.created / made.elapsedMs) * 1000;
    await rig.engine.drain();
    const rssAfterRaw = rss();
    await collectGarbage();
    const rssAfter = rss();
    const heapAfter = process.memoryUsage().heapUsed;
    const footprint = sqliteFootprint(rig.dbPath);
    const scaleUp = opts.parked / createdTotal;
    const extrapolated = createdTotal < opts.parked;
    if (extrapolated) {
      notes.push(`Scale: only ${createdTotal} of ${opts.parked} executions were created within the ${opts.createBudgetMs / 1000} s budget ` +
        `(${round(createRate, 0)}/s); memory and disk figures are EXTRAPOLATED linearly ×${round(scaleUp, 2)}.`);
    }
    const rssGrowth = (rssAfter - rssBefore) * scaleUp;
    const diskPerExec = footprint.total / createdTotal;
    const memoryNote = `RSS ${round(rssBefore / MB, 0)} → ${round(rssAfter / MB, 0)} MB after GC (${round(rssAfterRaw / MB, 0)} before GC); ` +
      `JS heap ${round(heapBefore / MB, 0)} → ${round(heapAfter / MB, 0)} MB; SQLite page cache limit ${round(cacheKiB / 1024, 1)} MiB`;
    if (opts.parkedOnly) {
      await rig.close();
      return {
        bench: 'scale', notes,
        rows: [{
          key: 'scale.rssGrowthSmallCacheMB', bench: 'scale', label: `RSS growth for ${opts.parked} parked, SQLite cache capped at ${round(cacheKiB / 1024, 1)} MiB${x(extrapolated)}`,
          value: round(rssGrowth / MB, 1), unit: 'MB', note: `${memoryNote}; a separate run, to show how much of the growth is SQLite's page cache`,
        }],
        details: { options: opts, sqliteCacheKiB: cacheKiB, createdTotal, createRate, rssBefore, rssAfterRaw, rssAfter, heapBefore, heapAfter, footprint },
      };
    }

    // Restart: close everything, then time open + new Engine + start() + one claim query.
    await rig.close();
    const tResume0 = now();
    const store = await SqliteStore.open(rig.dbPath, { synchronous: 'full' });
    const tOpened = now();
    const engine = new Engine({ store });
    engine.register(parked, timerProbe);
    await engine.start();
    const tStarted = now();
    const claimNow = Date.now();
    const claimed = await store.claimWork({ owner: 'bench-probe', now: claimNow, leaseUntil: claimNow + 30_000, limit: 1 });
    const tReady = now();
    const resumeMs = tReady - tResume0;
    const parkedRunning = store.connection.prepare("SELECT count(*) FROM executions WHERE status = 'RUNNING'").pluck().get() as number;
    const probe = probeCommits(store);
    rig = { store, engine, probe, dbPath: rig.dbPath, close: async () => { await engine.stop({ graceMs: 2000 }); await store.close(); } };

    // 10,000 timers due at one instant, far enough ahead that every start lands before it.
    const margin = Math.max(3000, Math.ceil((opts.timers / createRate) * 1000 * 2) + 1500);
    const dueAt = Date.now() + margin;
    lateness.length = 0;
    const timerMade = await create(rig, opts.timers, opts.inFlight, margin - 500, 'timerProbe', () => ({ dueAt }));
    const createdBeforeDue = Date.now() < dueAt;
    if (!createdBeforeDue || timerMade.created < opts.timers) {
      notes.push(`Scale: creating the ${opts.timers} timers overran their due time (${timerMade.created} created in ${round(timerMade.elapsedMs, 0)} ms, margin ${margin} ms); lateness figures are not meaningful.`);
    }
    // Wait for every handler after the wait to have run (bounded).
    const deadline = Date.now() + margin + 60_000;
    while (lateness.length < timerMade.created && Date.now() < deadline) await sleep(20);
    const handlersDoneAt = Date.now();
    await engine.drain();
    const fired = store.connection.prepare(
      "SELECT ts - json_extract(data, '$.dueAt') AS late FROM history WHERE type = 'TimerFired'",
    ).pluck().all() as number[];
    const firedLate = summarize(fired);
    const handlerLate = summarize(lateness);
    const lastFiredAt = store.connection.prepare("SELECT max(ts) FROM history WHERE type = 'TimerFired'").pluck().get() as number;
    await rig.close();

    const rows: Row[] = [
      {
        key: 'scale.createPerSec', bench: 'scale', label: `create ${createdTotal} parked executions via startExecution (${opts.inFlight} in flight)`,
        value: round(createRate, 0), unit: 'starts/s', note: `${round(made.elapsedMs / 1000, 1)} s`,
      },
      {
        key: 'scale.rssGrowthMB', bench: 'scale', label: `RSS growth for ${opts.parked} parked${x(extrapolated)}`,
        value: round(rssGrowth / MB, 1), unit: 'MB', target: '< 100 MB', pass: rssGrowth / MB < 100,
        note: memoryNote,
      },
      {
        key: 'scale.diskPerExecBytes', bench: 'scale', label: 'disk per parked execution (db + WAL + shm)',
        value: round(diskPerExec, 0), unit: 'bytes', note: `${round(footprint.total / MB, 1)} MB for ${createdTotal} (WAL ${round(footprint.wal / MB, 1)} MB)`,
      },
      {
        key: 'scale.resumeMs', bench: 'scale', label: `resume after restart (open + start + claim), ${parkedRunning} parked`,
        value: round(resumeMs, 1), unit: 'ms', target: '< 10 s', pass: resumeMs < 10_000,
        note: `open ${round(tOpened - tResume0, 1)} ms, start ${round(tStarted - tOpened, 1)} ms, claim ${round(tReady - tStarted, 1)} ms (${claimed.length} due)`,
      },
      {
        key: 'scale.timerFiredP99', bench: 'scale', label: `${opts.timers} timers due at once: p99 lateness of TimerFired`,
        value: round(firedLate.p99, 1), unit: 'ms', target: '< 100 ms', pass: createdBeforeDue && firedLate.p99 < 100,
        note: `p50 ${round(firedLate.p50, 1)}, max ${round(firedLate.max, 1)} ms; n=${firedLate.n}`,
      },
      {
        key: 'scale.handlerLateP99', bench: 'scale', label: `${opts.timers} timers due at once: p99 wall-clock lateness at the handler`,
        value: round(handlerLate.p99, 1), unit: 'ms', target: '< 100 ms', pass: createdBeforeDue && handlerLate.p99 < 100,
        note: `p50 ${round(handlerLate.p50, 1)}, max ${round(handlerLate.max, 1)} ms; n=${handlerLate.n}`,
      },
    ];
    return {
      bench: 'scale', rows, notes,
      details: {
        options: opts, sqliteCacheKiB: cacheKiB, createdTotal, createElapsedMs: made.elapsedMs, createRate, extrapolated, rssBefore, rssAfterRaw, rssAfter, heapBefore, heapAfter,
        footprint, diskPerExec, resume: { resumeMs, openMs: tOpened - tResume0, startMs: tStarted - tOpened, claimMs: tReady - tStarted, parkedRunning },
        timers: { margin, created: timerMade.created, createMs: timerMade.elapsedMs, createdBeforeDue, dueAt, lastFiredAt, handlersDoneAt, firedLate, handlerLate },
      },
    };
  } finally {
    removeDir(dir);
  }
}
