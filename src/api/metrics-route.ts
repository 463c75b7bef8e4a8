/**
 * `GET /metrics`: the Prometheus text format (docs/observability.md). Registered inside the
 * stepwise plugin, so the token rules of the API hold for it too: a scraper sends
 * `Authorization: Bearer <token>` (Prometheus: `authorization: { credentials: ... }`).
 */
import type { FastifyInstance } from 'fastify';
import { errorSchema } from './schemas.js';

/** What the route needs: the text of a scrape and its content type (src/observability/metrics.ts). */
export interface MetricsSource {
  scrape(): Promise<string>;
  readonly contentType: string;
}

export async function registerMetricsRoute(app: FastifyInstance, opts: { metrics: MetricsSource }): Promise<void> {
  app.get('/metrics', {
    schema: {
      tags: ['meta'], summary: 'Prometheus metrics',
      response: { 200: { type: 'string', description: 'Prometheus text exposition format 0.0.4' }, '4xx': errorSchema, '5xx': errorSchema },
    },
  }, async (_request, reply) => {
    const text = await opts.metrics.scrape();
    return reply.header('cache-control', 'no-store').type(opts.metrics.contentType).send(text);
  });
}
