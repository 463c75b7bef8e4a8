/**
 * Alert rules and daily budgets, evaluated as the engine reports its commits and step attempts:
 *   - failureRate: the share of executions of a workflow (or all) that ended FAILED among those
 *     that ended in the last `windowMs`, once at least `minExecutions` ended;
 *   - stepTimeouts: at least `threshold` attempts timed out (Stepwise.Timeout) in `windowMs`;
 *   - a daily budget of state transitions per workflow (UTC day): an alert at 80%, another at
 *     100%, past which new starts are refused with 429 BUDGET_EXCEEDED (or only alerted, by config).
 * An alert goes to the log (warn), to the `stepwise_alerts_total{rule}` metric and to every
 * webhook; a rule raises at most once per window (a budget at most once per level per day).
 * A daily budget's spend is read from the store when the process starts (`restore`), then counted
 * in memory as commits land: with several processes on one PostgreSQL store, each adds its own
 * share to what the store held when it started. Rule windows and the last time each rule raised
 * live in memory only.
 */
import { StepwiseError } from '../core/errors.js';
import type { EngineObserver, StepAttemptInfo, StepAttemptScope } from '../core/observer.js';
import { AlertWebhooks, type Alert, type AlertWebhook } from './alert-webhooks.js';
import { countTransitions } from '../core/transitions.js';
import { transitionsSince } from './daily-spend.js';
import type { UsageReads } from './usage-report.js';

export interface FailureRateRule {
  name: string;
  kind: 'failureRate';
  /** Only this workflow's executions. @default all */
  workflow?: string;
  /** Raise when failed / ended reaches this share (0..1). */
  threshold: number;
  windowMs: number;
  /** Ended executions needed in the window before the rate means anything. @default 10 */
  minExecutions?: number;
}

export interface StepTimeoutRule {
  name: string;
  kind: 'stepTimeouts';
  workflow?: string;
  step?: string;
  /** Timeouts in the window that raise it. @default 1 */
  threshold?: number;
  windowMs: number;
}

export type AlertRule = FailureRateRule | StepTimeoutRule;

export interface DailyBudget {
  workflow: string;
  /** State transitions per UTC day across the workflow's executions. */
  maxTransitionsPerDay: number;
  /** At 100%: 'reject' refuses new starts with 429 BUDGET_EXCEEDED; 'alert' only alerts. @default 'reject' */
  onExceeded?: 'reject' | 'alert';
}

export interface AlertOptions {
  rules?: AlertRule[];
  budgets?: DailyBudget[];
  webhooks?: AlertWebhook[];
  /** Where alerts are logged (warn) and failed deliveries reported (error). */
  log?: { warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  /** Counts raised alerts (Metrics.alerts). */
  counter?: { inc(labels: { rule: string }): void };
  now?: () => number;
  /** First retry delay of a webhook delivery. @default 200 */
  retryMinTimeoutMs?: number;
}

const DAY_MS = 86_400_000;

export class Alerts implements EngineObserver {
  private readonly now: () => number;
  private readonly webhooks: AlertWebhooks;
  private readonly lastRaised = new Map<string, number>();
  /** Per failure-rate rule: end times and whether each failed, oldest first. */
  private readonly ends = new Map<string, { at: number; failed: boolean }[]>();
  private readonly timeouts = new Map<string, number[]>();
  /** Today's transitions per budgeted workflow, and the day they count. */
  private readonly spent = new Map<string, { day: number; transitions: number }>();
  private readonly budgets: Map<string, DailyBudget>;
  readonly stepAttemptStarted?: (info: StepAttemptInfo) => StepAttemptScope | undefined;

  constructor(private readonly options: AlertOptions = {}) {
    this.now = options.now ?? Date.now;
    this.budgets = new Map((options.budgets ?? []).map((b) => [b.workflow, b]));
    this.webhooks = new AlertWebhooks(options.webhooks ?? [], (url, error) => options.log?.error({ url, err: String(error) }, 'alert webhook delivery failed'), options.retryMinTimeoutMs);
    const timeoutRules = (options.rules ?? []).filter((r): r is StepTimeoutRule => r.kind === 'stepTimeouts');
    // Only when a rule wants step outcomes: otherwise attempts cost nothing here.
    if (timeoutRules.length > 0) {
      this.stepAttemptStarted = (info) => ({
        end: ({ errorCode }) => {
          if (errorCode !== 'Stepwise.Timeout') return;
          for (const rule of timeoutRules) if ((rule.workflow ?? info.workflow) === info.workflow && (rule.step ?? info.step) === info.step) this.timedOut(rule, info);
        },
      });
    }
  }

  committed(info: { workflow: string; events: readonly { type: string; step?: string; data?: Record<string, unknown> }[] }): void {
    for (const e of info.events) {
      if (e.type === 'ExecutionSucceeded' || e.type === 'ExecutionFailed' || e.type === 'ExecutionCancelled') this.ended(info.workflow, e.type === 'ExecutionFailed');
    }
    if (!this.budgets.has(info.workflow)) return;
    const transitions = countTransitions(info.events);
    if (transitions > 0) this.spend(info.workflow, transitions);
  }

