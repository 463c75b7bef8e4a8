/**
 * Prometheus metrics for one engine (docs/observability.md has the catalogue). Counters and
 * histograms move as the engine reports commits and step attempts; the gauges of what is
 * running, due and waiting are read from the store when /metrics is scraped, so they are right
 * after a restart and across processes sharing a PostgreSQL store. Labels are bounded: workflow,
 * step (a state name of a registered definition), outcome, status, kind, code; never an
 * execution id. Each Metrics has its own registry, so two engines in one process do not clash.
 */
import type { Counter, Gauge, Registry } from 'prom-client';
import { lazyRequire } from '../core/lazy-require.js';
import { HistoryEventType } from '../core/events.js';
import type { EngineObserver, StepAttemptEnd, StepAttemptInfo, StepAttemptScope } from '../core/observer.js';
import type { Store } from '../core/store.js';
import { WORK_KINDS } from '../core/work-ref.js';
import { CountingHistogram, type HistogramChild } from './histogram.js';

const promClient = lazyRequire<typeof import('prom-client')>('prom-client');

export interface MetricsOptions {
  /** Read for the running, due and timer gauges at each scrape (a store without `stats` leaves them out). */
  store?: Store;
  /** Add Node's process metrics (CPU, memory, event loop lag, GC). @default true */
  processMetrics?: boolean;
  /** The time the gauges are read at (tests pass the engine's clock). @default Date.now */
  now?: () => number;
}

/** Seconds: handler calls span sub-millisecond functions to minutes-long API calls. */
const STEP_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300];
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500];

/** The outcome label of a step attempt: succeeded, timeout, cancelled or failed. */
export function outcomeLabel(ok: boolean, errorCode: string | undefined): string {
  if (ok) return 'succeeded';
  if (errorCode === 'Stepwise.Timeout') return 'timeout';
  if (errorCode === 'Stepwise.Cancelled') return 'cancelled';
  return 'failed';
}

/** The prom-client objects of one Metrics, made together on first use. */
class Instruments {
  readonly registry: Registry;
  readonly started: Counter<'workflow'>;
  readonly ended: Counter<'workflow' | 'status'>;
  readonly running: Gauge<'workflow'>;
  /** The three histograms observed on every step and commit: CountingHistogram, not prom-client's (see histogram.ts). */
  readonly stepDuration: CountingHistogram;
  readonly retries: Counter<'workflow' | 'step'>;
  readonly workDue: Gauge<'kind'>;
  readonly workLag: Gauge;
  readonly timersPending: Gauge;
  readonly commitDuration: HistogramChild;
  readonly commitBatch: HistogramChild;
  readonly storeErrors: Counter<'code'>;
  readonly alerts: Counter<'rule'>;

  constructor(processMetrics: boolean) {
    const { Counter, Gauge, Registry, collectDefaultMetrics } = promClient();
    this.registry = new Registry();
    const registers = [this.registry];
    this.started = new Counter({ name: 'stepwise_executions_started_total', help: 'Executions started.', labelNames: ['workflow'], registers });
    this.ended = new Counter({ name: 'stepwise_executions_ended_total', help: 'Executions ended, by final status.', labelNames: ['workflow', 'status'], registers });
    this.running = new Gauge({ name: 'stepwise_executions_running', help: 'Executions RUNNING in the store, as of the scrape.', labelNames: ['workflow'], registers });
    this.stepDuration = new CountingHistogram(
      'stepwise_step_duration_seconds', 'Handler time of step and compensation attempts, by outcome (succeeded, failed, timeout, cancelled).',
      STEP_BUCKETS, this.registry,
    );
    this.retries = new Counter({ name: 'stepwise_step_retries_total', help: 'Retries scheduled after a failed attempt.', labelNames: ['workflow', 'step'], registers });
    this.workDue = new Gauge({ name: 'stepwise_work_due', help: 'Work rows due now that no worker holds, by kind (task, timer, compensation).', labelNames: ['kind'], registers });
    this.workLag = new Gauge({ name: 'stepwise_work_lag_seconds', help: 'Age of the oldest due work row no worker holds (0 when none).', registers });
    this.timersPending = new Gauge({ name: 'stepwise_timers_pending', help: 'Durable timers armed and not yet fired.', registers });
    this.commitDuration = new CountingHistogram('stepwise_commit_duration_seconds', 'Time to write one group commit.', COMMIT_BUCKETS, this.registry).child();
    this.commitBatch = new CountingHistogram('stepwise_commit_batch_size', 'Executions written by one group commit.', BATCH_BUCKETS, this.registry).child();
    this.storeErrors = new Counter({ name: 'stepwise_store_errors_total', help: 'Group commits that failed with a storage error, by code.', labelNames: ['code'], registers });
    this.alerts = new Counter({ name: 'stepwise_alerts_total', help: 'Alerts raised, by rule.', labelNames: ['rule'], registers });
    if (processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'stepwise_' });
  }
}

