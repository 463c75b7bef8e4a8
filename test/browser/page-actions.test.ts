/**
 * The history page's action bar (src/api/page/client/views/actions.ts) in headless Chromium: an
 * action runs only after its inline confirmation, once, shows its error, and disappears when it
 * no longer applies. This bundles the bar with a test action of its own (esbuild, as the build
 * does) and drives it on a blank page; page-execution-actions.test.ts drives the page's real
 * actions against the server.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../cli/cli-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM && process.env.STEPWISE_REQUIRE_CHROMIUM === '1') {
  throw new Error(`STEPWISE_REQUIRE_CHROMIUM=1 and ${CHROMIUM} is not installed (run .ci/install-chromium.sh)`);
}

/** A test page's script: one action whose run() waits until the test settles it. */
const ENTRY = `
import { ActionBar } from './views/actions.js';
const w = window;
w.calls = [];
w.done = 0;
const execution = { id: 'order-7', workflow: 'checkout', version: 'v', status: 'RUNNING', startedAt: '' };
const bar = new ActionBar(document.getElementById('bar'), [{
  id: 'cancel',
  label: 'Cancel execution',
  question: (x) => 'Cancel ' + x.id + '?',
  available: (x) => x.status === 'RUNNING',
  run: (x) => new Promise((resolve, reject) => { w.calls.push(x.id); w.settle = (error) => error ? reject(new Error(error)) : resolve(); }),
}], () => { w.done++; });
bar.render(execution);
w.render = (status) => bar.render({ ...execution, status });
`;

describe.skipIf(!HAVE_CHROMIUM)('history page actions in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    const bundle = await build({
      stdin: { contents: ENTRY, resolveDir: join(ROOT, 'src/api/page/client'), loader: 'ts' },
      bundle: true,
      format: 'iife',
      write: false,
      logLevel: 'silent',
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless', '--disable-gpu'] });
    page = await browser.newPage();
    page.on('pageerror', (e) => problems.push(e.message));
    await page.setContent('<!doctype html><body><div id="bar"></div></body>');
    await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
  });
  afterAll(async () => {
    await browser?.close();
  });

  const calls = () => page.evaluate(() => (window as unknown as { calls: string[] }).calls);
  const done = () => page.evaluate(() => (window as unknown as { done: number }).done);
  const settle = (error?: string) => page.evaluate((e) => (window as unknown as { settle(e?: string): void }).settle(e), error);

  it('asks first, and "No" runs nothing', async () => {
    await page.click('[data-action="cancel"] .action-button');
    expect(await page.textContent('.action-question')).toBe('Cancel order-7?');
    await page.click('.action-dismiss');
    await page.waitForSelector('[data-action="cancel"] .action-button');
    expect(await calls()).toEqual([]);
  });

  it('"Yes" runs the action once, disabled while it runs, then reports it done', async () => {
    await page.click('.action-button');
    await page.click('.action-confirm');
    expect(await page.isDisabled('.action-confirm')).toBe(true);
    expect(await page.isDisabled('.action-dismiss')).toBe(true);
    expect(await calls()).toEqual(['order-7']);
    await settle();
    await page.waitForSelector('.action-button');
    expect(await done()).toBe(1);
  });

  it('shows why an action failed, and keeps the button', async () => {
    await page.click('.action-button');
    await page.click('.action-confirm');
    await settle('EXECUTION_ENDED: it already ended');
    expect(await page.textContent('.action-error')).toBe('EXECUTION_ENDED: it already ended');
    expect(await page.locator('.action-button').count()).toBe(1);
    expect(await done()).toBe(1);
  });

  it('keeps an open question across polls, and drops the action when it no longer applies', async () => {
    await page.click('.action-button');
    await page.evaluate(() => (window as unknown as { render(s: string): void }).render('RUNNING'));
    expect(await page.locator('.action-question').count()).toBe(1);
    await page.evaluate(() => (window as unknown as { render(s: string): void }).render('SUCCEEDED'));
    expect(await page.locator('#bar *').count()).toBe(0);
    expect(problems).toEqual([]);
  });
});
