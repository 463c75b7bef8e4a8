import { DefinitionError, StepErrorCodes, TerminalError } from '../core/errors.js';
import type { StepContext } from '../dsl/definition.js';
import { HttpFunctionError, resultOf } from './http-answer.js';
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';

/**
 * A task handler that calls a function over HTTP (docs/handlers.md#http-functions). The engine
 * runs it like any handler: its AbortSignal (the step's timeoutMs, a cancel) aborts the request,
 * and what it throws is matched by the step's retry and catch rules.
 */

export interface HttpFunctionOptions {
  /**
   * Signs every request (docs/handlers.md#signatures); the function verifies with the same secret.
   * At least 16 characters; one secret per function, so one leaked secret forges calls to one function.
   */
  secret: string;
  /** Extra request headers (an API gateway's key, ...). The content type, signature and traceparent are Stepwise's. */
  headers?: Record<string, string>;
  /** A 2xx body over this fails the step with Stepwise.OutputTooLarge, without reading further. @default 262144 (the engine's maxOutputBytes) */
  maxResponseBytes?: number;
  /** A longer Retry-After is cut to this, so one answer cannot park a step for days. @default 3600000 */
  maxRetryAfterMs?: number;
}

/** An HTTP function handler. `where` (the function's origin) is what history shows as `data.worker`. */
export type HttpFunction<In = unknown, Out = unknown> = ((input: In, ctx: StepContext) => Promise<Out>) & {
  readonly kind: 'http';
  readonly url: string;
  readonly where: string;
};

/**
 * What the engine may add to the context for remote handlers; read when present.
 * `deadline`: when the step's timeoutMs runs out, in ms since the epoch.
 * `traceparent`: the W3C trace context of the execution, passed on to the function (`trace`, the
 * attempt's span, when tracing is on).
 */
type RemoteContext = StepContext & { deadline?: number; traceparent?: string };

export const HTTP_FUNCTION_DEFAULTS = {
  maxResponseBytes: 256 * 1024,
  maxRetryAfterMs: 3_600_000,
} as const;

const MIN_SECRET_LENGTH = 16;
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'accept', SIGNATURE_HEADER, 'traceparent', 'host']);
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * A handler that POSTs `{ input, context }` to `url` and returns the JSON it answers. Checked when
 * built: a bad URL, a short secret or a reserved header throws DefinitionError at once.
 */
export function http<In = unknown, Out = unknown>(url: string | URL, options: HttpFunctionOptions): HttpFunction<In, Out> {
  const target = parseTarget(url);
  const secret = options?.secret;
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
    throw new DefinitionError(`http('${target.href}'): options.secret must be a string of at least ${MIN_SECRET_LENGTH} characters; the function verifies requests with it`);
  }
  const extraHeaders = checkHeaders(target.href, options.headers ?? {});
  const maxResponseBytes = positive(target.href, 'maxResponseBytes', options.maxResponseBytes ?? HTTP_FUNCTION_DEFAULTS.maxResponseBytes);
  const maxRetryAfterMs = positive(target.href, 'maxRetryAfterMs', options.maxRetryAfterMs ?? HTTP_FUNCTION_DEFAULTS.maxRetryAfterMs);
  const where = target.origin;

  const call = async (input: In, ctx: StepContext): Promise<Out> => {
    const remote = ctx as RemoteContext;
    const body = JSON.stringify({ input: input ?? null, context: wireContext(remote) });
    const headers: Record<string, string> = {
      ...extraHeaders,
      'content-type': 'application/json',
      accept: 'application/json',
      [SIGNATURE_HEADER]: signatureHeader(body, secret),
    };
    // The attempt's own span when tracing is on (the function's spans become its children), else the execution's.
    const traceparent = remote.trace?.traceparent ?? remote.traceparent;
    if (typeof traceparent === 'string' && TRACEPARENT.test(traceparent)) headers.traceparent = traceparent;
    // A private controller so that the request can also be dropped when its body runs over the limit.
    const local = new AbortController();
    const forward = () => local.abort(ctx.signal.reason);
    if (ctx.signal.aborted) forward();
    else ctx.signal.addEventListener('abort', forward, { once: true });
    try {
      const response = await fetch(target, { method: 'POST', headers, body, redirect: 'manual', signal: local.signal });
      return (await resultOf(response, { where, maxResponseBytes, maxRetryAfterMs, now: Date.now() })) as Out;
    } catch (error) {
      if (error instanceof HttpFunctionError || error instanceof TerminalError) throw error;
      // Timeout or cancel: the engine has already settled the attempt; the reason is all there is to say.
      if (ctx.signal.aborted) throw ctx.signal.reason ?? error;
      throw new HttpFunctionError(StepErrorCodes.HttpConnectionFailed, `could not call ${where}: ${describeNetworkError(error)}`);
    } finally {
      ctx.signal.removeEventListener('abort', forward);
      local.abort();
    }
  };
  return Object.defineProperties(call, {
    kind: { value: 'http', enumerable: true },
    url: { value: target.href, enumerable: true },
    where: { value: where, enumerable: true },
  }) as HttpFunction<In, Out>;
}

/** The `context` object of the request body; its shape is the documented wire format. */
function wireContext(ctx: RemoteContext): Record<string, unknown> {
  return {
    executionId: ctx.executionId,
    workflow: ctx.workflow,
    step: ctx.step,
    attempt: ctx.attempt,
    idempotencyKey: ctx.idempotencyKey,
    deadline: typeof ctx.deadline === 'number' && Number.isFinite(ctx.deadline) ? new Date(ctx.deadline).toISOString() : null,
    ...(ctx.index !== undefined ? { index: ctx.index } : {}),
  };
}

function parseTarget(url: string | URL): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new DefinitionError(`http(${JSON.stringify(String(url))}): not an absolute URL`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new DefinitionError(`http('${target.href}'): the URL must be http: or https:`);
  }
  if (target.username || target.password) {
    throw new DefinitionError(`http('${target.origin}…'): credentials in the URL would be stored and shown; pass them in options.headers`);
  }
  return target;
}

function checkHeaders(href: string, headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new DefinitionError(`http('${href}'): header '${name}' is set by Stepwise`);
    if (typeof value !== 'string') throw new DefinitionError(`http('${href}'): header '${name}' must be a string`);
    out[name] = value;
  }
  return out;
}

function positive(href: string, name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new DefinitionError(`http('${href}'): ${name} must be a positive number`);
  return value;
}

/** fetch's TypeError says only "fetch failed"; the cause names the socket problem. */
function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const parts = [cause?.code, cause?.message, (error as Error)?.message].filter((p) => typeof p === 'string' && p.length > 0);
  return parts.length > 0 ? [...new Set(parts)].join(': ') : String(error);
}
