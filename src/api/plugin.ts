/**
 * The Stepwise HTTP API and history page as a fastify plugin, so an existing fastify application
 * can mount them under a prefix of its own:
 *
 *   await app.register(stepwise, { engine, prefix: '/workflows', token });
 *
 * Everything the API promises holds inside the plugin's scope and nowhere else in the host app:
 * the JSON-only body parser with its depth limit, strict request validation (its own ajv: nothing
 * removed or coerced), the error shape `{ error: { code, message } }`, security headers, the
 * token, the start rate limit. What only a whole server can set stays with the host (or with
 * buildServer): the logger, the request timeout, the answer to malformed HTTP, and the router's
 * maxParamLength (set `routerOptions: { maxParamLength: 256 }` for 128-character execution ids).
 */
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyPluginAsync, preValidationHookHandler } from 'fastify';
import type { ApiEngine } from './engine-port.js';
import { apiError, classifyError, logInternal, redactUrl, sendError } from './http-errors.js';
import { installJsonBodyParser } from './json-body.js';
import { registerHookRoutes } from './hooks-route.js';
import { registerMetricsRoute, type MetricsSource } from './metrics-route.js';
import { installStartGate, registerUsageRoutes } from './usage-route.js';
import type { PriceTable } from '../observability/usage.js';
import { registerScheduleRoutes, type ScheduleApi } from './schedules-route.js';
import { lazySerializerCompiler } from './lazy-serializers.js';
import { lazyValidatorCompiler } from './lazy-validators.js';
import { installLazySwagger } from './openapi-doc.js';
import { registerPageRoutes, type PageContent } from './page/routes.js';
import { checkPageScript } from './page/page-script.js';
import { registerRoutes } from './routes.js';
import { registerEventRoutes } from './events-route.js';
import { isTaskEngine, registerTaskRoutes } from './task-routes.js';
import type { Webhook } from '../triggers/webhook.js';
import { awsStepFunctions, type AwsStepFunctionsMount } from '../asl/aws/plugin.js';
import { PUBLIC_ROUTE_FLAG, installAuth, installSecurityHeaders } from './security.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_START_RATE_LIMIT = { max: 1000, timeWindowMs: 60_000 } as const;

export interface StepwisePluginOptions {
  engine: ApiEngine;
  /** When set, every route but /healthz needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest accepted request body in bytes. @default 1 MiB */
  bodyLimit?: number;
  /** Starts allowed per client (IP) per window. @default { max: 1000, timeWindowMs: 60000 } */
  startRateLimit?: { max: number; timeWindowMs: number };
  /** Mount the history web page (src/api/page). @default true */
  page?: boolean;
  /** Where to mount everything, e.g. '/workflows' (fastify's own register option). @default '' */
  prefix?: string;
  /** Webhooks served at POST /v1/hooks/:name (docs/triggers.md#webhooks). */
  hooks?: readonly Webhook[];
  /** Serve the AWS Step Functions protocol on `POST <prefix>/` (docs/step-functions.md). */
  stepFunctions?: AwsStepFunctionsMount;
  /** A started ScheduleRunner: serves /v1/schedules (docs/triggers.md#schedules). */
  schedules?: ScheduleApi;
  /** Serve GET /metrics (Prometheus text; docs/observability.md). */
  metrics?: MetricsSource;
  /** Refuses starts of a workflow past its daily budget with 429 BUDGET_EXCEEDED (src/observability/alerts.ts). */
  startGate?: { checkStart(workflow: string): void };
  /** Prices for the usage routes' estimated cost. @default Step Functions Standard, $0.025 per 1,000 transitions */
  prices?: PriceTable;
}

