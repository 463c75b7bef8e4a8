/** The timeline's Duration column, without a browser: each ending event measured from its start. */
import { describe, expect, it } from 'vitest';
import { EventDurations } from '../../src/api/page/client/durations.js';
import type { ApiHistoryEvent } from '../../src/api/page/client/types.js';
import { HistoryEventType as E } from '../../src/core/events.js';

describe('event durations', () => {
  it('measures handler runs per attempt, waits, compensations and the execution', () => {
    const d = new EventDurations(() => null);
    const at = (type: string, ts: number, step?: string, attempt?: number) =>
      d.measure({ seq: 0, type, timestamp: '', ...(step ? { step } : {}), ...(attempt ? { attempt } : {}) } as ApiHistoryEvent, ts);
    expect(at(E.ExecutionStarted, 1000)).toBeNull();
    expect(at(E.StepStarted, 1010, 'pay', 1)).toBeNull();
    expect(at(E.StepFailed, 1060, 'pay', 1)).toBe(50);
    expect(at(E.StepStarted, 1200, 'pay', 2)).toBeNull();
    expect(at(E.StepSucceeded, 1230, 'pay', 2)).toBe(30);
    expect(at(E.TimerStarted, 1300, 'pause')).toBeNull();
    expect(at(E.TimerFired, 2300, 'pause')).toBe(1000);
    expect(at(E.CompensationStarted, 2400, 'refund')).toBeNull();
    expect(at(E.CompensationSucceeded, 2425, 'refund')).toBe(25);
    expect(at(E.StateEntered, 2500, 'route')).toBeNull();
    expect(at(E.ExecutionFailed, 2600)).toBe(1600);
  });

  it('falls back to the execution\'s startedAt when the history it saw lacks ExecutionStarted', () => {
    const d = new EventDurations(() => 500);
    expect(d.measure({ seq: 9, type: E.ExecutionSucceeded, timestamp: '' }, 800)).toBe(300);
    expect(d.measure({ seq: 10, type: E.StepSucceeded, timestamp: '', step: 'unseen' }, 900)).toBeNull();
  });
});
