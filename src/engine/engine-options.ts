import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { systemClock, type Clock } from '../core/clock.js';
import type { EngineObserver } from '../core/observer.js';
import type { Store } from '../core/store.js';
import type { FaultPoint } from './commit-loop.js';
import { warningsToConsole, type Logger } from './logger.js';

export interface EngineOptions {
  store: Store;
  clock?: Clock;
  /** Names this process in history (StepStarted data.worker) and in leases. @default host:pid:random */
  workerId?: string;
  /** Handlers running at once in this process. @default 128 */
  concurrency?: number;
  /** How long a claim holds before another worker may take the work over; renewed while a handler runs. @default 30000 */
  leaseMs?: number;
  /**
   * Longest sleep between looks for due work when nothing wakes the engine sooner. @default 1000;
   * unbounded on an exclusive store (SQLite), where every due time comes from this process's own
   * commits, each of which sets the wake-up timer.
   */
  pollIntervalMs?: number;
  /** A handler output over this many bytes fails its step with Stepwise.OutputTooLarge. @default 262144 */
  maxOutputBytes?: number;
  /** An execution input over this many bytes is refused. @default 1048576 */
  maxInputBytes?: number;
  /**
   * How long a correlated event (`publishEvent`, POST /v1/events) is kept for executions that
   * reach a wait on its name and key later; its id is remembered as long. @default 86400000 (24 h)
   */
  correlatedEventRetentionMs?: number;
  /** Source of randomness for retry jitter (tests pass a seeded one). */
  random?: () => number;
  /** Where warnings and errors go. @default warnings and errors printed to the console, info dropped */
  logger?: Logger;
  /**
   * Called at named points of the step loop; crash tests pass a function that kills the process
   * there (DBOS's debug points, in spirit). 'before-commit': a batch is built, nothing written;
   * 'after-commit': the batch is durable, no handler started for it yet.
   */
  faultPoint?: FaultPoint;
  /** Told about commits, step attempts and execution events (metrics, logs, traces; src/observability). */
  observer?: EngineObserver;
}

/** A claim on an exclusive store lasts as long as the process (about 285,000 years). */
const EXCLUSIVE_LEASE_MS = 2 ** 53 / 1000;

/** The options with every default filled in. */
export type EngineSettings = Required<Omit<EngineOptions, 'faultPoint' | 'observer'>> & Pick<EngineOptions, 'faultPoint' | 'observer'>;

export function withDefaults(options: EngineOptions): EngineSettings {
  const { store } = options;
  return {
    store,
    clock: options.clock ?? systemClock,
    workerId: options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    concurrency: options.concurrency ?? 128,
    // On an exclusive store no other process can take work over, so a claim holds until this
    // process ends (the next one voids every lease at start-up) and needs no renewal.
    leaseMs: store.exclusive ? EXCLUSIVE_LEASE_MS : options.leaseMs ?? 30_000,
    pollIntervalMs: options.pollIntervalMs ?? (store.exclusive ? Number.POSITIVE_INFINITY : 1000),
    maxOutputBytes: options.maxOutputBytes ?? 256 * 1024,
    maxInputBytes: options.maxInputBytes ?? 1024 * 1024,
    correlatedEventRetentionMs: options.correlatedEventRetentionMs ?? 24 * 3600_000,
    random: options.random ?? Math.random,
    logger: options.logger ?? warningsToConsole,
    faultPoint: options.faultPoint,
    observer: options.observer,
  };
}
