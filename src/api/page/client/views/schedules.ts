/**
 * The schedules section of the list page: each schedule with its cron, next run and last run
 * (linked, with its status), refreshed every few seconds. Hidden while there are none, and when
 * the server serves no /v1/schedules (no schedule runner).
 */
import { ApiError, apiGet, enc, isUnauthorized } from '../api.js';
import { byId, h } from '../dom.js';
import { fmtDateTime, toMs } from '../format.js';
import { statusBadge } from './badge.js';

const SCHEDULES_POLL_MS = 5000;

interface ApiSchedule {
  id: string;
  cron: string;
  timezone: string;
  workflow: string;
  paused: boolean;
  nextFireAt?: string;
  lastRun?: { slotAt: string; executionId?: string; status?: string };
  counts?: { fired: number; skipped: number; missed: number; failed: number };
}

function row(s: ApiSchedule): HTMLTableRowElement {
  const last = s.lastRun;
  const lastCell = last
    ? [
        last.executionId ? h('a', { href: `/executions/${enc(last.executionId)}`, text: fmtDateTime(toMs(last.slotAt)) }) : fmtDateTime(toMs(last.slotAt)),
        ...(last.status ? [' ', statusBadge(last.status)] : []),
      ]
    : ['—'];
  const c = s.counts;
  return h('tr', { 'data-schedule': s.id }, [
    h('td', { class: 'id', text: s.id }),
    h('td', { class: 'nowrap', text: s.timezone === 'UTC' ? s.cron : `${s.cron} (${s.timezone})` }),
    h('td', { text: s.workflow }),
    h('td', { class: 'nowrap', text: s.paused ? 'paused' : fmtDateTime(toMs(s.nextFireAt)) }),
    h('td', { class: 'nowrap' }, lastCell),
    h('td', { class: 'num', title: 'fired / skipped / missed / failed', text: c ? `${c.fired} / ${c.skipped} / ${c.missed} / ${c.failed}` : '' }),
  ]);
}

export function schedulesSection(): void {
  const section = byId('schedules');
  const tbody = section.querySelector('tbody')!;
  const load = async (): Promise<boolean> => {
    try {
      const body = await apiGet<{ items?: ApiSchedule[] }>('/v1/schedules');
      const items = (body.items ?? []).filter((s) => s && typeof s.id === 'string');
      tbody.replaceChildren(...items.map(row));
      section.className = items.length ? 'schedules' : 'schedules hidden';
      return true;
    } catch (e) {
      section.className = 'schedules hidden';
      // No schedule runner behind this server, or no token yet (the executions list asks for it).
      return !(isUnauthorized(e) || (e instanceof ApiError && e.status === 404));
    }
  };
  const poll = () => {
    setTimeout(() => {
      if (document.hidden) return poll();
      void load().then((again) => again && poll());
    }, SCHEDULES_POLL_MS);
  };
  void load().then((again) => again && poll());
}
