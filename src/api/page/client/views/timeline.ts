/**
 * The timeline: one row per history event, appended as events arrive (rows already drawn are
 * never rebuilt), with the time since the start, the duration of what the event ends, and the
 * event's data. Clicking a state in the graph filters it to that state's events.
 */
import { HistoryEventType } from '../../../../core/events.js';
import { clear, h } from '../dom.js';
import { EventDurations } from '../durations.js';
import { errorText, fmtClock, fmtDuration, toMs } from '../format.js';
import type { ApiHistoryEvent } from '../types.js';
import { PREVIEW_CHARS, jsonBlock } from './json-block.js';

/** A browser stays responsive with this many rows; the count of the rest is shown instead. */
const MAX_ROWS = 5000;

/** The colour class of each event type's name (every type must have one: the compiler checks). */
const EVENT_CLASS: Record<HistoryEventType, string> = {
  ExecutionStarted: 't-run',
  ExecutionQueued: 't-warn',
  StateEntered: '',
  StepStarted: 't-run',
  StepSucceeded: 't-ok',
  StepFailed: 't-fail',
  RetryScheduled: 't-warn',
  StepResultRefused: 't-warn',
  TimerStarted: 't-run',
  TimerFired: 't-ok',
  EventReceived: 't-run',
  EventConsumed: 't-ok',
  ExecutionRedriven: 't-warn',
  CancelRequested: 't-warn',
  BudgetExceeded: 't-fail',
  CompensationStarted: 't-comp',
  CompensationSucceeded: 't-comp',
  CompensationFailed: 't-fail',
  ExecutionSucceeded: 't-ok',
  ExecutionFailed: 't-fail',
  ExecutionCancelled: 't-warn',
};

interface Row {
  tr: HTMLTableRowElement;
  /** The states the event concerns: its step, and for a compensation the step it undoes. */
  steps: string[];
}

export interface TimelineElements {
  tbody: HTMLTableSectionElement;
  /** The note under the table ("No events yet.", "Showing the first …"). */
  empty: HTMLElement;
  /** Where "showing events of X [show all]" goes. */
  filterNote: HTMLElement;
}

export class TimelineView {
  private readonly rows: Row[] = [];
  private rendered = 0;
  private filter: string | null = null;
  private readonly durations: EventDurations;

  /** `startedAt` is the execution's start, for the "+offset" of each row. */
  constructor(
    private readonly el: TimelineElements,
    private readonly startedAt: () => number | null,
    private readonly onClearFilter: () => void,
  ) {
    this.durations = new EventDurations(startedAt);
  }

  /** Appends the rows of the events not drawn yet; `events` is the whole history so far, in order. */
  render(events: readonly ApiHistoryEvent[]): void {
    let origin = this.startedAt();
    while (this.rendered < events.length) {
      const ev = events[this.rendered++]!;
      const ts = toMs(ev.timestamp);
      const duration = this.durations.measure(ev, ts);
      if (this.rendered > MAX_ROWS) continue;
      if (origin === null && ev.type === HistoryEventType.ExecutionStarted) origin = ts;
      const steps = typeof ev.step === 'string' ? [ev.step] : [];
      if (typeof ev.data?.for === 'string') steps.push(ev.data.for);
      const tr = this.row(ev, ts, origin, duration);
      if (this.filter !== null && !steps.includes(this.filter)) tr.className = 'hidden';
      this.rows.push({ tr, steps });
      this.el.tbody.appendChild(tr);
    }
    const { empty } = this.el;
    if (events.length > MAX_ROWS) {
      empty.className = 'empty';
      empty.textContent = `Showing the first ${MAX_ROWS} of ${events.length} events.`;
    } else if (events.length) {
      empty.className = 'empty hidden';
    } else {
      empty.className = 'empty';
      empty.textContent = 'No events yet.';
    }
  }

  /** Shows only the events of `state` (null: all of them). */
  setFilter(state: string | null): void {
    this.filter = state;
    const note = this.el.filterNote;
    clear(note);
    if (state !== null) {
      const showAll = h('button', { type: 'button', class: 'expander', text: 'show all' });
      showAll.addEventListener('click', () => this.onClearFilter());
      note.append(`showing events of ${state} `, showAll);
    }
    for (const r of this.rows) r.tr.className = state === null || r.steps.includes(state) ? '' : 'hidden';
  }

  private row(ev: ApiHistoryEvent, ts: number | null, origin: number | null, duration: number | null): HTMLTableRowElement {
    const type = typeof ev.type === 'string' ? ev.type : 'Unknown';
    const stepCell = h('td', { class: 'step' });
    if (typeof ev.step === 'string') stepCell.appendChild(document.createTextNode(ev.step));
    if (typeof ev.attempt === 'number') stepCell.appendChild(h('span', { class: 'attempt', text: `attempt ${ev.attempt}` }));
    return h('tr', { 'data-seq': ev.seq, 'data-type': type, 'data-step': typeof ev.step === 'string' ? ev.step : null }, [
      h('td', { class: 'num', text: String(ev.seq) }),
      h('td', { class: 'when' }, [
        fmtClock(ts),
        h('span', { class: 'offset', text: origin !== null && ts !== null ? `+${fmtDuration(ts - origin)}` : '' }),
      ]),
      h('td', { class: `type ${EVENT_CLASS[type as HistoryEventType] ?? ''}`, text: type }),
      stepCell,
      h('td', { class: 'num', text: duration === null ? '' : fmtDuration(duration) }),
      details(ev, ts),
    ]);
  }
}

function keyValue(key: string, value: Node | string): HTMLElement {
  return h('div', { class: 'kv' }, [h('span', { class: 'k', text: key }), value]);
}

/** The event's data: errors as one line, due times as clock times, long values behind an expander. */
function details(ev: ApiHistoryEvent, ts: number | null): HTMLTableCellElement {
  const cell = h('td', { class: 'details' });
  const data = ev.data && typeof ev.data === 'object' ? ev.data : null;
  if (!data) return cell;
  for (const [key, value] of Object.entries(data)) {
    // The step key repeats the step (or, for compensations, the step undone): skip the echo.
    if (key === 'key' && (value === ev.step || value === data.for)) continue;
    if (key === 'error' && value && typeof value === 'object') {
      cell.appendChild(keyValue('error', h('span', { class: 'error-text', text: errorText(value) })));
    } else if (key === 'dueAt') {
      const due = toMs(value);
      cell.appendChild(keyValue('due', due === null ? String(value) : fmtClock(due) + (ts !== null ? ` (+${fmtDuration(due - ts)})` : '')));
    } else if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      const text = value === null ? 'null' : String(value);
      cell.appendChild(keyValue(key, text.length > PREVIEW_CHARS ? jsonBlock(value) : text));
    } else {
      cell.appendChild(keyValue(key, jsonBlock(value)));
    }
  }
  return cell;
}
