/** Turns engine values into their API shape: ISO-8601 timestamps, no internal fields. */
import type { HistoryEvent } from '../core/events.js';
import type { ExecutionSummary } from '../core/store.js';

// The last time formatted: a history page's events come in commits that share one timestamp
// (~100 a commit for a map), and formatting was 9% of a history read's CPU (bench/profile.ts history).
let lastMs = Number.NaN;
let lastIso = '';

export function iso(ms: number | string | Date | undefined): string | undefined {
  if (ms === undefined || ms === null) return undefined;
  if (typeof ms === 'string') return ms;
  if (typeof ms === 'number') {
    if (ms === lastMs) return lastIso;
    if (!Number.isFinite(ms)) return undefined;
  }
  const date = ms instanceof Date ? ms : new Date(ms);
  if (!Number.isFinite(date.getTime())) return undefined;
  const text = date.toISOString();
  if (typeof ms === 'number') {
    lastMs = ms;
    lastIso = text;
  }
  return text;
}

export interface ApiExecution {
  id: string;
  workflow: string;
  version: string;
  status: string;
  input?: unknown;
  output?: unknown;
  error?: { code: string; message: string };
  startedAt: string;
  endedAt?: string;
  /** The execution whose invoke state started this one. */
  parentId?: string;
}

export function presentExecution(e: ExecutionSummary, opts: { withData?: boolean } = {}): ApiExecution {
  const withData = opts.withData ?? true;
  const out: ApiExecution = {
    id: e.id,
    workflow: e.workflow,
    version: e.version,
    status: e.status,
    startedAt: iso(e.startedAt) ?? '',
  };
  if (withData) {
    out.input = e.input === undefined ? null : e.input;
    if (e.output !== undefined) out.output = e.output;
  }
  if (e.error) out.error = { code: String(e.error.code), message: String(e.error.message) };
  const ended = iso(e.endedAt);
  if (ended !== undefined) out.endedAt = ended;
  if (e.parentId !== undefined) out.parentId = e.parentId;
  return out;
}

export function presentStarted(e: ExecutionSummary): { id: string; workflow: string; version: string; status: string; startedAt: string } {
  return { id: e.id, workflow: e.workflow, version: e.version, status: e.status, startedAt: iso(e.startedAt) ?? '' };
}

export interface ApiHistoryEvent {
  seq: number;
  type: string;
  timestamp: string;
  step?: string;
  attempt?: number;
  data?: Record<string, unknown>;
}

export function presentEvent(e: HistoryEvent): ApiHistoryEvent {
  const out: ApiHistoryEvent = { seq: e.seq, type: e.type, timestamp: iso(e.timestamp) ?? '' };
  if (e.step !== undefined) out.step = e.step;
  if (e.attempt !== undefined) out.attempt = e.attempt;
  if (e.data !== undefined) out.data = e.data;
  return out;
}
