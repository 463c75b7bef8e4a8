/**
 * The list page (`/`): recent executions, newest first, refreshed every few seconds while the
 * first page is shown and the tab is visible; "Load more" pages on (and stops the refresh).
 */
import { apiGet, enc, isUnauthorized, messageOf } from '../api.js';
import { byId, h } from '../dom.js';
import { fmtClock, fmtDateTime, fmtDuration, fmtVersion, toMs } from '../format.js';
import { isEnded } from '../status.js';
import type { ApiExecution, ExecutionListPage } from '../types.js';
import { askForToken, banner, live } from './banner.js';
import { statusBadge } from './badge.js';

const LIST_POLL_MS = 3000;
const PAGE_SIZE = 50;

interface Row {
  tr: HTMLTableRowElement;
  durationCell: HTMLTableCellElement;
  started: number | null;
  ended: number | null;
  running: boolean;
}

export function listPage(): void {
  const tbody = byId('executions').querySelector('tbody')!;
  const empty = byId('executions-empty');
  const more = byId('more');
  const filter = byId('status-filter') as HTMLSelectElement;
  let nextCursor: string | null = null;
  let pagedBeyondFirst = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let rows: Row[] = [];

  const row = (x: ApiExecution): HTMLTableRowElement => {
    const status = typeof x.status === 'string' ? x.status : 'UNKNOWN';
    const durationCell = h('td', { class: 'num', text: '' });
    const tr = h('tr', { 'data-id': x.id, 'data-status': status }, [
      h('td', { class: 'id' }, [h('a', { href: `/executions/${enc(x.id)}`, text: x.id })]),
      h('td', {}, [`${x.workflow} `, h('span', { class: 'version', title: x.version, text: fmtVersion(x.version) })]),
      h('td', {}, [statusBadge(status)]),
      h('td', { class: 'nowrap', text: fmtDateTime(toMs(x.startedAt)) }),
      durationCell,
    ]);
    rows.push({ tr, durationCell, started: toMs(x.startedAt), ended: toMs(x.endedAt), running: !isEnded(status) });
    return tr;
  };

  const tickDurations = () => {
    const now = Date.now();
    for (const r of rows) {
      if (r.started === null) {
        r.durationCell.textContent = '—';
        continue;
      }
      const end = r.ended ?? (r.running ? now : null);
      r.durationCell.textContent = end === null ? '—' : fmtDuration(end - r.started) + (r.running ? ' …' : '');
    }
  };

  /** Loads the first page (reset) or the next one; an unauthorized answer is rethrown to stop polling. */
  const load = async (reset: boolean): Promise<void> => {
    let q = `/v1/executions?limit=${PAGE_SIZE}`;
    if (filter.value) q += `&status=${enc(filter.value)}`;
    if (!reset && nextCursor) q += `&cursor=${enc(nextCursor)}`;
    try {
      const body = await apiGet<ExecutionListPage>(q);
      if (reset) {
        tbody.replaceChildren();
        rows = [];
        pagedBeyondFirst = false;
      } else pagedBeyondFirst = true;
      for (const x of body.items ?? []) if (x && typeof x.id === 'string') tbody.appendChild(row(x));
      nextCursor = typeof body.nextCursor === 'string' ? body.nextCursor : null;
      more.className = nextCursor ? 'more' : 'more hidden';
      empty.className = rows.length ? 'empty hidden' : 'empty';
      tickDurations();
      banner(null);
      live('on', `updated ${fmtClock(Date.now()).slice(0, 8)}`);
    } catch (e) {
      if (isUnauthorized(e)) {
        askForToken();
        throw e;
      }
      banner('error', `Could not load executions: ${messageOf(e)} (retrying)`);
      live('error', 'offline');
    }
  };

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (pagedBeyondFirst || document.hidden) {
        tickDurations();
        schedule();
        return;
      }
      void load(true).then(schedule, stopOnUnauthorized);
    }, LIST_POLL_MS);
  };
  const stopOnUnauthorized = (e: unknown) => {
    if (!isUnauthorized(e)) schedule();
  };

  more.addEventListener('click', () => void load(false).catch(() => undefined));
  filter.addEventListener('change', () => void load(true).catch(() => undefined));
  void load(true).then(schedule, stopOnUnauthorized);
}
