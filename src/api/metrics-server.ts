/**
 * GET /metrics on a port of its own (serve's `metricsPort`), for a scraper kept off the API's
 * network. The same token rules hold: with a token, a scrape needs `Authorization: Bearer`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { registerMetricsRoute, type MetricsSource } from './metrics-route.js';
import { installAuth, installSecurityHeaders } from './security.js';
import { apiError, classifyError, sendError } from './http-errors.js';

export function buildMetricsServer(opts: { metrics: MetricsSource; token?: string }): FastifyInstance {
  const app = Fastify({ logger: false }) as unknown as FastifyInstance;
  installSecurityHeaders(app);
  if (opts.token) installAuth(app, opts.token);
  app.setErrorHandler((error, _request, reply) => sendError(reply, classifyError(error, 0)));
  app.setNotFoundHandler((request, reply) => sendError(reply, apiError('ROUTE_NOT_FOUND', `no route for ${request.method} (this port serves GET /metrics)`)));
  void app.register(registerMetricsRoute, { metrics: opts.metrics });
  return app;
}
