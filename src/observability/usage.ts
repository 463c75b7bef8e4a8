/**
 * Usage of one execution, computed from its history alone: exact, and it costs no write on the
 * step path. A state transition is counted the way AWS Step Functions bills them: once each time
 * a state is entered, retries included. Here that is each task attempt (StepStarted), each other
 * state entered (StateEntered: choice, pass, parallel, map, succeed, fail), each wait state
 * (TimerStarted) and each compensation attempt (CompensationStarted). A crash re-run of the same
 * attempt (StepStarted with `data.rerun`) is the engine's doing, not the workflow's: it counts as
 * a step attempt and its handler time counts, but it is not a new transition.
 */
import { HistoryEventType, type HistoryEvent } from '../core/events.js';
import { countTransitions } from '../core/transitions.js';

export interface ExecutionUsage {
  stateTransitions: number;
  /** Handler calls: step and compensation attempts, crash re-runs included. */
  stepAttempts: number;
  /** RetryScheduled events: attempts after a failure. */
  retries: number;
  /** Sum over attempts of the time from StepStarted to its result, in ms (engine clock). */
  handlerMs: number;
  /** Bytes of the history as stored events (UTF-8 JSON of each event). */
  historyBytes: number;
  /** Bytes of the execution's input, every step and compensation output and its final output. */
  payloadBytes: number;
}

/** What usage costs: the defaults mirror AWS Step Functions Standard workflows (us-east-1). */
export interface PriceTable {
  /** @default 'USD' */
  currency?: string;
  /** @default 0.025 */
  perThousandTransitions?: number;
  /** Added per second of handler time (Step Functions charges nothing for it; Lambda would). @default 0 */
  perHandlerSecond?: number;
}

export const DEFAULT_PRICES: Required<PriceTable> = { currency: 'USD', perThousandTransitions: 0.025, perHandlerSecond: 0 };

export function emptyUsage(): ExecutionUsage {
  return { stateTransitions: 0, stepAttempts: 0, retries: 0, handlerMs: 0, historyBytes: 0, payloadBytes: 0 };
}

function bytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** Folds a history (complete, or pages of it in order) into usage. */
export class UsageCounter {
  readonly usage = emptyUsage();
  /** Start time of the attempt now running, per work row ('task:key' or 'compensation:key'). */
  private readonly startedAt = new Map<string, number>();
  private readonly transitions: { entered?: string } = {};

  add(events: readonly HistoryEvent[]): this {
    const u = this.usage;
    u.stateTransitions += countTransitions(events, this.transitions);
    for (const e of events) {
      u.historyBytes += bytes(e);
      const data = e.data ?? {};
      const rowKey = `${e.type.startsWith('Compensation') ? 'compensation' : 'task'}:${String(data.key ?? e.step)}`;
      switch (e.type) {
        case HistoryEventType.ExecutionStarted: u.payloadBytes += bytes(data.input); break;
        case HistoryEventType.StepStarted:
        case HistoryEventType.CompensationStarted:
          u.stepAttempts++;
          this.startedAt.set(rowKey, e.timestamp);
          break;
        case HistoryEventType.StepSucceeded:
        case HistoryEventType.CompensationSucceeded:
          u.payloadBytes += bytes(data.output);
          this.ended(rowKey, e.timestamp);
          break;
        case HistoryEventType.StepFailed:
        case HistoryEventType.CompensationFailed: this.ended(rowKey, e.timestamp); break;
        case HistoryEventType.RetryScheduled: u.retries++; break;
        case HistoryEventType.ExecutionSucceeded: u.payloadBytes += bytes(data.output); break;
        default: break;
      }
    }
    return this;
  }

  private ended(rowKey: string, at: number): void {
    const started = this.startedAt.get(rowKey);
    if (started === undefined) return;
    this.usage.handlerMs += Math.max(0, at - started);
    this.startedAt.delete(rowKey);
  }
}

export function usageOf(events: readonly HistoryEvent[]): ExecutionUsage {
  return new UsageCounter().add(events).usage;
}

/** Estimated cost of some usage under a price table, rounded to a millionth of the currency unit. */
export function costOf(usage: Pick<ExecutionUsage, 'stateTransitions' | 'handlerMs'>, prices: PriceTable = {}): { amount: number; currency: string } {
  const p = { ...DEFAULT_PRICES, ...prices };
  const amount = (usage.stateTransitions / 1000) * p.perThousandTransitions + (usage.handlerMs / 1000) * p.perHandlerSecond;
  return { amount: Math.round(amount * 1e6) / 1e6, currency: p.currency };
}

export function addUsage(into: ExecutionUsage, more: ExecutionUsage): void {
  for (const k of Object.keys(into) as (keyof ExecutionUsage)[]) into[k] += more[k];
}