  /** Throws 429 BUDGET_EXCEEDED when `workflow` has spent its daily budget and rejects past it. */
  checkStart(workflow: string): void {
    const budget = this.budgets.get(workflow);
    if (!budget || (budget.onExceeded ?? 'reject') !== 'reject') return;
    const spent = this.today(workflow);
    if (spent.transitions >= budget.maxTransitionsPerDay) {
      throw new StepwiseError('BUDGET_EXCEEDED', `workflow '${workflow}' has used its daily budget of ${budget.maxTransitionsPerDay} state transitions; new starts resume at 00:00 UTC`);
    }
  }

  /**
   * Reads today's spend of every budgeted workflow from the store (the transitions its executions
   * committed since 00:00 UTC), so a restart does not reset the day's budget. Call it before the
   * engine starts: what the engine commits after is counted as it lands. A level (80%, 100%)
   * already passed is not alerted again. Resolves to the workflows whose count is a lower bound
   * (more than MAX_SCANNED_EXECUTIONS executions listed).
   */
  async restore(reads: UsageReads): Promise<string[]> {
    const incomplete: string[] = [];
    for (const workflow of this.budgets.keys()) {
      const spent = this.today(workflow);
      const found = await transitionsSince(reads, workflow, spent.day * DAY_MS);
      spent.transitions += found.transitions;
      if (!found.complete) incomplete.push(workflow);
    }
    return incomplete;
  }

  /** Today's state transitions of a budgeted workflow, as the budget counts them. */
  spentToday(workflow: string): number {
    return this.budgets.has(workflow) ? this.today(workflow).transitions : 0;
  }

  /** Resolves once every webhook delivery under way has landed or given up (tests, shutdown). */
  settled(): Promise<void> {
    return this.webhooks.settled();
  }

  close(): void {
    this.webhooks.close();
  }

  private ended(workflow: string, failed: boolean): void {
    const now = this.now();
    for (const rule of this.options.rules ?? []) {
      if (rule.kind !== 'failureRate' || (rule.workflow !== undefined && rule.workflow !== workflow)) continue;
      let list = this.ends.get(rule.name);
      if (!list) this.ends.set(rule.name, (list = []));
      list.push({ at: now, failed });
      while (list.length > 0 && list[0]!.at <= now - rule.windowMs) list.shift();
      const failedCount = list.reduce((n, e) => n + (e.failed ? 1 : 0), 0);
      const rate = failedCount / list.length;
      if (list.length >= (rule.minExecutions ?? 10) && rate >= rule.threshold) {
        this.raise(rule.name, rule.windowMs, {
          kind: 'failureRate', ...(rule.workflow ? { workflow: rule.workflow } : {}),
          message: `${Math.round(rate * 100)}% of ${list.length} executions${rule.workflow ? ` of ${rule.workflow}` : ''} failed in the last ${rule.windowMs / 1000} s (threshold ${Math.round(rule.threshold * 100)}%)`,
          details: { failed: failedCount, ended: list.length, rate, threshold: rule.threshold, windowMs: rule.windowMs },
        });
      }
    }
  }

  private timedOut(rule: StepTimeoutRule, info: StepAttemptInfo): void {
    const now = this.now();
    let list = this.timeouts.get(rule.name);
    if (!list) this.timeouts.set(rule.name, (list = []));
    list.push(now);
    while (list.length > 0 && list[0]! <= now - rule.windowMs) list.shift();
    if (list.length >= (rule.threshold ?? 1)) {
      this.raise(rule.name, rule.windowMs, {
        kind: 'stepTimeouts', workflow: info.workflow,
        message: `${list.length} attempts of ${info.workflow}/${info.step} timed out in the last ${rule.windowMs / 1000} s`,
        details: { step: info.step, timeouts: list.length, windowMs: rule.windowMs },
      });
    }
  }

  private today(workflow: string): { day: number; transitions: number } {
    const day = Math.floor(this.now() / DAY_MS);
    let spent = this.spent.get(workflow);
    if (!spent || spent.day !== day) this.spent.set(workflow, (spent = { day, transitions: 0 }));
    return spent;
  }

  private spend(workflow: string, transitions: number): void {
    const budget = this.budgets.get(workflow)!;
    const spent = this.today(workflow);
    const before = spent.transitions;
    spent.transitions += transitions;
    for (const level of [0.8, 1]) {
      const at = level * budget.maxTransitionsPerDay;
      if (before < at && spent.transitions >= at) {
        const percent = Math.round(level * 100);
        this.raise(`budget:${workflow}:${percent}%`, DAY_MS, {
          kind: 'dailyBudget', workflow,
          message: `workflow '${workflow}' used ${spent.transitions} of its ${budget.maxTransitionsPerDay} daily state transitions (${percent}%)${level === 1 && (budget.onExceeded ?? 'reject') === 'reject' ? '; new starts are refused until 00:00 UTC' : ''}`,
          details: { transitions: spent.transitions, maxTransitionsPerDay: budget.maxTransitionsPerDay, level },
        });
      }
    }
  }

  private raise(rule: string, windowMs: number, alert: Omit<Alert, 'rule' | 'at'>): void {
    const now = this.now();
    const last = this.lastRaised.get(rule);
    if (last !== undefined && now - last < windowMs) return;
    this.lastRaised.set(rule, now);
    const full: Alert = { rule, ...alert, at: new Date(now).toISOString() };
    this.options.log?.warn({ alert: full }, `alert ${rule}: ${alert.message}`);
    this.options.counter?.inc({ rule });
    this.webhooks.send(full);
  }
}
