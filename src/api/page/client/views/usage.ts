/**
 * The execution's usage (GET /v1/executions/:id/usage): state transitions, step attempts, retries,
 * handler time, history and payload bytes and the estimated cost, as the server counts them from
 * the history. The server reads the whole history for it, so while the execution runs it is asked
 * at most every few seconds, and only when the history grew; once more after the end.
 */
import { apiGet } from '../api.js';
import { clear, h } from '../dom.js';
import { fmtDuration, fmtSize } from '../format.js';
import type { UsageReport } from '../types.js';

const REFRESH_MS = 5000;

/** Bytes: fmtSize's KB and MB, with "B" rather than its "chars" below a kilobyte. */
const bytes = (n: number) => (n < 1024 ? `${n} B` : fmtSize(n));

const FIELDS: Array<{ key: keyof UsageReport['usage']; label: string; show: (n: number) => string }> = [
  { key: 'stateTransitions', label: 'Transitions', show: (n) => n.toLocaleString('en-US') },
  { key: 'stepAttempts', label: 'Step attempts', show: (n) => n.toLocaleString('en-US') },
  { key: 'retries', label: 'Retries', show: (n) => n.toLocaleString('en-US') },
  { key: 'handlerMs', label: 'Handler time', show: (n) => fmtDuration(n) },
  { key: 'historyBytes', label: 'History', show: bytes },
  { key: 'payloadBytes', label: 'Payloads', show: bytes },
];

export class UsageView {
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private fetchedEvents = -1;

  constructor(private readonly el: HTMLElement, private readonly path: string) {}

  /** Asks for the usage again if the history grew (at most every REFRESH_MS while it runs). */
  async refresh(eventCount: number, ended: boolean): Promise<void> {
    if (eventCount === this.fetchedEvents) return;
    if (!ended && Date.now() - this.fetchedAt < REFRESH_MS) return;
    const report = await apiGet<UsageReport>(this.path);
    this.fetchedAt = Date.now();
    this.fetchedEvents = eventCount;
    this.render(report);
  }

  private render(report: UsageReport): void {
    clear(this.el);
    // `data-value` holds the number as the API gave it; the text is for reading.
    for (const f of FIELDS) {
      const n = report.usage[f.key];
      this.el.appendChild(h('div', { 'data-usage': f.key }, [h('dt', { text: f.label }), h('dd', { text: f.show(n), 'data-value': String(n) })]));
    }
    const { amount, currency } = report.cost;
    this.el.appendChild(h('div', { 'data-usage': 'cost', title: 'Estimated from the server\'s price table (docs/observability.md)' }, [
      h('dt', { text: 'Estimated cost' }),
      h('dd', { text: `${amount.toFixed(6)} ${currency}`, 'data-value': String(amount), 'data-currency': currency }),
    ]));
  }
}
