import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ApiEngine } from '../engine-port.js';
import { executionPageHtml, FAVICON_SVG, listPageHtml } from './html.js';
import { pageScript } from './page-script.js';
import { registerPageRoutes, type PageContent } from './routes.js';
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

export { PAGE_CSP } from './routes.js';

function version(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

const CSS_VERSION = version(PAGE_CSS);

/** What the page serves: reads the script (throws when it was not built) and hashes it. */
export function pageContent(opts: Omit<PageOptions, 'engine'> = {}): PageContent {
  const script = pageScript();
  const jsVersion = version(script);
  const assets = { js: `/assets/page.js?v=${jsVersion}`, css: `/assets/page.css?v=${CSS_VERSION}` };
  return {
    listHtml: listPageHtml(assets, { schedules: opts.schedules === true }),
    executionHtml: executionPageHtml(assets),
    script,
    jsVersion,
    css: PAGE_CSS,
    cssVersion: CSS_VERSION,
    favicon: FAVICON_SVG,
  };
}

/**
 * The history page: `GET /` lists recent executions, `GET /executions/:id` shows one execution's
 * graph and timeline, live while it runs. The HTML holds no data; the script (the bundle of
 * src/api/page/client/, served at /assets/page.js) fetches the JSON API and sends the token from
 * `?token=` / sessionStorage. Register inside buildServer: `await registerPage(app, { engine })`
 * (or `app.register(registerPage, { engine })`). Throws when the script was not built.
 */
export async function registerPage(app: FastifyInstance, opts: PageOptions): Promise<void> {
  const content = pageContent(opts);
  registerPageRoutes(app, () => content);
}
