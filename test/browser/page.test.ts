/**
 * The history page in a real headless Chromium against the real server and engine: a checkout
 * execution is watched while it runs and after it ends, listed on `/`, failed with compensation,
 * fed hostile and huge input, and loaded through a token-protected server.
 *
 * Needs /usr/bin/chromium (.ci/install-chromium.sh installs it); skipped, saying so, without it,
 * unless STEPWISE_REQUIRE_CHROMIUM=1 (CI sets it), which makes its absence a failure.
 * Screenshots are written only with STEPWISE_SCREENSHOTS=1, into a fresh temporary directory.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Simulate } from '../../examples/checkout/handlers.js';
import { checkout, shipping } from '../../examples/checkout/workflow.js';
import { buildServer } from '../../src/api/server.js';
import { Engine, openStore } from '../../src/index.js';
import { gateOf } from '../fixtures/handler-gate.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const SKIP_REASON = `SKIPPED: ${CHROMIUM} is not installed (run .ci/install-chromium.sh)`;
if (!HAVE_CHROMIUM && process.env.STEPWISE_REQUIRE_CHROMIUM === '1') {
  throw new Error(`STEPWISE_REQUIRE_CHROMIUM=1 and ${CHROMIUM} is not installed (run .ci/install-chromium.sh)`);
}
if (!HAVE_CHROMIUM) console.warn(`[test/browser/page.test.ts] ${SKIP_REASON}`);

/** Where screenshots go: a directory of this run's own, only when STEPWISE_SCREENSHOTS=1 asks for them. */
let shotsDir: string | undefined;
async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  if (process.env.STEPWISE_SCREENSHOTS !== '1') return;
  if (!shotsDir) {
    shotsDir = mkdtempSync(join(tmpdir(), 'stepwise-page-'));
    console.log(`[test/browser/page.test.ts] screenshots in ${shotsDir}`);
  }
  await page.screenshot({ path: join(shotsDir, name), fullPage });
}

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const TOKEN = 'page-test-token-0123456789';

function order(orderId: string, simulate: Simulate = {}, extra: { email?: string; items?: Array<{ sku: string; qty: number; price: number }> } = {}) {
  return {
    orderId,
    customer: { id: 'cust-1', email: extra.email ?? 'ada@example.com' },
    items: extra.items ?? [
      { sku: 'BOOK-1', qty: 1, price: 25 },
      { sku: 'PEN-2', qty: 3, price: 2.5 },
    ],
    simulate,
  };
}

interface StateDesc {
  name: string;
  type: string;
  branches?: StateDesc[][];
}

function flatten(states: StateDesc[]): StateDesc[] {
  return states.flatMap((s) => [s, ...(s.branches ?? []).flatMap((b) => flatten(b))]);
}

/** State name -> data-status of its node in the page's SVG graph. */
async function nodeStatuses(page: Page): Promise<Record<string, string>> {
  return page.$$eval('#graph svg .node', (nodes) =>
    Object.fromEntries(nodes.map((n) => [n.getAttribute('data-state') ?? '', n.getAttribute('data-status') ?? ''])),
  );
}

