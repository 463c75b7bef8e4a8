/** The execution's header: status badge, workflow and version, times, and its input, output and error. */
import { byId, clear, h } from '../dom.js';
import { errorText, fmtDateTime, fmtDuration, fmtVersion, toMs } from '../format.js';
import { isEnded } from '../status.js';
import type { ApiExecution } from '../types.js';
import { jsonBlock } from './json-block.js';
import { statusBadge } from './badge.js';

export class ExecutionHeader {
  /** What the input/output/error boxes show; they are rebuilt only when it changes (expanders stay open). */
  private ioKey = '';

  constructor(private readonly id: string) {}

  /** `graphVersion` is the version of the definition the graph shows, when it has one. */
  render(x: ApiExecution, graphVersion: string | undefined, eventCount: number): void {
    const status = typeof x.status === 'string' ? x.status : 'UNKNOWN';
    const ended = isEnded(status);
    document.title = `${this.id} · ${status} · Stepwise`;
    const sub = byId('exec-sub');
    clear(sub);
    sub.append(statusBadge(status, { id: 'exec-status', 'data-status': status }), '  workflow ', h('strong', { text: x.workflow }));
    if (x.version !== undefined) sub.append(' · version ', h('span', { class: 'version', title: x.version, text: fmtVersion(x.version) }));
    if (graphVersion !== undefined && x.version !== undefined && graphVersion !== x.version) {
      sub.appendChild(
        h('span', { class: 'version-warn', text: ` · the graph shows the registered version ${fmtVersion(graphVersion)}, not the one this execution ran` }),
      );
    }

    const started = toMs(x.startedAt);
    const endedAt = toMs(x.endedAt);
    const end = endedAt ?? (ended ? null : Date.now());
    const duration = started === null || end === null ? null : end - started;
    const meta = byId('exec-meta');
    clear(meta);
    const rows: Array<[string, string]> = [
      ['Started', fmtDateTime(started)],
      ['Ended', endedAt !== null ? fmtDateTime(endedAt) : ended ? '—' : 'still running'],
      ['Duration', duration === null ? '—' : fmtDuration(duration) + (endedAt === null && !ended ? ' …' : '')],
      ['Events', String(eventCount)],
    ];
    for (const [k, v] of rows) meta.appendChild(h('div', {}, [h('dt', { text: k }), h('dd', { text: v })]));

    const ioKey = `${status}|${x.output !== undefined}|${x.error !== undefined}`;
    if (ioKey === this.ioKey) return;
    this.ioKey = ioKey;
    const io = byId('exec-io');
    clear(io);
    io.appendChild(h('section', { id: 'exec-input' }, [h('h3', { text: 'Input' }), jsonBlock(x.input === undefined ? null : x.input)]));
    if (x.output !== undefined) io.appendChild(h('section', { id: 'exec-output' }, [h('h3', { text: 'Output' }), jsonBlock(x.output)]));
    if (x.error !== undefined && x.error !== null) {
      io.appendChild(h('section', { id: 'exec-error' }, [h('h3', { text: 'Error' }), h('div', { class: 'error-text', text: errorText(x.error) })]));
    }
  }
}
