/**
 * The page's only door to the server: the JSON API, with the bearer token. The token comes from
 * `?token=` once (then removed from the address bar) and lives in sessionStorage, so it never
 * stays in the URL, the history or a Referer.
 */

const TOKEN_KEY = 'stepwise.token';

/** An error answer from the API: `{ error: { code, message } }` and its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let memoryToken: string | null = null;

function storeToken(t: string): void {
  memoryToken = t || null;
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: keep it in memory for this page only.
  }
}

function readToken(): string | null {
  const params = new URLSearchParams(location.search);
  if (params.has('token')) {
    storeToken(params.get('token') ?? '');
    params.delete('token');
    const q = params.toString();
    history.replaceState(null, '', location.pathname + (q ? `?${q}` : '') + location.hash);
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? memoryToken;
  } catch {
    return memoryToken;
  }
}

let token: string | null | undefined;

/** The token this tab holds; the first call takes it out of `?token=`. */
export function currentToken(): string | null {
  if (token === undefined) token = readToken();
  return token;
}

/** Keeps a token the user typed in, for this tab. */
export function useToken(t: string): void {
  storeToken(t);
  token = t || null;
}

/**
 * Calls the API and returns the parsed JSON body; a non-2xx answer throws an ApiError. `body`,
 * when given, is sent as JSON (for actions such as POST /v1/executions/:id/cancel).
 */
export async function apiRequest<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const t = currentToken();
  if (t) headers.authorization = `Bearer ${t}`;
  const init: RequestInit = { method, headers, cache: 'no-store', credentials: 'same-origin' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!res.ok) {
    const error = parsed && typeof parsed === 'object' ? (parsed as { error?: unknown }).error : undefined;
    const info = (error && typeof error === 'object' ? error : {}) as { code?: unknown; message?: unknown };
    throw new ApiError(res.status, typeof info.code === 'string' ? info.code : '', typeof info.message === 'string' ? info.message : `HTTP ${res.status}`);
  }
  return parsed as T;
}

export function apiGet<T>(path: string): Promise<T> {
  return apiRequest<T>('GET', path);
}

/** A path segment, escaped. */
export function enc(segment: string): string {
  return encodeURIComponent(segment);
}

export function isUnauthorized(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 401 || e.status === 403);
}

/** The message of anything thrown. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
