/**
 * The list page's schedules section in headless Chromium against the real server: each schedule
 * with its next run and its last run linked to the execution; hidden when the server has no
 * schedule runner. Skipped without /usr/bin/chromium unless STEPWISE_REQUIRE_CHROMIUM=1.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { schedule } from '../../src/index.js';
import { MINUTE, T0, scheduleRig } from '../schedules/schedule-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM && process.env.STEPWISE_REQUIRE_CHROMIUM === '1') throw new Error(`STEPWISE_REQUIRE_CHROMIUM=1 and ${CHROMIUM} is not installed`);
if (!HAVE_CHROMIUM) console.warn(`[test/browser/page-schedules.test.ts] SKIPPED: ${CHROMIUM} is not installed`);

describe.skipIf(!HAVE_CHROMIUM)('the schedules on the list page', () => {
  let rig: Awaited<ReturnType<typeof scheduleRig>>;
  let app: FastifyInstance;
  let bare: FastifyInstance;
  let browser: Browser;
  const urlOf = (a: FastifyInstance) => `http://127.0.0.1:${(a.server.address() as AddressInfo).port}`;

  beforeAll(async () => {
    rig = await scheduleRig({
      schedules: [
        schedule({ id: 'minutely', cron: '* * * * *', workflow: 'quick' }),
        schedule({ id: 'nightly', cron: '0 2 * * *', timezone: 'Europe/Paris', workflow: 'quick', paused: true }),
      ],
    });
    await rig.advanceTo(T0 + MINUTE);
    app = buildServer({ engine: rig.engine, schedules: rig.runner });
    bare = buildServer({ engine: rig.engine });
    await app.listen({ host: '127.0.0.1', port: 0 });
    await bare.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await bare?.close();
    await rig?.close();
  });

  it('lists each schedule with its next and last runs', async () => {
    const page = await browser.newPage();
    await page.goto(`${urlOf(app)}/`);
    const minutely = page.locator('#schedules tr[data-schedule="minutely"]');
    await minutely.waitFor();
    expect(await page.locator('#schedules').isVisible()).toBe(true);
    const cells = await minutely.locator('td').allInnerTexts();
    expect(cells[0]).toBe('minutely');
    expect(cells[1]).toBe('* * * * *');
    expect(cells[4]).toContain('SUCCEEDED');
    expect(cells[5]).toBe('1 / 0 / 0 / 0');
    expect(await minutely.locator('a').getAttribute('href')).toBe(`/executions/${encodeURIComponent('minutely@2026-01-01T00:01:00.000Z')}`);
    const nightly = await page.locator('#schedules tr[data-schedule="nightly"] td').allInnerTexts();
    expect(nightly[1]).toBe('0 2 * * * (Europe/Paris)');
    expect(nightly[3]).toBe('paused');
    await page.close();
  });

  it('has no schedules section, and asks for none, on a server without a schedule runner', async () => {
    const page = await browser.newPage();
    const asked: string[] = [];
    page.on('request', (r) => asked.push(new URL(r.url()).pathname));
    await page.goto(`${urlOf(bare)}/`);
    await page.locator('#executions tbody tr').first().waitFor();
    expect(await page.locator('#schedules').count()).toBe(0);
    expect(asked).toContain('/v1/executions');
    expect(asked).not.toContain('/v1/schedules');
    await page.close();
  });
});
