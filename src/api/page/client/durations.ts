/**
 * The Duration column of the timeline: an event that ends something (a handler run, a wait, a
 * compensation, the execution) is measured from the event that began it. Fed every event in
 * order, once. Pure: no DOM.
 */
import { HistoryEventType } from '../../../core/events.js';
import type { ApiHistoryEvent } from './types.js';

export class EventDurations {
  private readonly stepStarts = new Map<string, number | null>();
  private readonly timerStarts = new Map<string, number | null>();
  private readonly compensationStarts = new Map<string, number | null>();
  private executionStart: number | null = null;

  /** `executionStartedAt` stands in when the history's first page did not hold ExecutionStarted. */
  constructor(private readonly executionStartedAt: () => number | null) {}

  /** How long the thing `ev` ends took, or null when `ev` ends nothing (or its start is unknown). */
  measure(ev: ApiHistoryEvent, ts: number | null): number | null {
    const step = ev.step ?? '';
    const since = (start: number | null | undefined) => (typeof start === 'number' && ts !== null ? ts - start : null);
    switch (ev.type) {
      case HistoryEventType.ExecutionStarted:
        this.executionStart = ts;
        return null;
      case HistoryEventType.StepStarted:
        this.stepStarts.set(`${step}#${ev.attempt ?? ''}`, ts);
        this.stepStarts.set(`${step}#last`, ts);
        return null;
      case HistoryEventType.StepSucceeded:
      case HistoryEventType.StepFailed: {
        const key = `${step}#${ev.attempt ?? ''}`;
        return since(this.stepStarts.has(key) ? this.stepStarts.get(key) : this.stepStarts.get(`${step}#last`));
      }
      case HistoryEventType.TimerStarted:
        this.timerStarts.set(step, ts);
        return null;
      case HistoryEventType.TimerFired:
        return since(this.timerStarts.get(step));
      case HistoryEventType.CompensationStarted:
        this.compensationStarts.set(step, ts);
        return null;
      case HistoryEventType.CompensationSucceeded:
      case HistoryEventType.CompensationFailed:
        return since(this.compensationStarts.get(step));
      case HistoryEventType.ExecutionSucceeded:
      case HistoryEventType.ExecutionFailed:
      case HistoryEventType.ExecutionCancelled:
        return since(this.executionStart ?? this.executionStartedAt());
      default:
        return null;
    }
  }
}
