/**
 * One place that turns anything thrown while serving a request into `{ error: { code, message } }`
 * with the catalog's status. Nothing here ever puts a stack trace or an internal message for an
 * unknown error into a response.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, StepwiseError, type ErrorCode } from '../core/errors.js';
import { validationMessage, type AjvError } from '../core/validation-message.js';

export interface ApiError {
  status: number;
  code: ErrorCode;
  message: string;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function apiError(code: ErrorCode, message: string): ApiError {
  return { status: ErrorCodes[code].status, code, message };
}

export function errorBody(error: ApiError): ErrorBody {
  return { error: { code: error.code, message: error.message } };
}

/** An error to throw from a handler or hook; the error handler sends it as is. */
export function httpError(code: ErrorCode, message: string): StepwiseError {
  return new StepwiseError(code, message);
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_BAD_URL: 'VALIDATION_FAILED',
  FST_ERR_MAX_PARAM_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

const FASTIFY_MESSAGES: Partial<Record<string, string>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'the request body must be application/json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the request body does not match its Content-Length',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the request body is empty; send a JSON value',
  FST_ERR_CTP_INVALID_JSON_BODY: 'the request body is not valid JSON',
  FST_ERR_BAD_URL: 'the URL is not valid',
  FST_ERR_MAX_PARAM_LENGTH: 'a path parameter is too long',
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: 'the request needs a Content-Type',
};

/** What a client is told about a store fault; the log has the driver's message. */
export const STORE_UNAVAILABLE_MESSAGE = 'the store is unavailable; retry later';

/** The status-only fallback for 4xx errors from plugins that carry no catalog code. */
const BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHORIZED',
  404: 'ROUTE_NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'ENGINE_STOPPING',
};

/**
 * Classifies `thrown`. `internal` is true when the error is unexpected (a bug or an outage):
 * the caller logs it and the response says only that something went wrong.
 */
export function classifyError(thrown: unknown, bodyLimit: number): ApiError & { internal: boolean } {
  if (thrown instanceof StepwiseError && thrown.code in ErrorCodes) {
    const internal = thrown.status >= 500;
    // ENGINE_STOPPING's message is safe to show; INTERNAL never shows its message, and
    // STORE_UNAVAILABLE's carries the driver's (host:port, file paths): both get a generic one
    // (the caller logs the original, since both are `internal`).
    const message =
      thrown.code === 'INTERNAL' ? 'internal error' : thrown.code === 'STORE_UNAVAILABLE' ? STORE_UNAVAILABLE_MESSAGE : thrown.message;
    return { ...apiError(thrown.code, message), internal };
  }
  const err = thrown as Partial<FastifyError> & { validation?: AjvError[]; validationContext?: string };
  if (err && Array.isArray(err.validation)) {
    return { ...apiError('VALIDATION_FAILED', validationMessage(err.validationContext, err.validation)), internal: false };
  }
  const code = typeof err?.code === 'string' ? err.code : undefined;
  if (code && FASTIFY_CODES[code]) {
    const mapped = FASTIFY_CODES[code];
    const message =
      code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `the request body is over the limit of ${bodyLimit} bytes` : (FASTIFY_MESSAGES[code] ?? ErrorCodes[mapped].summary);
    return { ...apiError(mapped, message), internal: false };
  }
  if (thrown instanceof SyntaxError) {
    return { ...apiError('MALFORMED_JSON', 'the request body is not valid JSON'), internal: false };
  }
  const status = typeof err?.statusCode === 'number' ? err.statusCode : undefined;
  if (status === 429) {
    return { ...apiError('RATE_LIMITED', typeof err.message === 'string' ? err.message : 'too many requests'), internal: false };
  }
  if (status !== undefined && status >= 400 && status < 500) {
    const mapped = BY_STATUS[status] ?? 'VALIDATION_FAILED';
    return { ...apiError(mapped, ErrorCodes[mapped].summary), internal: false };
  }
  return { ...apiError('INTERNAL', 'internal error'), internal: true };
}

export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply.code(error.status).type('application/json; charset=utf-8').send(errorBody(error));
}

/** Logs an unexpected error without the request's headers (the Authorization header never reaches a log). */
/** Masks secret-looking query parameters (the history page takes its token from `?token=`). */
/** Masks credentials in a URL's query, matching keys as fastify decodes them (`%74oken` is `token`). */
export function redactUrl(url: string): string {
  // A task token in the path answers the task: whoever reads the log must not be able to.
  const path = url.replace(/(\/v1\/tasks\/)[^/?#]+/g, '$1[redacted]');
  return path.replace(/([?&])([^=&#]*)=([^&#]*)/g, (whole, sep: string, key: string) => {
    let decoded = key;
    try {
      decoded = decodeURIComponent(key.replace(/\+/g, ' '));
    } catch {
      // a malformed escape: compare the raw key
    }
    return /^(token|access_token|api_key)$/i.test(decoded) ? `${sep}${key}=[redacted]` : whole;
  });
}

export function logInternal(request: FastifyRequest, thrown: unknown): void {
  const err = thrown instanceof Error ? thrown : new Error(String(thrown));
  request.log.error({ err, method: request.method, url: redactUrl(request.url) }, 'request failed');
}
