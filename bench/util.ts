/**
 * Shared helpers for the benchmarks: temp dirs on the repo's disk, percentiles, a completion hook
 * on the store, memory and file-size probes, and the shape every benchmark returns.
 */
import { mkdtempSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { CommitOutcome, ExecutionCommit, Store } from '../src/core/store.js';
import { newExecutionId } from '../src/core/ids.js';

export type Sync = 'full' | 'normal';

/** One line of the results table. */
export interface Row {
  /** Stable key, e.g. 'step.full.stepsPerSec'. */
  key: string;
  bench: string;
  label: string;
  value: number;
  unit: string;
  /** The baseline measured in the same run (same disk, same synchronous setting). */
  baseline?: number;
  baselineLabel?: string;
  /** value / baseline, when a baseline exists. */
  ratio?: number;
  /** Human-readable target, e.g. '≥ 0.5× raw'. */
  target?: string;
  pass?: boolean;
  note?: string;
}

export interface BenchResult {
  bench: string;
  rows: Row[];
  /** Everything else measured (raw numbers, counts, timings), kept in latest.json. */
  details: Record<string, unknown>;
  /** Free-text remarks (extrapolations, anomalies), printed under the table. */
  notes: string[];
}

const REPO = resolve(new URL('../..', import.meta.url).pathname);

/**
 * A fresh directory on the same disk as the repository: os.tmpdir() when it is on the same
 * device as the repo, else ./data/bench (gitignored).
 */
export function benchDir(prefix: string): string {
  let base = tmpdir();
  try {
    if (statSync(base).dev !== statSync(REPO).dev) base = join(REPO, 'data', 'bench');
  } catch {
    base = join(REPO, 'data', 'bench');
  }
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `stepwise-bench-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The filesystem a path lives on, as `df` reports it (for the machine section of the report). */
export function filesystemOf(path: string): string {
  try {
    const out = execFileSync('df', ['-P', path], { encoding: 'utf8' }).trim().split('\n')[1] ?? '';
    const cols = out.split(/\s+/);
    return `${cols[0]} mounted on ${cols[5]}`;
  } catch {
    return 'unknown';
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** The p-th percentile of unsorted `values` (a sorted copy is taken). */
export function quantile(values: readonly number[], p: number): number {
  return percentile([...values].sort((a, b) => a - b), p);
}

export function summarize(values: number[]): { n: number; p50: number; p90: number; p99: number; max: number; mean: number } {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN, mean };
}

export const now = (): number => performance.now();

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Wraps `store.commit` (on the instance) to count transactions, execution commits and events, and
 * to call a per-execution callback the moment the commit that ends it is durable: a completion
 * hook with no polling, taken just before the engine's own afterCommit runs.
 */
export interface CommitProbe {
  transactions: number;
  commits: number;
  events: number;
  /** Resolves when the execution's ending commit has landed; register before starting it. */
  endOf(id: string): Promise<number>;
  /** Per-execution commit counts (only while `countPerExecution` is true). */
  perExecution: Map<string, number>;
  countPerExecution: boolean;
  reset(): void;
}

export function probeCommits(store: Store): CommitProbe {
  const original = store.commit.bind(store);
  const ends = new Map<string, (t: number) => void>();
  const probe: CommitProbe = {
    transactions: 0,
    commits: 0,
    events: 0,
    perExecution: new Map(),
    countPerExecution: false,
    endOf(id) {
      return new Promise<number>((resolveEnd) => ends.set(id, resolveEnd));
    },
    reset() {
      probe.transactions = 0;
      probe.commits = 0;
      probe.events = 0;
      probe.perExecution.clear();
    },
  };
  (store as { commit: (c: ExecutionCommit[]) => Promise<CommitOutcome[]> }).commit = async (commits) => {
    const outcomes = await original(commits);
    const t = performance.now();
    probe.transactions++;
    for (let i = 0; i < commits.length; i++) {
      const c = commits[i];
      if (!outcomes[i]?.ok) continue;
      probe.commits++;
      probe.events += c.events.length;
      if (probe.countPerExecution) probe.perExecution.set(c.executionId, (probe.perExecution.get(c.executionId) ?? 0) + 1);
      if (c.endedAt !== undefined) {
        const done = ends.get(c.executionId);
        if (done) {
          ends.delete(c.executionId);
          done(t);
        }
      }
    }
    return outcomes;
  };
  return probe;
}

/** Forces a full GC when the process runs with --expose-gc (the benchmark children do). */
export async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(20);
  }
}

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Database file + WAL + shared-memory index, in bytes. */
export function sqliteFootprint(dbPath: string): { db: number; wal: number; shm: number; total: number } {
  const db = fileSize(dbPath);
  const wal = fileSize(`${dbPath}-wal`);
  const shm = fileSize(`${dbPath}-shm`);
  return { db, wal, shm, total: db + wal + shm };
}

/**
 * An execution id known before the start (so the completion hook can be armed first), in the
 * engine's own default format: a UUIDv7, time-ordered, so b-tree inserts land where the
 * engine's generated ids would. `_prefix` only documents the call site.
 */
export function benchId(_prefix: string): string {
  return newExecutionId();
}

export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export const MB = 1024 * 1024;
