/** Plain-text tables for people; scripts use --json. Control characters never reach the terminal. */
import type { ApiHistoryEvent } from '../api/present.js';

export interface ApiExecutionItem {
  id: string;
  workflow: string;
  version?: string;
  status: string;
  error?: { code: string; message: string };
  startedAt: string;
  endedAt?: string;
}

/** Replaces control characters (escape sequences included) with spaces and clips to `max`. */
export function clean(text: string, max = 100): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

function compact(value: unknown, max = 80): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return clean(text, max);
}

function dueAt(value: unknown): string {
  if (typeof value === 'number') return new Date(value).toISOString();
  return typeof value === 'string' ? value : compact(value);
}

/** A one-line summary of what an event's data says. */
export function eventDetail(event: ApiHistoryEvent): string {
  const data = event.data ?? {};
  const error = data.error as { code?: unknown; message?: unknown } | undefined;
  if (error && typeof error === 'object') return clean(`${String(error.code ?? '')}: ${String(error.message ?? '')}`);
  switch (event.type) {
    case 'RetryScheduled':
    case 'TimerStarted':
      return data.dueAt !== undefined ? `due ${dueAt(data.dueAt)}` : compact(data);
    case 'StepStarted':
      return data.worker !== undefined ? clean(`worker ${String(data.worker)}`) : '';
    case 'StepSucceeded':
    case 'ExecutionSucceeded':
      return data.output !== undefined ? `output ${compact(data.output)}` : '';
    case 'CompensationStarted':
    case 'CompensationSucceeded':
    case 'CompensationFailed':
      return data.for !== undefined ? clean(`for ${String(data.for)}`) : '';
    case 'ExecutionStarted':
      return data.version !== undefined ? clean(`version ${String(data.version)}`) : '';
    default:
      return Object.keys(data).length > 0 ? compact(data) : '';
  }
}

export function historyTable(events: ApiHistoryEvent[]): string {
  return table(
    ['SEQ', 'TIME', 'TYPE', 'STEP', 'ATTEMPT', 'DETAIL'],
    events.map((e) => [
      String(e.seq),
      clean(e.timestamp, 30),
      clean(e.type, 40),
      clean(e.step ?? '', 40),
      e.attempt === undefined ? '' : String(e.attempt),
      eventDetail(e),
    ]),
  );
}

export function executionsTable(items: ApiExecutionItem[]): string {
  return table(
    ['ID', 'WORKFLOW', 'STATUS', 'STARTED', 'ENDED', 'ERROR'],
    items.map((e) => [
      clean(e.id, 130),
      clean(e.workflow, 64),
      clean(e.status, 12),
      clean(e.startedAt, 30),
      clean(e.endedAt ?? '', 30),
      e.error ? clean(`${e.error.code}: ${e.error.message}`, 80) : '',
    ]),
  );
}