async function stepwisePlugin(app: FastifyInstance, opts: StepwisePluginOptions): Promise<void> {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const startRateLimit = opts.startRateLimit ?? DEFAULT_START_RATE_LIMIT;
  const prefix = app.prefix;

  // Strict validators of their own (src/api/lazy-validators.ts), each compiled on its route's first request.
  app.setValidatorCompiler(lazyValidatorCompiler());
  // Response serializers compiled on first use too, unless the host set a compiler of its own.
  if (app.serializerCompiler === undefined) app.setSerializerCompiler(lazySerializerCompiler(() => app.getSchemas()));
  app.addHook('onRoute', (route) => {
    if (route.bodyLimit === undefined) route.bodyLimit = bodyLimit;
    // Query strings are text; integer parameters become numbers so the schema can check ranges.
    // Only on routes that have such parameters: a hook on every route cost each start a promise.
    const integers = integerQueryParameters(route.schema?.querystring);
    if (integers.length > 0) {
      const given = route.preValidation;
      route.preValidation = [...(given === undefined ? [] : Array.isArray(given) ? given : [given]), coerceIntegers(integers)];
    }
  });
  installJsonBodyParser(app);
  installSecurityHeaders(app);
  if (opts.token !== undefined && opts.token.length > 0) installAuth(app, opts.token, prefix);

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

  // A host app that already documents itself with @fastify/swagger (or limits rates) keeps its
  // own: a second registration would clash with its decorator. /openapi.json then serves the
  // host's document, which includes these routes.
  // Ours is generated on the first GET /openapi.json (src/api/openapi-doc.ts).
  if (!app.hasDecorator('swagger')) {
    installLazySwagger(app, {
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
  }
  if (!app.hasDecorator('rateLimit')) await app.register(fastifyRateLimit, { global: false });
  if (opts.startGate) installStartGate(app, opts.startGate);
  await app.register(registerRoutes, { engine: opts.engine, startRateLimit });
  await app.register(registerEventRoutes, { engine: opts.engine });
  if (isTaskEngine(opts.engine)) await app.register(registerTaskRoutes, { engine: opts.engine });
  await app.register(registerHookRoutes, { engine: opts.engine, hooks: opts.hooks ?? [], rateLimit: startRateLimit });
  if (opts.schedules) await app.register(registerScheduleRoutes, { schedules: opts.schedules });
  if (opts.metrics) await app.register(registerMetricsRoute, { metrics: opts.metrics });
  await app.register(registerUsageRoutes, { engine: opts.engine, ...(opts.prices ? { prices: opts.prices } : {}) });
  if (opts.stepFunctions) await app.register(awsStepFunctions, { engine: opts.engine as never, token: opts.token, ...opts.stepFunctions });

  if (opts.page !== false) {
    await app.register(async (instance) => {
      // The page's HTML, script and styles hold no data (the script reads the /v1 API, sending the
      // token), so a browser can load them without an Authorization header. Only GET/HEAD routes
      // registered by the page are public; everything else it might add still needs the token.
      instance.addHook('onRoute', (route) => {
        const methods = Array.isArray(route.method) ? route.method : [route.method];
        if (methods.every((m) => m === 'GET' || m === 'HEAD')) {
          route.config = { ...(route.config as object | undefined), [PUBLIC_ROUTE_FLAG]: true } as typeof route.config;
        }
      });
      // The page's links and fetches start at the root: under a prefix they need it too (not yet).
      // Its routes are declared now; what they serve (the page module: HTML, the script read from
      // disk and hashed, the stylesheet) is loaded by the first page request, not at start-up. A
      // script that was not built still fails the start, naming the fix.
      checkPageScript();
      const schedules = opts.schedules !== undefined;
      let loading: Promise<PageContent> | undefined;
      const content = () => (loading ??= import('./page/index.js').then((page) => page.pageContent({ schedules })).catch((err: unknown) => {
        loading = undefined;
        throw err;
      }));
      registerPageRoutes(instance, content);
    });
  }
}

/** The plugin itself: `app.register(stepwise, { engine, prefix })`. Encapsulated on purpose. */
export const stepwise: FastifyPluginAsync<StepwisePluginOptions> = stepwisePlugin;

/** The names of a querystring schema's integer parameters. */
function integerQueryParameters(schema: unknown): string[] {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties;
  return properties ? Object.keys(properties).filter((key) => properties[key]?.type === 'integer') : [];
}

/** A preValidation hook that turns those parameters, when given as whole numbers, into numbers. */
function coerceIntegers(names: string[]): preValidationHookHandler {
  return (request, _reply, done) => {
    const query = request.query as Record<string, unknown> | undefined;
    if (query) {
      for (const key of names) {
        const value = query[key];
        if (typeof value === 'string' && /^[+-]?\d{1,15}$/.test(value)) query[key] = Number(value);
      }
    }
    done();
  };
}
