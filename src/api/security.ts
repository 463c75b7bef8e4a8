import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { httpError } from './http-errors.js';

/** Paths anyone may call, token or not. */
const PUBLIC_PATHS = new Set(['/healthz']);

/**
 * Route config flag for routes that serve no data and need no token: the history page's HTML and
 * static assets (its script then calls the /v1 API with the token). Set by buildServer only.
 */
export const PUBLIC_ROUTE_FLAG = 'stepwisePublic';

function isPublicRoute(request: FastifyRequest): boolean {
  const config = request.routeOptions?.config as unknown as Record<string, unknown> | undefined;
  return config?.[PUBLIC_ROUTE_FLAG] === true;
}

export const JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
export const HTML_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** True when `header` is `Bearer <token>`; compares fixed-length digests in constant time. */
export function bearerMatches(header: string | undefined, expectedDigest: Buffer): boolean {
  if (typeof header !== 'string') return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!match) return false;
  return timingSafeEqual(digest(match[1]!), expectedDigest);
}

/** Requires `Authorization: Bearer <token>` on every route but the public ones. */
export function installAuth(app: FastifyInstance, token: string): void {
  const expected = digest(token);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (PUBLIC_PATHS.has(pathOf(request.url)) || isPublicRoute(request)) return;
    if (bearerMatches(request.headers.authorization, expected)) return;
    reply.header('WWW-Authenticate', 'Bearer realm="stepwise"');
    throw httpError('UNAUTHORIZED', 'this server needs an Authorization: Bearer <token> header');
  });
}

/** Adds the security headers to a reply; a route that set its own Content-Security-Policy keeps it. */
export function applySecurityHeaders(reply: FastifyReply): void {
  reply.header('X-Content-Type-Options', 'nosniff');
  reply.header('X-Frame-Options', 'DENY');
  reply.header('Referrer-Policy', 'no-referrer');
  reply.header('Cross-Origin-Resource-Policy', 'same-origin');
  if (!reply.hasHeader('Content-Security-Policy')) {
    const type = String(reply.getHeader('Content-Type') ?? '');
    reply.header('Content-Security-Policy', type.startsWith('text/html') ? HTML_CSP : JSON_CSP);
  }
  if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
}

export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    applySecurityHeaders(reply);
    return payload;
  });
}
