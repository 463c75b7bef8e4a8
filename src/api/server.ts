/**
 * The HTTP API as a whole server. `buildServer` returns a fastify instance that is not listening,
 * so tests drive it with `app.inject()`; `serve()` (src/serve) listens. Everything the API does
 * lives in the `stepwise` plugin (./plugin.ts), which another fastify app can mount under a
 * prefix; this file adds what only a whole server sets: logger, timeouts, malformed-HTTP answers.
 */
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { ApiEngine } from './engine-port.js';
import { apiError, classifyError, errorBody, logInternal, redactUrl } from './http-errors.js';
import { DEFAULT_BODY_LIMIT, DEFAULT_START_RATE_LIMIT, stepwise } from './plugin.js';
import { MAX_PARAM_LENGTH } from './schemas.js';
import { JSON_CSP, applySecurityHeaders } from './security.js';
import type { Webhook } from '../triggers/webhook.js';
import type { AwsStepFunctionsMount } from '../asl/aws/plugin.js';
import type { ScheduleApi } from './schedules-route.js';
import type { MetricsSource } from './metrics-route.js';
import type { PriceTable } from '../observability/usage.js';
import { REDACT_PATHS } from '../observability/redact.js';

export { DEFAULT_BODY_LIMIT, DEFAULT_START_RATE_LIMIT };

export interface BuildServerOptions {
  engine: ApiEngine;
  /** When set, every route but /healthz needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest accepted request body in bytes. @default 1 MiB */
  bodyLimit?: number;
  /** false (default) for no logs, true for info-level JSON logs, or pino options. */
  logger?: boolean | Record<string, unknown>;
  /** Starts allowed per client (IP) per window. @default { max: 1000, timeWindowMs: 60000 } */
  startRateLimit?: { max: number; timeWindowMs: number };
  /** Mount the history web page (src/api/page). @default true */
  page?: boolean;
  /**
   * A request whose headers and body have not all arrived by then is answered 400 and its
   * connection closed, so slow clients cannot hold connections open (Node checks every 30 s).
   * @default 30000
   */
  requestTimeoutMs?: number;
  /** Webhooks served at POST /v1/hooks/:name (docs/triggers.md#webhooks). */
  hooks?: readonly Webhook[];
  /** Serve the AWS Step Functions protocol on `POST /` (docs/step-functions.md). */
  stepFunctions?: AwsStepFunctionsMount;
  /** A started ScheduleRunner: serves /v1/schedules (docs/triggers.md#schedules). */
  schedules?: ScheduleApi;
  /** Serve GET /metrics (docs/observability.md). */
  metrics?: MetricsSource;
  /** Prices for the usage routes (docs/observability.md). */
  prices?: PriceTable;
  /** Refuses starts past a workflow's daily budget (an Alerts). */
  startGate?: { checkStart(workflow: string): void };
}

/** Never log credentials, whatever else logs a request (or a handler, through ctx.log). */
const REDACT = [...REDACT_PATHS];

/** What a request looks like in the log: no headers at all, secrets in the query string masked. */
function serializeRequest(req: FastifyRequest) {
  return {
    method: req.method,
    url: redactUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket ? req.socket.remotePort : undefined,
  };
}

function loggerOptions(logger: BuildServerOptions['logger']): Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> {
  if (!logger) return { logger: false };
  const base = { level: 'info', redact: { paths: REDACT, censor: '[redacted]' }, serializers: { req: serializeRequest } };
  if (logger === true) return { logger: base };
  const looksLikeInstance = typeof logger.info === 'function' && typeof logger.child === 'function';
  if (looksLikeInstance) return { loggerInstance: logger as unknown as FastifyServerOptions['loggerInstance'] };
  const given = logger.redact;
  const paths = Array.isArray(given) ? given : Array.isArray((given as { paths?: unknown })?.paths) ? (given as { paths: string[] }).paths : [];
  const serializers = { ...((logger.serializers as object | undefined) ?? {}), req: serializeRequest };
  return {
    logger: { ...base, ...logger, serializers, redact: { paths: [...new Set([...REDACT, ...paths])], censor: '[redacted]' } },
  };
}

/**
 * Answers a request that Node's HTTP parser refused before fastify saw it (a control character in
 * the request line or a header, a bad or doubled Content-Length, Content-Length with
 * Transfer-Encoding, bad chunk framing, an unknown method, headers over 16 KiB, a body cut short)
 * in the API's error shape with the security headers; fastify's default answers
 * `{"error":"Bad Request","message":"Client Error","statusCode":400}`.
 */
function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const message =
    error.code === 'HPE_HEADER_OVERFLOW' ? 'the request line and headers are over the size limit'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'the request did not arrive in time'
        : 'the request is not valid HTTP/1.1';
  const body = JSON.stringify(errorBody(apiError('VALIDATION_FAILED', message)));
  this.log.debug({ err: { code: error.code, message: error.message } }, 'client error');
  if (socket.writable) {
    socket.write(
      'HTTP/1.1 400 Bad Request\r\n' +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n' +
        `Cross-Origin-Resource-Policy: same-origin\r\nContent-Security-Policy: ${JSON_CSP}\r\nCache-Control: no-store\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

export function buildServer(opts: BuildServerOptions): FastifyInstance {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;

  const app = Fastify({
    ...loggerOptions(opts.logger),
    bodyLimit,
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Requests that arrive while closing are still served: the engine stops only after the server.
    return503OnClosing: false,
    clientErrorHandler,
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      const mapped = classifyError(error, bodyLimit);
      if (mapped.internal) logInternal(request, error);
      applySecurityHeaders(reply);
      reply.code(mapped.status).type('application/json; charset=utf-8').send({ error: { code: mapped.code, message: mapped.message } });
    },
  }) as unknown as FastifyInstance;

  void app.register(stepwise, {
    engine: opts.engine,
    bodyLimit,
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    ...(opts.startRateLimit ? { startRateLimit: opts.startRateLimit } : {}),
    ...(opts.page !== undefined ? { page: opts.page } : {}),
    ...(opts.hooks !== undefined ? { hooks: opts.hooks } : {}),
    ...(opts.stepFunctions !== undefined ? { stepFunctions: opts.stepFunctions } : {}),
    ...(opts.schedules !== undefined ? { schedules: opts.schedules } : {}),
    ...(opts.metrics !== undefined ? { metrics: opts.metrics } : {}),
    ...(opts.prices !== undefined ? { prices: opts.prices } : {}),
    ...(opts.startGate !== undefined ? { startGate: opts.startGate } : {}),
  });
  return app;
}
