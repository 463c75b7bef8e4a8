/**
 * The history page's routes and response headers, apart from what they serve (./index.ts builds
 * that: the HTML, the script read from disk, the stylesheet and their content hashes). The routes
 * take a loader for the content, so `stepwise serve` can declare them at start-up and load the
 * page module on the first page request instead (docs/performance.md, cold start).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** What the page's routes answer with. */
export interface PageContent {
  listHtml: string;
  executionHtml: string;
  script: string;
  jsVersion: string;
  css: string;
  cssVersion: string;
  favicon: string;
}

/**
 * The Content-Security-Policy of the HTML pages: only same-origin script, style, images and
 * fetches; no inline script or style attributes, no plugins, no framing, no <base> tricks.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function common(reply: FastifyReply): FastifyReply {
  return reply
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cross-origin-resource-policy', 'same-origin');
}

function html(reply: FastifyReply, body: string): FastifyReply {
  return common(reply)
    .header('content-security-policy', PAGE_CSP)
    .header('cache-control', 'no-cache')
    .type('text/html; charset=utf-8')
    .send(body);
}

/** Assets: cached for good when requested with the current content hash, revalidated otherwise. */
function asset(req: FastifyRequest, reply: FastifyReply, current: string, type: string, body: string): FastifyReply {
  const v = (req.query as { v?: unknown } | undefined)?.v;
  const etag = `"${current}"`;
  common(reply)
    .header('cache-control', v === current ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('etag', etag);
  if (req.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply.type(type).send(body);
}

/** Declares the page's routes; each awaits `content()` (called per request: memoize it). */
export function registerPageRoutes(app: FastifyInstance, content: () => PageContent | Promise<PageContent>): void {
  const hide = { schema: { hide: true } };
  app.get('/', hide, async (_req, reply) => html(reply, (await content()).listHtml));
  app.get('/executions', hide, async (_req, reply) => reply.redirect('/', 302));
  app.get('/executions/:id', hide, async (_req, reply) => html(reply, (await content()).executionHtml));
  app.get('/assets/page.js', hide, async (req, reply) => {
    const page = await content();
    return asset(req, reply, page.jsVersion, 'text/javascript; charset=utf-8', page.script);
  });
  app.get('/assets/page.css', hide, async (req, reply) => {
    const page = await content();
    return asset(req, reply, page.cssVersion, 'text/css; charset=utf-8', page.css);
  });
  app.get('/assets/favicon.svg', hide, async (_req, reply) =>
    common(reply).header('cache-control', 'public, max-age=86400').type('image/svg+xml').send((await content()).favicon),
  );
  app.get('/favicon.ico', hide, async (_req, reply) => reply.redirect('/assets/favicon.svg', 302));
}
