import { afterEach, describe, expect, it, vi } from 'vitest';
import { workflow } from '../../src/index.js';
import { BacklogCache } from '../../src/engine/backlog-cache.js';
import type { Live } from '../../src/engine/draft.js';
import { trace, virtualEngine } from '../helpers/virtual-engine.js';

type Harness = Awaited<ReturnType<typeof virtualEngine>>;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const probe = workflow<{ n: number }>('probe')
  .wait('nap', { durationMs: 1000 })
  .task('after', async (d) => d.n * 2)
  .build();

describe('a timer burst beyond the engine capacity', () => {
  it('reads each fired execution once: the claim of its backlogged step finds it kept restored', async () => {
    h = await virtualEngine([probe], { concurrency: 2 });
    const store = h.store;
    const read: string[] = [];
    const getStepStates = store.getStepStates!.bind(store);
    store.getStepStates = (ids) => {
      read.push(...ids);
      return getStepStates(ids);
    };
    const ids = await Promise.all(Array.from({ length: 12 }, (_, n) => h!.start('probe', { n }, `p${n}`)));
    await h.settle();
    read.length = 0;
    // The length of the snapshot each execution's latest commit stored, and what keep() was given.
    const stored = new Map<string, number>();
    const commit = store.commit.bind(store);
    store.commit = (commits) => {
      for (const c of commits) stored.set(c.executionId, JSON.stringify(c.snapshot).length);
      return commit(commits);
    };
    const kept: Array<{ chars: number | undefined; stored: number | undefined }> = [];
    const realKeep = BacklogCache.prototype.keep;
    const keep = vi.spyOn(BacklogCache.prototype, 'keep').mockImplementation(function (this: BacklogCache, live, chars) {
      kept.push({ chars, stored: stored.get(live.id) });
      realKeep.call(this, live, chars);
    });
    expect(await h.advanceToNextTimer()).toBe(true); // all twelve timers are due at once
    for (const id of ids) await h.runToEnd(id);
    for (const [n, id] of ids.entries()) {
      expect((await h.engine.getExecution(id)).output).toBe(n * 2);
      expect(trace(await h.history(id), ['TimerFired', 'StepStarted', 'StepSucceeded', 'ExecutionSucceeded']))
        .toEqual(['TimerFired:nap', 'StepStarted:after', 'StepSucceeded:after', 'ExecutionSucceeded']);
    }
    // One read per firing; the ten whose step waited for capacity were not read again at its claim.
    expect(read.sort()).toEqual([...ids].sort());
    // Each kept with the length of the snapshot its commit stored, as SQLite told it (what the size bound counts).
    keep.mockRestore();
    expect(kept.length).toBeGreaterThanOrEqual(10);
    for (const k of kept) expect(k.chars).toBe(k.stored);
  });
});

describe('BacklogCache', () => {
  const live = (id: string) => ({ id }) as Live;

  it('gives an entry back once, and keeps no more than its bound (the oldest stay)', () => {
    const cache = new BacklogCache(2);
    cache.keep(live('a'));
    cache.keep(live('b'));
    cache.keep(live('c'));
    expect(cache.size).toBe(2);
    expect(cache.take('c')).toBeUndefined();
    expect(cache.take('a')?.id).toBe('a');
    expect(cache.take('a')).toBeUndefined();

    // At the bound, a newer state of one kept replaces it (the older one is never given back).
    const full = new BacklogCache(2);
    const older = live('x');
    const newer = live('x');
    full.keep(older);
    full.keep(live('y'));
    full.keep(newer);
    expect(full.size).toBe(2);
    expect(full.take('x')).toBe(newer);
  });

  it('keeps no more snapshot than its character bound: large contexts are read back at their claim instead', () => {
    const cache = new BacklogCache(10, 1000);
    cache.keep(live('a'), 400);
    cache.keep(live('b'), 400);
    cache.keep(live('c'), 400); // would hold 1,200
    expect([cache.size, cache.chars]).toEqual([2, 800]);
    expect(cache.take('c')).toBeUndefined();
    cache.keep(live('a'), 700); // a's newer state does not fit: its older one is not kept either
    expect(cache.take('a')).toBeUndefined();
    expect([cache.size, cache.chars]).toEqual([1, 400]);
    cache.keep(live('d'), 600);
    expect(cache.take('d')?.id).toBe('d');
    expect(cache.chars).toBe(400);
  });

  it("a SQLite commit tells its stored snapshot's length, which the engine bounds the cache by", async () => {
    const { SqliteStore } = await import('../../src/persistence/sqlite/sqlite-store.js');
    const store = await SqliteStore.open(':memory:');
    const snapshot = { value: 'nap', context: { text: 'x'.repeat(5000) } };
    const [outcome] = await store.commit([{
      executionId: 'e1', create: { workflow: 'wf', version: 'v1', input: null, startedAt: 1 }, expectedSeq: 0,
      events: [{ type: 'ExecutionStarted', timestamp: 1, data: { input: null } }], snapshot, status: 'RUNNING',
    }]);
    expect(outcome).toEqual({ ok: true, lastSeq: 1, snapshotChars: JSON.stringify(snapshot).length });
    await store.close();
  });
});
