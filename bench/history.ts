/**
 * 5. History: reads the full history of one execution with ~10,000 events, page by page
 * (limit=1000, after=nextCursor), through the HTTP API
 * (app.inject on buildServer, response JSON parsed as a client would) and directly through
 * engine.getHistory. Reports p50/p99 of the full read. Also reports how long the map took to run,
 * since each map item's commit rewrites the execution's snapshot, which holds every item.
 *
 * A map item writes 2 events (StepStarted, StepSucceeded), so ~10,000 events take a map over
 * 5,000 items (10,003 events); the 2,500-item map (5,003 events) is measured too.
 */
import { buildServer } from '../src/api/server.js';
import { openRig } from './harness.js';
import { benchDir, benchId, now, removeDir, round, summarize, type BenchResult, type Row } from './util.js';
import { bigMap } from './workflows.js';

export interface HistoryOptions { items: number[]; reads: number; pageLimit: number }
const DEFAULTS: HistoryOptions = { items: [5000, 2500], reads: 30, pageLimit: 1000 };

export async function run(given: Partial<HistoryOptions> = {}): Promise<BenchResult> {
  const opts = { ...DEFAULTS, ...given };
  const result: BenchResult = { bench: 'history', rows: [], notes: [], details: { options: opts } };
  for (const [i, items] of opts.items.entries()) {
    const one = await measure(items, opts, i === 0);
    result.rows.push(...one.rows);
    result.notes.push(...one.notes);
    result.details[`items${items}`] = one.details;
  }
  return result;
}

async function measure(itemCount: number, opts: HistoryOptions, primary: boolean): Promise<BenchResult> {
  const dir = benchDir('history');
  try {
    const rig = await openRig(dir, 'full', [bigMap]);
    const id = benchId('bigmap');
    const items = Array.from({ length: itemCount }, (_, i) => i);
    const ended = rig.probe.endOf(id);
    const tBuild = now();
    await rig.engine.startExecution('bigMap', { items }, { id });
    const buildMs = (await ended) - tBuild;
    const buildTx = rig.probe.transactions;
    const eventCount = rig.store.connection.prepare('SELECT count(*) FROM history WHERE execution_id = ?').pluck().get(id) as number;
    const snapshotBytes = rig.store.connection.prepare('SELECT length(snapshot) FROM executions WHERE id = ?').pluck().get(id) as number;

    const app = buildServer({ engine: rig.engine, logger: false });
    await app.ready();

    const viaApi = async (): Promise<number> => {
      let after: string | undefined;
      let n = 0;
      for (;;) {
        const url = `/v1/executions/${encodeURIComponent(id)}/history?limit=${opts.pageLimit}${after ? `&after=${after}` : ''}`;
        const res = await app.inject({ method: 'GET', url });
        if (res.statusCode !== 200) throw new Error(`history page: HTTP ${res.statusCode} ${res.body.slice(0, 200)}`);
        const page = JSON.parse(res.body) as { events: unknown[]; nextCursor?: string };
        n += page.events.length;
        if (!page.nextCursor) return n;
        after = page.nextCursor;
      }
    };
    const viaEngine = async (): Promise<number> => {
      let after: string | undefined;
      let n = 0;
      for (;;) {
        const page = await rig.engine.getHistory(id, { limit: opts.pageLimit, ...(after ? { after } : {}) });
        n += page.events.length;
        if (!page.nextCursor) return n;
        after = page.nextCursor;
      }
    };
    const time = async (read: () => Promise<number>) => {
      for (let i = 0; i < 3; i++) await read(); // warm up
      const ms: number[] = [];
      let events = 0;
      for (let i = 0; i < opts.reads; i++) {
        const t0 = now();
        events = await read();
        ms.push(now() - t0);
      }
      return { events, ...summarize(ms) };
    };
    const api = await time(viaApi);
    const direct = await time(viaEngine);
    await app.close();
    await rig.close();

    const k = `history.${itemCount}`;
    const rows: Row[] = [
      {
        key: `${k}.apiP50`, bench: 'history', label: `${api.events}-event history via API (${itemCount}-item map, pages of ${opts.pageLimit}): p50`,
        value: round(api.p50, 2), unit: 'ms', baseline: round(direct.p50, 2), baselineLabel: 'engine.getHistory p50',
        ratio: round(api.p50 / direct.p50, 2), ...(primary ? { target: '< 50 ms', pass: api.p50 < 50 } : {}), note: `p99 ${round(api.p99, 2)} ms`,
      },
      {
        key: `${k}.engineP50`, bench: 'history', label: `${direct.events}-event history via engine.getHistory: p50`,
        value: round(direct.p50, 2), unit: 'ms', note: `p99 ${round(direct.p99, 2)} ms`,
      },
      {
        key: `${k}.buildMs`, bench: 'history', label: `running the ${itemCount}-item map itself (${eventCount} events)`,
        value: round(buildMs, 0), unit: 'ms', note: `${buildTx} transactions; final snapshot ${round(snapshotBytes / 1024, 0)} KiB`,
      },
    ];
    const notes: string[] = [];
    if (primary && eventCount < 9000) notes.push(`History: the ${itemCount}-item map wrote ${eventCount} events, not ~10,000.`);
    return { bench: 'history', rows, notes, details: { eventCount, snapshotBytes, buildMs, buildTx, api, direct } };
  } finally {
    removeDir(dir);
  }
}
