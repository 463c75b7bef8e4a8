/**
 * The history page's static parts, without a browser: the script parses, renders nothing through
 * HTML strings, and every page route carries the security headers.
 */
import vm from 'node:vm';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEngine } from '../../src/api/engine-port.js';
import { PAGE_JS } from '../../src/api/page/client.js';
import { executionPageHtml, listPageHtml } from '../../src/api/page/html.js';
import { PAGE_CSP, registerPage } from '../../src/api/page/index.js';
import { PAGE_CSS } from '../../src/api/page/styles.js';

describe('page script', () => {
  it('is valid JavaScript', () => {
    expect(() => new vm.Script(PAGE_JS, { filename: 'page.js' })).not.toThrow();
  });

  it('never renders through HTML strings or evaluates code', () => {
    for (const banned of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', "setAttribute('style'"]) {
      expect(PAGE_JS, banned).not.toContain(banned);
    }
  });

  it('keeps the token out of the URL once read', () => {
    expect(PAGE_JS).toContain("sessionStorage.setItem(TOKEN_KEY");
    expect(PAGE_JS).toContain("params.delete('token')");
    expect(PAGE_JS).toContain('history.replaceState');
  });
});

describe('page HTML', () => {
  const assets = { js: '/assets/page.js?v=1', css: '/assets/page.css?v=1' };
  for (const [name, html] of [
    ['list', listPageHtml(assets)],
    ['execution', executionPageHtml(assets)],
  ] as const) {
    it(`${name} page has no inline script, style or handlers`, () => {
      expect(html).toMatch(/<script src="\/assets\/page\.js\?v=1" defer><\/script>/);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
      expect(html).not.toMatch(/\sstyle=/i);
      expect(html).not.toMatch(/<style/i);
      expect(html).not.toMatch(/\son[a-z]+=/i);
    });
  }

  it('the stylesheet is not empty and defines every status colour', () => {
    for (const s of ['succeeded', 'running', 'failed', 'compensated', 'cancelled', 'not-reached']) {
      expect(PAGE_CSS).toContain(`.st-${s}`);
    }
  });
});

describe('page routes', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    await registerPage(app, { engine: {} as ApiEngine });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  it('serves both pages with a strict CSP and anti-framing headers', async () => {
    for (const url of ['/', '/executions/abc-123']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toBe(PAGE_CSP);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.body).not.toContain('abc-123');
    }
  });

  it('serves the script and stylesheet with their types, cacheable by content hash', async () => {
    const page = await app.inject({ method: 'GET', url: '/' });
    const js = /src="(\/assets\/page\.js\?v=[0-9a-f]+)"/.exec(page.body)![1]!;
    const css = /href="(\/assets\/page\.css\?v=[0-9a-f]+)"/.exec(page.body)![1]!;

    const jsRes = await app.inject({ method: 'GET', url: js });
    expect(jsRes.statusCode).toBe(200);
    expect(jsRes.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(jsRes.headers['x-content-type-options']).toBe('nosniff');
    expect(jsRes.headers['cache-control']).toContain('immutable');
    expect(jsRes.body).toBe(PAGE_JS);

    const again = await app.inject({ method: 'GET', url: '/assets/page.js', headers: { 'if-none-match': String(jsRes.headers.etag) } });
    expect(again.statusCode).toBe(304);

    const cssRes = await app.inject({ method: 'GET', url: css });
    expect(cssRes.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(cssRes.body).toBe(PAGE_CSS);

    const stale = await app.inject({ method: 'GET', url: '/assets/page.css?v=old' });
    expect(stale.headers['cache-control']).toBe('no-cache');
  });
});
