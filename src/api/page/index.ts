import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiEngine } from '../engine-port.js';
import { executionPageHtml, FAVICON_SVG, listPageHtml } from './html.js';
import { pageScript } from './page-script.js';
import { PAGE_CSS } from './styles.js';

export interface PageOptions {
  /**
   * The engine behind the API (the real `Engine` satisfies the API's port structurally). The page
   * reads nothing from it: its script fetches the JSON API, which applies the token.
   */
  engine: ApiEngine;
  /** The server serves /v1/schedules: the list page shows the schedules too. */
  schedules?: boolean;
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

function version(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

const CSS_VERSION = version(PAGE_CSS);

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

/**
 * The history page: `GET /` lists recent executions, `GET /executions/:id` shows one execution's
 * graph and timeline, live while it runs. The HTML holds no data; the script (the bundle of
 * src/api/page/client/, served at /assets/page.js) fetches the JSON API and sends the token from
 * `?token=` / sessionStorage. Register inside buildServer: `await registerPage(app, { engine })`
 * (or `app.register(registerPage, { engine })`). Throws when the script was not built.
 */
export async function registerPage(app: FastifyInstance, opts: PageOptions): Promise<void> {
  void opts;
  const hide = { schema: { hide: true } };
  const script = pageScript();
  const jsVersion = version(script);
  const assets = { js: `/assets/page.js?v=${jsVersion}`, css: `/assets/page.css?v=${CSS_VERSION}` };
  const listHtml = listPageHtml(assets, { schedules: opts.schedules === true });
  const executionHtml = executionPageHtml(assets);

  app.get('/', hide, async (_req, reply) => html(reply, listHtml));
  app.get('/executions', hide, async (_req, reply) => reply.redirect('/', 302));
  app.get('/executions/:id', hide, async (_req, reply) => html(reply, executionHtml));
  app.get('/assets/page.js', hide, async (req, reply) =>
    asset(req, reply, jsVersion, 'text/javascript; charset=utf-8', script),
  );
  app.get('/assets/page.css', hide, async (req, reply) =>
    asset(req, reply, CSS_VERSION, 'text/css; charset=utf-8', PAGE_CSS),
  );
  app.get('/assets/favicon.svg', hide, async (_req, reply) =>
    common(reply).header('cache-control', 'public, max-age=86400').type('image/svg+xml').send(FAVICON_SVG),
  );
  app.get('/favicon.ico', hide, async (_req, reply) => reply.redirect('/assets/favicon.svg', 302));
}