describe.skipIf(!HAVE_CHROMIUM)(HAVE_CHROMIUM ? 'history page in headless Chromium' : `history page: ${SKIP_REASON}`, () => {
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
  const allStates = () => flatten(engine.describeWorkflow('checkout').states as StateDesc[]);

  beforeAll(async () => {
    store = await openStore(':memory:');
    engine = new Engine({ store });
    engine.register(checkout, shipping);
    await engine.start();

    app = buildServer({ engine });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    securedApp = buildServer({ engine, token: TOKEN });
    await securedApp.listen({ host: '127.0.0.1', port: 0 });
    securedBase = `http://127.0.0.1:${(securedApp.server.address() as AddressInfo).port}`;

    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await securedApp?.close();
    await engine?.stop({ graceMs: 2000 });
    await store?.close();
  });

  async function openPage(): Promise<Page> {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      // A 401 from the API is expected in the token test; anything else (CSP violations included) is not.
      if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    return page;
  }

  afterEach(async () => {
    await context?.close();
    expect(problems, 'page errors, CSP violations or failed loads').toEqual([]);
  });

  it('shows a running checkout live and turns SUCCEEDED without a reload', async () => {
    const id = 'order-live-1';
    // processPayment waits at the gate until the page has shown the execution running.
    const held = gateOf(checkout).hold(id, 'processPayment');
    await engine.startExecution('checkout', order(id, { stepDelayMs: 20, shippingDelayMs: 300 }), { id });
    await held.reached;
    await openPage();
    let navigations = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });

    await page.goto(`${base}/executions/${id}`);
    const loadsAfterGoto = navigations;
    await page.evaluate(() => {
      (window as unknown as { sameDocument: boolean }).sameDocument = true;
    });

    // While it runs: the header says RUNNING and some state is running.
    await page.waitForSelector('#exec-status[data-status="RUNNING"]', { timeout: 10_000 });
    await page.waitForSelector('#graph svg .node[data-status="running"]', { timeout: 10_000 });
    const running = await nodeStatuses(page);
    expect(running.validateCart).toBe('succeeded');
    expect(running.processPayment).toBe('running');
    expect(running.sendConfirmation).toBe('not-reached');
    await screenshot(page, 'page-running.png');

    // One node per state, top level and inside the parallel branches.
    const names = allStates().map((s) => s.name);
    expect(Object.keys(running).sort()).toEqual([...names].sort());
    for (const name of names) expect(await page.locator(`#graph svg .node[data-state="${name}"]`).count(), name).toBe(1);

    // Then, without any navigation, it turns SUCCEEDED.
    held.open();
    await page.waitForSelector('#exec-status[data-status="SUCCEEDED"]', { timeout: 25_000 });
    await page.waitForFunction(() => document.getElementById('live')?.textContent?.startsWith('final'));
    expect(navigations).toBe(loadsAfterGoto);
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);

    const statuses = await nodeStatuses(page);
    const path = ['validateCart', 'cartValid', 'processPayment', 'needsReview', 'fulfil', 'createOrder', 'sendReceipt', 'reserveInventory', 'waitForShipping', 'scheduleShipping', 'sendConfirmation', 'done'];
    for (const name of names) expect(statuses[name], name).toBe(path.includes(name) ? 'succeeded' : 'not-reached');
    expect(statuses.InvalidCart).toBe('not-reached');
    expect(await page.locator('#graph svg .edge.taken[data-from="cartValid"][data-to="processPayment"]').count()).toBe(1);
    expect(await page.locator('#graph svg .edge.taken[data-to="InvalidCart"]').count()).toBe(0);

    // The timeline has every event, in order, with durations.
    const history = await engine.getHistory(id, { limit: 1000 });
    const rows = page.locator('#timeline tbody tr');
    expect(await rows.count()).toBe(history.events.length);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-type')))).toEqual(history.events.map((e) => e.type));
    const paid = page.locator('#timeline tbody tr[data-type="StepSucceeded"][data-step="processPayment"]');
    expect(await paid.count()).toBe(1);
    expect(await paid.locator('td').nth(4).textContent()).toMatch(/\d+(\.\d+)? (ms|s)$/);
    expect(await page.locator('#timeline tbody tr[data-type="TimerFired"][data-step="waitForShipping"]').count()).toBe(1);
    expect(await rows.last().getAttribute('data-type')).toBe('ExecutionSucceeded');
    expect(await page.locator('#legend [data-legend]').count()).toBe(6);

    // Clicking a state filters the timeline to its events.
    await page.click('#graph svg .node[data-state="processPayment"]');
    const shown = await page.locator('#timeline tbody tr:not(.hidden)').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-step')));
    expect(shown.length).toBeGreaterThanOrEqual(2);
    expect(new Set(shown)).toEqual(new Set(['processPayment']));
    await page.click('#graph svg .node[data-state="processPayment"]');
    expect(await page.locator('#timeline tbody tr.hidden').count()).toBe(0);

    await screenshot(page, 'page.png');
  });

  it('lists recent executions on / and links to each', async () => {
    const id = 'order-list-1';
    await engine.startExecution('checkout', order(id), { id });
    await engine.waitForEnd(id, 15_000);
    await openPage();
    await page.goto(`${base}/`);
    const row = page.locator(`#executions tbody tr[data-id="${id}"]`);
    await row.waitFor({ timeout: 10_000 });
    const cells = await row.locator('td').allTextContents();
    expect(cells[0]).toBe(id);
    expect(cells[1]).toContain('checkout');
    expect(cells[2]).toBe('SUCCEEDED');
    expect(cells[3]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(cells[4]).toMatch(/\d+(\.\d+)? (ms|s)$/);
    expect(await page.locator('#executions tbody tr[data-id="order-live-1"]').count()).toBe(1);
    await screenshot(page, 'page-list.png', false);

    await row.locator('a').click();
    await page.waitForURL(`${base}/executions/${id}`);
    await page.waitForSelector('#exec-status[data-status="SUCCEEDED"]');
  });

  it('colours a failed step and the compensated one when inventory runs out', async () => {
    const id = 'order-out-of-stock';
    await engine.startExecution('checkout', order(id, { outOfStock: true }), { id });
    const ended = await engine.waitForEnd(id, 15_000);
    expect(ended.status).toBe('FAILED');
    await openPage();
    await page.goto(`${base}/executions/${id}`);
    await page.waitForSelector('#exec-status[data-status="FAILED"]');
    await page.waitForFunction(() => document.getElementById('live')?.textContent?.startsWith('final'));
    const statuses = await nodeStatuses(page);
    expect(statuses.reserveInventory).toBe('failed');
    expect(statuses.processPayment).toBe('compensated');
    expect(statuses.fulfil).toBe('failed');
    expect(statuses.createOrder).toBe('succeeded');
    // sendReceipt may have been running when the sibling branch failed: cut short, never "failed".
    expect(['cancelled', 'succeeded', 'not-reached']).toContain(statuses.sendReceipt);
    expect(statuses.waitForShipping).toBe('not-reached');
    expect(statuses.done).toBe('not-reached');
    expect(await page.locator('#timeline tbody tr[data-type="CompensationSucceeded"]').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#exec-error').textContent()).not.toBe('');
    await screenshot(page, 'page-failed.png');
  });

  it("shows the execution's usage and cost, the numbers of GET /v1/executions/:id/usage, kept up to date until the end", async () => {
    const id = 'order-usage-1';
    // A payment retry and a compensation, so every count is above zero; held while the page first loads.
    const held = gateOf(checkout).hold(id, 'processPayment');
    await engine.startExecution('checkout', order(id, { paymentTransientFailures: 1, outOfStock: true }), { id });
    await held.reached;
    await openPage();
    await page.goto(`${base}/executions/${id}`);
    await page.waitForSelector('#exec-usage [data-usage="stateTransitions"] dd', { timeout: 10_000 });
    const shown = () => page.$$eval('#exec-usage [data-usage] dd', (dds) =>
      Object.fromEntries(dds.map((dd) => [dd.parentElement!.getAttribute('data-usage'), { value: Number(dd.getAttribute('data-value')), text: dd.textContent ?? '' }])));
    const whileRunning = await shown();
    expect(whileRunning.stateTransitions!.value).toBeGreaterThanOrEqual(1);

    held.open();
    expect((await engine.waitForEnd(id, 20_000)).status).toBe('FAILED');
    await page.waitForFunction(() => document.getElementById('live')?.textContent?.startsWith('final'), undefined, { timeout: 15_000 });
    const res = await app.inject({ method: 'GET', url: `/v1/executions/${id}/usage` });
    const api = JSON.parse(res.body) as { usage: Record<string, number>; cost: { amount: number; currency: string } };
    const final = await shown();
    for (const [key, value] of Object.entries(api.usage)) expect(final[key]?.value, key).toBe(value);
    expect(final.cost!.value).toBe(api.cost.amount);
    expect(final.cost!.text).toBe(`${api.cost.amount.toFixed(6)} USD`);
    expect(api.usage.retries).toBe(1);
    expect(api.usage.stateTransitions).toBeGreaterThan(whileRunning.stateTransitions!.value);
    expect(final.stateTransitions!.text).toBe(String(api.usage.stateTransitions));
    expect(final.handlerMs!.text).toMatch(/\d+(\.\d+)? (ms|s)$/);
    await screenshot(page, 'page-usage.png');
  });

  it('follows a cancel live: the waiting state is cut short and done steps are compensated', async () => {
    const id = 'order-cancelled';
    await engine.startExecution('checkout', order(id, { shippingDelayMs: 60_000 }), { id });
    await openPage();
    await page.goto(`${base}/executions/${id}`);
    await page.waitForSelector('#graph svg .node[data-state="waitForShipping"][data-status="running"]', { timeout: 10_000 });
    expect(await page.locator('#graph svg .node[data-state="waitForShipping"] text.detail').textContent()).toMatch(/^waiting until/);

    await engine.cancel(id);
    await page.waitForSelector('#exec-status[data-status="CANCELLED"]', { timeout: 10_000 });
    await page.waitForFunction(() => document.getElementById('live')?.textContent?.startsWith('final'));
    const statuses = await nodeStatuses(page);
    expect(statuses.waitForShipping).toBe('cancelled');
    expect(statuses.processPayment).toBe('compensated');
    expect(statuses.reserveInventory).toBe('compensated');
    expect(statuses.createOrder).toBe('succeeded');
    expect(statuses.scheduleShipping).toBe('not-reached');
    expect(await page.locator('#timeline tbody tr[data-type="CancelRequested"]').count()).toBe(1);
    expect(await page.locator('#timeline tbody tr[data-type="ExecutionCancelled"]').count()).toBe(1);
  });

  it('renders hostile input as text and cuts huge payloads behind an expander', async () => {
    const id = 'order-hostile';
    const evil = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';
    const items = Array.from({ length: 400 }, (_, i) => ({ sku: `SKU-${i}-${evil}`, qty: 1, price: 1 }));
    await engine.startExecution('checkout', order(id, {}, { email: `a@example.com${evil}`, items }), { id });
    await engine.waitForEnd(id, 15_000);
    await openPage();
    await page.goto(`${base}/executions/${id}`);
    await page.waitForFunction(() => document.getElementById('live')?.textContent?.startsWith('final'));

    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.locator('main script').count()).toBe(0);

    const input = page.locator('#exec-input pre');
    const preview = (await input.textContent()) ?? '';
    expect(preview).toContain('<img src=x');
    expect(preview.length).toBeLessThan(1000);
    await page.locator('#exec-input button.expander').click();
    const full = (await input.textContent()) ?? '';
    expect(full.length).toBeGreaterThan(20_000);
    expect(full).toContain('SKU-399-');
    expect(await page.locator('#timeline tbody tr[data-type="ExecutionStarted"] button.expander').count()).toBe(1);
  });

  it('needs the token for the page too, then keeps it in the tab and out of the URL', async () => {
    const id = 'order-live-1';
    await openPage();
    const authHeaders: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/v1/')) authHeaders.push(r.headers()['authorization'] ?? '');
    });

    // Without the token the page itself is refused, not only its data.
    const refused = await page.goto(`${securedBase}/executions/${id}`);
    expect(refused?.status()).toBe(401);

    await page.goto(`${securedBase}/executions/${id}?token=${TOKEN}`);
    await page.waitForSelector('#exec-status[data-status="SUCCEEDED"]', { timeout: 10_000 });
    expect(page.url()).toBe(`${securedBase}/executions/${id}`);
    expect(await page.evaluate(() => sessionStorage.getItem('stepwise.token'))).toBe(TOKEN);

    await page.click('header a.brand');
    await page.locator(`#executions tbody tr[data-id="${id}"]`).waitFor({ timeout: 10_000 });
    expect(authHeaders.filter((h) => h === `Bearer ${TOKEN}`).length).toBeGreaterThanOrEqual(3);
  });
});
