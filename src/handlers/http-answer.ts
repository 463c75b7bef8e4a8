import { StepErrorCodes, TerminalError } from '../core/errors.js';

/**
 * Turns an HTTP function's response into the step's result: the parsed JSON output, or a thrown
 * error whose code retry and catch rules match (docs/handlers.md#http-functions). The body is read
 * as a stream and reading stops past the limit, so a huge answer costs at most the limit in memory.
 */

/** A retryable failure of an HTTP function; `retryAfterMs` is its Retry-After, when it sent one. */
export class HttpFunctionError extends Error {
  override readonly name = 'HttpFunctionError';
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface AnswerLimits {
  /** Where the answer came from, for messages. */
  where: string;
  maxResponseBytes: number;
  maxRetryAfterMs: number;
  /** Wall-clock now, for a Retry-After given as a date. */
  now: number;
}

/** An error body is only looked at up to this size; a bigger one counts as undocumented. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const SNIPPET_CHARS = 120;

/** The step's output for a 2xx answer; throws the step's failure for anything else. */
export async function resultOf(response: Response, limits: AnswerLimits): Promise<unknown> {
  const { status } = response;
  if (status >= 200 && status <= 299) {
    const body = await readLimited(response, limits.maxResponseBytes);
    if (body === undefined) {
      throw new HttpFunctionError(StepErrorCodes.OutputTooLarge, `${limits.where} answered ${status} with a body over the limit of ${limits.maxResponseBytes} bytes (maxResponseBytes)`);
    }
    const text = body.toString('utf8');
    if (text.trim() === '') return null;
    try {
      return JSON.parse(text);
    } catch {
      const type = response.headers.get('content-type') ?? 'no content-type';
      throw new HttpFunctionError(StepErrorCodes.HttpBadResponse, `${limits.where} answered ${status} with a body that is not JSON (${type}): ${snippet(text)}`);
    }
  }
  const body = await readLimited(response, Math.min(MAX_ERROR_BODY_BYTES, limits.maxResponseBytes));
  const documented = body === undefined ? undefined : documentedError(body);
  const message = documented?.message ?? `${limits.where} answered ${status}${response.statusText ? ` ${response.statusText}` : ''}`;
  if (status === 429 || (status >= 500 && status <= 599)) {
    const code = documented?.name ?? (status === 429 ? StepErrorCodes.HttpRateLimited : StepErrorCodes.HttpServerError);
    throw new HttpFunctionError(code, message, retryAfter(response.headers.get('retry-after'), limits));
  }
  if (status >= 400 && status <= 499) {
    throw new TerminalError(documented?.name ?? StepErrorCodes.HttpClientError, message);
  }
  // 1xx leftovers and 3xx: redirects are not followed (the signed call names one URL), and
  // retrying will not change the answer, but a misrouted deploy may heal, so it stays retryable.
  throw new HttpFunctionError(StepErrorCodes.HttpBadResponse, `${limits.where} answered ${status}, which Stepwise does not follow; point the step at the function's final URL`);
}

/**
 * The body, or undefined when it is over `maxBytes`: a declared Content-Length over the limit is
 * refused before reading, and a streamed body is cancelled as soon as it passes the limit.
 */
export async function readLimited(response: Response, maxBytes: number): Promise<Buffer | undefined> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    return undefined;
  }
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, total);
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
}

/** `{ error: { name, message } }` with a non-empty string name, else undefined. */
function documentedError(body: Buffer): { name: string; message?: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const error = (parsed as { error?: unknown } | null)?.error as { name?: unknown; message?: unknown } | null | undefined;
  if (typeof error !== 'object' || error === null) return undefined;
  if (typeof error.name !== 'string' || error.name.trim() === '') return undefined;
  return { name: error.name.slice(0, 200), ...(typeof error.message === 'string' ? { message: error.message } : {}) };
}

/** Retry-After as ms from now (delta-seconds or an HTTP date), capped; undefined when absent or unreadable. */
export function retryAfter(header: string | null, limits: Pick<AnswerLimits, 'maxRetryAfterMs' | 'now'>): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  let ms: number;
  if (/^\d+$/.test(value)) ms = Number(value) * 1000;
  else {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return undefined;
    ms = at - limits.now;
  }
  return Math.min(limits.maxRetryAfterMs, Math.max(0, ms));
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}…` : flat);
}