/**
 * The engine's observer for metrics. prom-client is loaded and the metrics registered on first
 * use (the first commit, step attempt end, scrape, or read of `registry` / `alerts`), not when
 * the Metrics is made: `stepwise serve` answers its first request without it (docs/performance.md,
 * cold start). Nothing is lost by waiting: nothing was counted before.
 */
export class Metrics implements EngineObserver {
  private made: Instruments | undefined;
  private readonly processMetrics: boolean;
  private readonly store: Store | undefined;
  private readonly now: () => number;
  /** Step-duration histogram children by workflow, then step, then outcome: no label text is hashed per attempt. */
  private readonly stepChildren = new Map<string, Map<string, Map<string, HistogramChild>>>();

  constructor(options: MetricsOptions = {}) {
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.processMetrics = options.processMetrics !== false;
  }

  private get m(): Instruments {
    return (this.made ??= new Instruments(this.processMetrics));
  }

  /** This engine's own prom-client registry (made on first read). */
  get registry(): Registry {
    return this.m.registry;
  }

  /** stepwise_alerts_total, by rule (src/observability/alerts.ts counts into it). */
  get alerts(): Counter<'rule'> {
    return this.m.alerts;
  }

  commitDone(info: { executions: number; durationMs: number }): void {
    const m = this.m;
    m.commitDuration.observe(info.durationMs / 1000);
    m.commitBatch.observe(info.executions);
  }

  storeError(code: string): void {
    const m = this.m;
    m.storeErrors.inc({ code });
  }

  committed(info: { workflow: string; events: readonly { type: string; step?: string }[] }): void {
    const m = this.m;
    for (const e of info.events) {
      switch (e.type) {
        case HistoryEventType.ExecutionStarted: m.started.inc({ workflow: info.workflow }); break;
        case HistoryEventType.ExecutionSucceeded: m.ended.inc({ workflow: info.workflow, status: 'SUCCEEDED' }); break;
        case HistoryEventType.ExecutionFailed: m.ended.inc({ workflow: info.workflow, status: 'FAILED' }); break;
        case HistoryEventType.ExecutionCancelled: m.ended.inc({ workflow: info.workflow, status: 'CANCELLED' }); break;
        case HistoryEventType.RetryScheduled: m.retries.inc({ workflow: info.workflow, step: e.step ?? '' }); break;
        default: break;
      }
    }
  }

  stepAttemptStarted(info: StepAttemptInfo): StepAttemptScope {
    return new StepTimer(this.observeStep, info.workflow, info.step);
  }

  /** Records one attempt's handler time under its workflow, step and outcome (StepTimer's, not public). */
  private readonly observeStep: ObserveStep = (workflow, step, outcome, seconds) => {
    // A child per label set, found through nested maps: no label text is built per attempt.
    let bySteps = this.stepChildren.get(workflow);
    if (!bySteps) this.stepChildren.set(workflow, (bySteps = new Map()));
    let byOutcome = bySteps.get(step);
    if (!byOutcome) bySteps.set(step, (byOutcome = new Map()));
    let child = byOutcome.get(outcome);
    if (!child) byOutcome.set(outcome, (child = this.m.stepDuration.child({ workflow, step, outcome })));
    child.observe(seconds);
  };

  /** The text a scrape gets: gauges read from the store first. */
  async scrape(): Promise<string> {
    await this.readGauges();
    return this.m.registry.metrics();
  }

  get contentType(): string {
    return this.m.registry.contentType;
  }

  private async readGauges(): Promise<void> {
    if (!this.store?.stats) return;
    const m = this.m;
    const now = this.now();
    const stats = await this.store.stats(now);
    m.running.reset();
    for (const r of stats.running) m.running.set({ workflow: r.workflow }, r.count);
    let oldest = now;
    for (const kind of WORK_KINDS) m.workDue.set({ kind }, 0);
    for (const d of stats.due) {
      m.workDue.set({ kind: d.kind }, d.count);
      oldest = Math.min(oldest, d.oldestDueAt);
    }
    m.workLag.set(Math.max(0, now - oldest) / 1000);
    m.timersPending.set(stats.timersPending);
  }
}

type ObserveStep = (workflow: string, step: string, outcome: string, seconds: number) => void;

/** One attempt's timing: a class rather than a closure per attempt. */
class StepTimer implements StepAttemptScope {
  private readonly t0 = performance.now();
  constructor(private readonly observe: ObserveStep, private readonly workflow: string, private readonly step: string) {}

  end({ ok, errorCode }: StepAttemptEnd): void {
    this.observe(this.workflow, this.step, outcomeLabel(ok, errorCode), (performance.now() - this.t0) / 1000);
  }
}
