/**
 * The HTTP API. `buildServer` returns a fastify instance that is not listening, so tests drive it
 * with `app.inject()`; src/cli/serve.ts reads the environment and listens.
 */
import type { Socket } from 'node:net';
import fastifySwagger from '@fastify/swagger';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { ApiEngine } from './engine-port.js';
import { apiError, classifyError, errorBody, logInternal, redactUrl, sendError } from './http-errors.js';
import { installJsonBodyParser } from './json-body.js';
import { registerPage } from './page/index.js';
import { registerRoutes } from './routes.js';
import { registerHookRoutes } from './hooks-route.js';
import type { Webhook } from '../triggers/webhook.js';
import { registerScheduleRoutes, type ScheduleApi } from './schedules-route.js';
import { MAX_PARAM_LENGTH } from './schemas.js';
import { JSON_CSP, PUBLIC_ROUTE_FLAG, applySecurityHeaders, installAuth, installSecurityHeaders } from './security.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_START_RATE_LIMIT = { max: 1000, timeWindowMs: 60_000 } as const;

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
  /** A started ScheduleRunner: serves /v1/schedules (docs/triggers.md#schedules). */
  schedules?: ScheduleApi;
}

/** Never log credentials, whatever else logs a request. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'request.headers.authorization',
  'headers.authorization',
  'res.headers["set-cookie"]',
];

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
  const startRateLimit = opts.startRateLimit ?? DEFAULT_START_RATE_LIMIT;

  const app = Fastify({
    ...loggerOptions(opts.logger),
    bodyLimit,
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Requests that arrive while closing are still served: the engine stops only after the server.
    return503OnClosing: false,
    ajv: {
      customOptions: {
        // Reject what the schemas do not allow instead of silently dropping or converting it;
        // query integers are converted explicitly below.
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: true,
        allErrors: false,
      },
    },
    clientErrorHandler,
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      const mapped = classifyError(error, bodyLimit);
      if (mapped.internal) logInternal(request, error);
      applySecurityHeaders(reply);
      reply.code(mapped.status).type('application/json; charset=utf-8').send({ error: { code: mapped.code, message: mapped.message } });
    },
  }) as unknown as FastifyInstance;

  installJsonBodyParser(app);
  installSecurityHeaders(app);
  if (opts.token !== undefined && opts.token.length > 0) installAuth(app, opts.token);

  // Query strings are text; turn integer parameters into numbers so the schema can check ranges.
  app.addHook('preValidation', async (request) => {
    const schema = request.routeOptions.schema?.querystring as { properties?: Record<string, { type?: unknown }> } | undefined;
    const query = request.query as Record<string, unknown> | undefined;
    if (!schema?.properties || !query) return;
    for (const [key, property] of Object.entries(schema.properties)) {
      const value = query[key];
      if (property.type === 'integer' && typeof value === 'string' && /^[+-]?\d{1,15}$/.test(value)) query[key] = Number(value);
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const mapped = classifyError(error, bodyLimit);
    if (mapped.internal) logInternal(request, error);
    return sendError(reply, mapped);
  });

  app.setNotFoundHandler((request, reply) => {
    const url = redactUrl(request.url);
    const path = url.length > 200 ? `${url.slice(0, 200)}…` : url;
    return sendError(reply, apiError('ROUTE_NOT_FOUND', `no route for ${request.method} ${path}`));
  });

  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Stepwise HTTP API',
        description: 'Start, inspect and cancel durable workflow executions. See docs/http-api.md.',
        version: '1.0.0',
      },
      tags: [
        { name: 'meta', description: 'Health and this document' },
        { name: 'workflows', description: 'Registered workflow definitions' },
        { name: 'executions', description: 'Executions and their histories' },
      ],
      ...(opts.token
        ? {
            components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
            security: [{ bearerAuth: [] }],
          }
        : {}),
    },
  });
  void app.register(fastifyRateLimit, { global: false });
  void app.register(registerRoutes, { engine: opts.engine, startRateLimit });
  void app.register(registerHookRoutes, { engine: opts.engine, hooks: opts.hooks ?? [], rateLimit: startRateLimit });
  if (opts.schedules) void app.register(registerScheduleRoutes, { schedules: opts.schedules });

  if (opts.page !== false) {
    void app.register(async (instance) => {
      // The page's HTML, script and styles hold no data (the script reads the /v1 API, sending the
      // token), so a browser can load them without an Authorization header. Only GET/HEAD routes
      // registered by the page are public; everything else it might add still needs the token.
      instance.addHook('onRoute', (route) => {
        const methods = Array.isArray(route.method) ? route.method : [route.method];
        if (methods.every((m) => m === 'GET' || m === 'HEAD')) {
          route.config = { ...(route.config as object | undefined), [PUBLIC_ROUTE_FLAG]: true } as typeof route.config;
        }
      });
      await registerPage(instance, { engine: opts.engine, schedules: opts.schedules !== undefined });
    });
  }

  return app;
}
