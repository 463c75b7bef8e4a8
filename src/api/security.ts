import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { httpError } from './http-errors.js';

/**
 * Route config flag for the history page's HTML and static assets. A browser cannot add an
 * Authorization header to a navigation or a <script src>, so these routes also take the token
 * once as `?token=` (which sets an HttpOnly, SameSite=Strict session cookie holding a digest of
 * it) and then the cookie. The /v1 API itself takes only the Bearer header. Set by buildServer.
 */
export const PUBLIC_ROUTE_FLAG = 'stepwisePublic';
const PAGE_COOKIE = 'stepwise_page';

/**
 * Route config flag for routes that authenticate each request themselves (webhooks check an HMAC
 * signature over the body; the AWS protocol takes the token as a SigV4 access key id): the bearer
 * token is not asked for, since a sender like GitHub or the AWS SDK cannot send it. Such a route must refuse an unauthenticated request itself.
 */
export const SELF_AUTHENTICATED_ROUTE_FLAG = 'stepwiseSelfAuthenticated';

function isSelfAuthenticatedRoute(request: FastifyRequest): boolean {
  const config = request.routeOptions?.config as unknown as Record<string, unknown> | undefined;
  return config?.[SELF_AUTHENTICATED_ROUTE_FLAG] === true;
}

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

/** The value of cookie `name` in a Cookie header, if present. */
function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Requires the token on every route but /healthz: `Authorization: Bearer <token>`, or, on the
 * history page's routes only, `?token=<token>` once and then the session cookie it sets. Under a
 * prefix (the fastify plugin mounted in another app) the public path and the cookie's Path are
 * the prefix's.
 */
export function installAuth(app: FastifyInstance, token: string, prefix = ''): void {
  const expected = digest(token);
  const session = digest(`stepwise-page-session:${token}`).toString('hex');
  const sessionDigest = digest(session);
  const healthz = `${prefix}/healthz`;
  const cookiePath = prefix === '' ? '/' : prefix;
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (pathOf(request.url) === healthz || isSelfAuthenticatedRoute(request)) return;
    if (bearerMatches(request.headers.authorization, expected)) return;
    if (isPublicRoute(request)) {
      const held = cookie(request.headers.cookie, PAGE_COOKIE);
      if (held !== undefined && timingSafeEqual(digest(held), sessionDigest)) return;
      const given = (request.query as Record<string, unknown> | undefined)?.token;
      if (typeof given === 'string' && timingSafeEqual(digest(given), expected)) {
        reply.header('Set-Cookie', `${PAGE_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=${cookiePath}`);
        return;
      }
      reply.header('WWW-Authenticate', 'Bearer realm="stepwise"');
      throw httpError('UNAUTHORIZED', 'this page needs the server\'s token: open it once as /?token=<token>');
    }
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
  // A callback hook, not an async one: it runs on every reply, and a promise per reply shows.
  app.addHook('onSend', (_request, reply, payload, done) => {
    applySecurityHeaders(reply);
    done(null, payload);
  });
}
