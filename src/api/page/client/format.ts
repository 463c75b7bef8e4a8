/** Text formatting for the page: times, durations, sizes, versions, errors. Pure: no DOM. */

/** Milliseconds since the epoch from an ISO string or a number; null when it is neither. */
export function toMs(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v) {
    const parsed = Date.parse(v);
    if (!Number.isNaN(parsed)) return parsed;
    const num = Number(v);
    if (Number.isFinite(num)) return num;
  }
  return null;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `2025-01-31 14:05:09` in the browser's time zone. */
export function fmtDateTime(ms: number | null): string {
  if (ms === null) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `14:05:09.123` in the browser's time zone. */
export function fmtClock(ms: number | null): string {
  if (ms === null) return '—';
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** `850 ms`, `2.35 s`, `12.3 s`, `4m 05s`, `2h 03m`, `3d 4h`. */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const sec = Math.floor(ms / 1000);
  if (sec < 3600) return `${Math.floor(sec / 60)}m ${pad(sec % 60)}s`;
  if (sec < 86_400) return `${Math.floor(sec / 3600)}h ${pad(Math.floor(sec / 60) % 60)}m`;
  return `${Math.floor(sec / 86_400)}d ${Math.floor(sec / 3600) % 24}h`;
}

export function fmtSize(chars: number): string {
  if (chars < 1024) return `${chars} chars`;
  if (chars < 1_048_576) return `${(chars / 1024).toFixed(1)} KB`;
  return `${(chars / 1_048_576).toFixed(1)} MB`;
}

/** An explicit version number as `v3`; a content hash cut to 8 characters. */
export function fmtVersion(v: unknown): string {
  if (v === undefined || v === null || v === '') return '';
  const text = String(v);
  return /^\d+$/.test(text) ? `v${text}` : text.slice(0, 8);
}

/** `text` cut to `max` characters, ending in an ellipsis when cut. */
export function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

/** JSON of any value; a value JSON cannot hold (a cycle, a BigInt) falls back to String(). */
export function safeStringify(v: unknown, pretty: boolean): string {
  try {
    const text = pretty ? JSON.stringify(v, null, 2) : JSON.stringify(v);
    return text === undefined ? String(v) : text;
  } catch {
    return String(v);
  }
}

/** A stored error (`{ code, message }`) as one line: `code: message`. */
export function errorText(e: unknown): string {
  if (!e || typeof e !== 'object') return e === undefined ? '' : String(e);
  const { code, message } = e as { code?: unknown; message?: unknown };
  const c = typeof code === 'string' ? code : '';
  const m = typeof message === 'string' ? message : '';
  return c && m ? `${c}: ${m}` : c || m || safeStringify(e, false);
}

/** The `code` of a stored error, if it has one. */
export function errorCode(e: unknown): string | undefined {
  const code = e && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}
