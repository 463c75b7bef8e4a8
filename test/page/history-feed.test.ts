/**
 * The history page's reading of a history, without a browser: every event once and in order,
 * page by page, then only what is new, against the API's own paging rules.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api/page/client/api.js';
import { HistoryFeed } from '../../src/api/page/client/history-feed.js';
import type { ApiHistoryEvent, HistoryPage } from '../../src/api/page/client/types.js';
import { HistoryEventType as E } from '../../src/core/events.js';

function event(seq: number, type: string = E.StepStarted): ApiHistoryEvent {
  return { seq, type, timestamp: new Date(seq * 1000).toISOString(), step: `s${seq}` };
}

/** A server holding `events`, paging like GET /v1/executions/:id/history (`after` is a seq). */
function server(events: ApiHistoryEvent[], pageSize: number, opts: { refuseMadeUpCursors?: boolean } = {}) {
  const calls: Array<string | null> = [];
  const given = new Set<string>();
  const fetchPage = async (after: string | null): Promise<HistoryPage> => {
    calls.push(after);
    if (after !== null && opts.refuseMadeUpCursors && !given.has(after)) throw new ApiError(400, 'VALIDATION_FAILED', 'not a cursor');
    const from = after === null ? 0 : Number(after);
    const page = events.filter((e) => e.seq > from).slice(0, pageSize);
    const more = events.some((e) => e.seq > (page.at(-1)?.seq ?? from));
    if (!more) return { events: page };
    const nextCursor = String(page.at(-1)!.seq);
    given.add(nextCursor);
    return { events: page, nextCursor };
  };
  return { fetchPage, calls };
}

describe('history feed', () => {
  it('reads every page, then asks only for what follows the newest event', async () => {
    const events = [1, 2, 3, 4, 5].map((n) => event(n));
    const s = server(events, 2);
    const feed = new HistoryFeed(s.fetchPage);
    await feed.poll();
    expect(feed.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(s.calls).toEqual([null, '2', '4']);

    events.push(event(6), event(7, E.ExecutionSucceeded));
    expect(feed.sawEnd).toBe(false);
    await feed.poll();
    expect(s.calls.slice(3)).toEqual(['5']);
    expect(feed.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(feed.sawEnd).toBe(true);

    // A redrive after the end: the execution runs again until its next end.
    events.push(event(8, E.ExecutionRedriven));
    await feed.poll();
    expect(feed.sawEnd).toBe(false);
    events.push(event(9, E.ExecutionSucceeded));
    await feed.poll();
    expect(feed.sawEnd).toBe(true);
  });

  it('re-reads from the start on every poll when the server refuses a cursor it did not give, without duplicates', async () => {
    const events = [1, 2, 3].map((n) => event(n));
    const s = server(events, 10, { refuseMadeUpCursors: true });
    const feed = new HistoryFeed(s.fetchPage);
    await feed.poll();
    events.push(event(4));
    await feed.poll();
    expect(s.calls).toEqual([null, '3', null]);
    await feed.poll();
    expect(s.calls.slice(3)).toEqual([null]);
    expect(feed.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('keeps events in seq order whatever order they arrive in, and drops repeats', () => {
    const feed = new HistoryFeed(async () => ({ events: [] }));
    expect(feed.add([event(3), event(1)])).toBe(true);
    expect(feed.add([event(1), event(2)])).toBe(true);
    expect(feed.add([event(2)])).toBe(false);
    expect(feed.events.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('passes any other error on', async () => {
    const feed = new HistoryFeed(async () => {
      throw new ApiError(503, 'STORE_UNAVAILABLE', 'busy');
    });
    await expect(feed.poll()).rejects.toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE' });
  });
});
