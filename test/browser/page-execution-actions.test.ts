/**
 * The history page's actions against the real server and engine in headless Chromium: an event
 * sent from the page is consumed by the waiting execution, a held failure is redriven to
 * SUCCEEDED, a QUEUED and a RUNNING execution are cancelled, each after its confirmation and each
 * seen in the live timeline; a token-protected server takes the page's actions with the token the
 * page holds. The page links a child to its parent and back.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { Engine, openStore, TerminalError, workflow } from '../../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM && process.env.STEPWISE_REQUIRE_CHROMIUM === '1') {
  throw new Error(`STEPWISE_REQUIRE_CHROMIUM=1 and ${CHROMIUM} is not installed (run .ci/install-chromium.sh)`);
}
const TOKEN = 'page-actions-token-0123456789';

/** Whether the carrier answers; the redrive test turns it on. */
let shippingUp = false;

/** Waits for a review, then ships; an unavailable carrier holds the failure for redrive. */
const reviewed = workflow<{ order: string }>('reviewed')
  .waitForEvent('awaitReview', { event: 'review', resultPath: 'review' })
  .task(
    'ship',
    async () => {
      if (!shippingUp) throw new TerminalError('Shipping.Unavailable', 'the carrier is down');
      return { shipped: true };
    },
    { resultPath: 'shipment', catch: [{ errors: ['Shipping.Unavailable'], next: 'holdShipping' }] },
  )
  .succeed('done')
  .fail('holdShipping', { error: 'Shipping.Unavailable', compensate: false })
  .build();

const parent = workflow<{ order: string }>('parent').invoke('review', 'reviewed', { resultPath: 'child' }).build();

/** One at a time: the second start waits QUEUED behind a first that waits for ever. */
const limited = workflow<{ n: number }>('limited', { concurrency: { limit: 1 } })
  .waitForEvent('hold', { event: 'never' })
  .build();

describe.skipIf(!HAVE_CHROMIUM)('history page actions against the server', () => {
  let store: Awaited<ReturnType<typeof openStore>>;
  let engine: Engine;
  let app: FastifyInstance;
  let securedApp: FastifyInstance;
  let base: string;
  let securedBase: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    store = await openStore(':memory:');
    engine = new Engine({ store });
    engine.register(reviewed);
    engine.register(parent);
    engine.register(limited);
    await engine.start();
    app = buildServer({ engine });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    securedApp = buildServer({ engine, token: TOKEN });
    await securedApp.listen({ host: '127.0.0.1', port: 0 });
    securedBase = `http://127.0.0.1:${(securedApp.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run'] });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await securedApp?.close();
    await engine?.stop({ graceMs: 2000 });
    await store?.close();
  });

  async function open(url: string): Promise<Page> {
    context = await browser.newContext();
    page = await context.newPage();
    problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      // The API's refusals (4xx) show in the console as failed loads; the tests check them on the page.
      if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    await page.goto(url);
    return page;
  }

  afterEach(async () => {
    await context?.close();
    expect(problems).toEqual([]);
  });

  const status = (s: string) => page.waitForSelector(`#exec-status[data-status="${s}"]`, { timeout: 15_000 });
  const row = (type: string) => page.waitForSelector(`#timeline tbody tr[data-type="${type}"]`, { timeout: 15_000 });
  const confirm = async (action: string) => {
    await page.click(`[data-action="${action}"] .action-button`);
    await page.click(`[data-action="${action}"] .action-confirm`);
  };

  it('links parent and child, sends an event from the page, and redrives the held failure to SUCCEEDED', async () => {
    shippingUp = false;
    const { execution } = await engine.startExecution('parent', { order: 'o-1' }, { id: 'parent-1' });
    await open(`${base}/executions/${execution.id}`);
    const childLink = await page.waitForSelector('#exec-children-list li a', { timeout: 15_000 });
    const childId = (await childLink.textContent())!;
    expect(await page.locator('[data-action="redrive"]').count()).toBe(0);
    await childLink.click();
    await page.waitForURL(`**/executions/${encodeURIComponent(childId)}`);
    await status('RUNNING');
    await page.waitForSelector('#exec-parent a');
    expect(await page.textContent('#exec-parent a')).toBe('parent-1');

    // Send event: the name the wait expects is offered; bad JSON is refused on the page, nothing sent.
    await page.click('[data-action="send-event"] .action-button');
    expect(await page.inputValue('[data-field="name"]')).toBe('review');
    await page.fill('[data-field="payload"]', '{ not json');
    await page.click('[data-action="send-event"] .action-confirm');
    expect(await page.textContent('[data-action="send-event"] .action-error')).toMatch(/^The payload is not JSON/);
    expect((await engine.getHistory(childId, { limit: 1000 })).events.some((e) => e.type === 'EventReceived')).toBe(false);

    await page.click('[data-action="send-event"] .action-button');
    await page.fill('[data-field="payload"]', '{"approved": true}');
    await page.click('[data-action="send-event"] .action-confirm');
    await row('EventConsumed');
    await status('FAILED');
    expect(await page.textContent('#exec-error')).toContain('Shipping.Unavailable');
    const consumed = (await engine.getHistory(childId, { limit: 1000 })).events.filter((e) => e.type === 'EventConsumed');
    expect(consumed.map((e) => e.data?.payload)).toEqual([{ approved: true }]);

    // Redrive: "No" does nothing; "Yes" resumes it, live, to SUCCEEDED.
    await page.click('[data-action="redrive"] .action-button');
    await page.click('[data-action="redrive"] .action-dismiss');
    expect((await engine.getExecution(childId))?.status).toBe('FAILED');
    shippingUp = true;
    await confirm('redrive');
    await row('ExecutionRedriven');
    await status('SUCCEEDED');
    await row('ExecutionSucceeded');
    expect(await page.locator('[data-action]').count()).toBe(0);
    expect((await engine.getExecution(childId))?.output).toMatchObject({ review: { approved: true }, shipment: { shipped: true } });
  });

  it('cancels a QUEUED and a RUNNING execution, with the token the page holds', async () => {
    await engine.startExecution('limited', { n: 1 }, { id: 'limited-1' });
    await engine.startExecution('limited', { n: 2 }, { id: 'limited-2' });
    await open(`${securedBase}/executions/limited-2?token=${TOKEN}`);
    await status('QUEUED');
    expect(await page.locator('[data-action="send-event"]').count()).toBe(0);
    await confirm('cancel');
    await status('CANCELLED');
    await row('ExecutionCancelled');
    await context.close();

    await open(`${securedBase}/executions/limited-1?token=${TOKEN}`);
    await status('RUNNING');
    await confirm('cancel');
    await status('CANCELLED');
    await row('ExecutionCancelled');
    expect((await engine.getExecution('limited-1'))?.status).toBe('CANCELLED');
  });

  it('shows the server\'s refusal next to the button', async () => {
    const { execution } = await engine.startExecution('reviewed', { order: 'o-3' }, { id: 'refused-1' });
    await open(`${base}/executions/${execution.id}`);
    await status('RUNNING');
    await page.click('[data-action="send-event"] .action-button');
    await page.fill('[data-field="name"]', 'bad name!');
    await page.click('[data-action="send-event"] .action-confirm');
    await page.waitForSelector('[data-action="send-event"] .action-error');
    expect(await page.textContent('[data-action="send-event"] .action-error')).toMatch(/^VALIDATION_FAILED|^[A-Z_]+: /);
    expect((await engine.getHistory(execution.id, { limit: 1000 })).events.some((e) => e.type === 'EventReceived')).toBe(false);
    await engine.cancel(execution.id);
  });
});
