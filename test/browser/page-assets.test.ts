/**
 * The history page's static parts, without a browser: the bundled script parses and renders
 * nothing through HTML strings, every page route carries the security headers, and a packed
 * tarball serves the script without esbuild.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEngine } from '../../src/api/engine-port.js';
import { executionPageHtml, listPageHtml } from '../../src/api/page/html.js';
import { PAGE_CSP, pageContent, registerPage } from '../../src/api/page/index.js';
import { registerPageRoutes } from '../../src/api/page/routes.js';
import { pageScript } from '../../src/api/page/page-script.js';
import { PAGE_CSS } from '../../src/api/page/styles.js';
import { ROOT, ensureBuilt } from '../cli/cli-helpers.js';

const CLIENT_DIR = join(ROOT, 'src/api/page/client');

function clientSources(dir = CLIENT_DIR): Array<[string, string]> {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e): Array<[string, string]> =>
    e.isDirectory() ? clientSources(join(dir, e.name)) : e.name.endsWith('.ts') ? [[join(dir, e.name), readFileSync(join(dir, e.name), 'utf8')]] : [],
  );
}

describe('page script', () => {
  it('is one valid classic script (an IIFE), not a module', () => {
    const script = pageScript();
    expect(() => new vm.Script(script, { filename: 'page.js' })).not.toThrow();
    expect(script).not.toMatch(/^\s*(import|export)\s/m);
  });

  it('never renders through HTML strings or evaluates code, in the sources or the bundle', () => {
    const banned = ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', "setAttribute('style'", '.style.'];
    const sources = clientSources();
    expect(sources.length).toBeGreaterThan(5);
    for (const [file, text] of [...sources, ['page.js', pageScript()] as [string, string]]) {
      for (const word of banned) expect(text, `${word} in ${file}`).not.toContain(word);
    }
  });

  it('shares event and error names with the server instead of repeating them', () => {
    for (const [file, text] of clientSources()) {
      for (const literal of ["'Stepwise.", "'ExecutionSucceeded'", "'StepFailed'", "'CompensationStarted'", "'SUCCEEDED'", "'CANCELLED'"]) {
        expect(text, `${literal} in ${file}`).not.toContain(literal);
      }
    }
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
    expect(jsRes.body).toBe(pageScript());
    expect(jsRes.headers['cross-origin-resource-policy']).toBe('same-origin');

    const again = await app.inject({ method: 'GET', url: '/assets/page.js', headers: { 'if-none-match': String(jsRes.headers.etag) } });
    expect(again.statusCode).toBe(304);

    const cssRes = await app.inject({ method: 'GET', url: css });
    expect(cssRes.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(cssRes.body).toBe(PAGE_CSS);

    const stale = await app.inject({ method: 'GET', url: '/assets/page.css?v=old' });
    expect(stale.headers['cache-control']).toBe('no-cache');
  });
});

describe('page routes with their content loaded on demand', () => {
  it('asks for the content on the first page request, not when the routes are declared', async () => {
    const app = Fastify();
    let loads = 0;
    let content: ReturnType<typeof pageContent> | undefined;
    registerPageRoutes(app, async () => {
      loads++;
      return (content ??= pageContent());
    });
    try {
      await app.ready();
      expect(loads).toBe(0);
      expect((await app.inject({ method: 'GET', url: '/favicon.ico' })).statusCode).toBe(302);
      expect(loads).toBe(0);
      const page = await app.inject({ method: 'GET', url: '/' });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-security-policy']).toBe(PAGE_CSP);
      expect(loads).toBe(1);
      const js = /src="(\/assets\/page\.js\?v=[0-9a-f]+)"/.exec(page.body)![1]!;
      expect((await app.inject({ method: 'GET', url: js })).body).toBe(pageScript());
    } finally {
      await app.close();
    }
  });
});

describe('packed package', () => {
  let dir: string;
  beforeAll(async () => {
    await ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'stepwise-pack-'));
  }, 180_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('carries the bundled script, and its page module serves it without esbuild', async () => {
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
    execFileSync('tar', ['xzf', join(dir, out.trim().split('\n').pop()!), '-C', dir]);
    const pkg = join(dir, 'package');
    expect(readFileSync(join(pkg, 'dist/src/api/page/assets/page.js'), 'utf8')).toBe(pageScript());
    // The unpacked page module has no node_modules of its own: it needs only Node and the bundle.
    const { registerPage: packedRegister } = (await import(join(pkg, 'dist/src/api/page/index.js'))) as typeof import('../../src/api/page/index.js');
    const app = Fastify();
    try {
      await packedRegister(app, { engine: {} as ApiEngine });
      const page = await app.inject({ method: 'GET', url: '/' });
      const js = /src="(\/assets\/page\.js\?v=[0-9a-f]+)"/.exec(page.body)![1]!;
      const res = await app.inject({ method: 'GET', url: js });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe(pageScript());
    } finally {
      await app.close();
    }
  }, 60_000);
});
