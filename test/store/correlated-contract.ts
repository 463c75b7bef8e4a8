/**
 * The store contract for correlated events (POST /v1/events): the index of keyed waits kept by
 * commits, `publishEvent`, delivery as 'event' rows, retention and purge. Called from
 * `describeStoreContract`, so both adapters run it.
 */
import { describe, expect, it } from 'vitest';
import type { CorrelatedEvent, EventWait, ExecutionCommit, Store } from '../../src/core/store.js';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3600_000;

export function correlatedEventsContract(getStore: () => Store): void {
  describe('correlated events', () => {
    let n = 0;
    const uid = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`;
    const store = () => getStore();

    async function create(id: string, waits?: EventWait[], now = T0): Promise<void> {
      const commit: ExecutionCommit = {
        executionId: id, create: { workflow: 'wf', version: 'v1', input: null, startedAt: T0 }, expectedSeq: 0,
        events: [{ type: 'ExecutionStarted', timestamp: T0 }], snapshot: { value: 'start' }, status: 'RUNNING',
      };
      if (waits) commit.eventWaits = { waits, now };
      expect(await store().commit([commit])).toEqual([{ ok: true, lastSeq: 1 }]);
    }

    /** A step commit on `id` (whose lastSeq is `seq`) setting its waits; returns the outcome. */
    async function step(id: string, seq: number, waits: EventWait[], now: number, extra: Partial<ExecutionCommit> = {}) {
      const [outcome] = await store().commit([{
        executionId: id, expectedSeq: seq, events: [{ type: 'StateEntered', timestamp: now }], snapshot: { seq }, status: 'RUNNING',
        eventWaits: { waits, now }, ...extra,
      }]);
      return outcome;
    }

    const event = (name: string, key: string, at: number, extra: Partial<CorrelatedEvent> = {}): CorrelatedEvent => ({
      id: uid('evt'), name, key, payload: { at }, receivedAt: at, expiresAt: at + HOUR, ...extra,
    });

    const eventRows = async (id: string) => (await store().listWork(id)).filter((w) => w.kind === 'event').map((w) => `${w.key}@${w.dueAt}`);

    it('delivers a published event to every execution waiting on its name and key, as an event row due now', async () => {
      const key = uid('k');
      const [a, b, other, otherName] = [uid('a'), uid('b'), uid('o'), uid('n')];
      await create(a, [{ name: 'paid', key }]);
      await create(b, [{ name: 'paid', key }, { name: 'shipped', key }]);
      await create(other, [{ name: 'paid', key: `${key}-x` }]);
      await create(otherName, [{ name: 'refund', key }]);
      const e = event('paid', key, T0 + 5);
      const out = await store().publishEvent(e, T0 + 5);
      expect(out.created).toBe(true);
      expect(out.event).toEqual(e);
      expect([...out.deliveredTo].sort()).toEqual([a, b].sort());
      expect(await eventRows(a)).toEqual([`${e.id}@${T0 + 5}`]);
      expect(await eventRows(b)).toEqual([`${e.id}@${T0 + 5}`]);
      expect(await eventRows(other)).toEqual([]);
      expect(await eventRows(otherName)).toEqual([]);
      expect((await store().readCorrelatedEvents([e.id, 'nope'])).get(e.id)).toEqual(e);
      // Claimed like any due row.
      const claimed = await store().claimWork({ owner: 'w', now: T0 + 5, leaseUntil: T0 + 100, limit: 10, kinds: ['event'] });
      expect(claimed.filter((w) => w.executionId === a || w.executionId === b)).toHaveLength(2);
    });

    it('a replayed id changes nothing and answers the first event and every execution it reached', async () => {
      const key = uid('k');
      const a = uid('a');
      await create(a, [{ name: 'paid', key }]);
      const e = event('paid', key, T0);
      await store().publishEvent(e, T0);
      const again = await store().publishEvent({ ...e, key: 'another', payload: 'changed', receivedAt: T0 + 1, expiresAt: T0 + 2 }, T0 + 1);
      expect(again).toEqual({ created: false, event: e, deliveredTo: [a] });
      expect(await eventRows(a)).toEqual([`${e.id}@${T0}`]);
    });

    it('an execution entering a wait gets the kept, unexpired events of its key in that commit, oldest first, each once', async () => {
      const key = uid('k');
      const early = event('paid', key, T0);
      const later = event('paid', key, T0 + 10);
      const expired = event('paid', key, T0 - 2 * HOUR);
      for (const e of [early, later, expired]) expect((await store().publishEvent(e, e.receivedAt)).deliveredTo).toEqual([]);
      const x = uid('x');
      await create(x);
      expect(await eventRows(x)).toEqual([]);
      expect(await step(x, 1, [{ name: 'paid', key }], T0 + 20)).toEqual({ ok: true, lastSeq: 2 });
      expect(await eventRows(x)).toEqual([`${early.id}@${T0}`, `${later.id}@${T0 + 10}`]);
      // Consumed, then the wait is left and entered again: nothing is delivered twice.
      await store().claimWork({ owner: 'w', now: T0 + 20, leaseUntil: T0 + 100, limit: 10, kinds: ['event'] });
      const consume = [early, later].map((e) => ({ executionId: x, kind: 'event' as const, key: e.id, owner: 'w' }));
      expect(await step(x, 2, [], T0 + 21, { consume })).toEqual({ ok: true, lastSeq: 3 });
      expect(await step(x, 3, [{ name: 'paid', key }], T0 + 22)).toEqual({ ok: true, lastSeq: 4 });
      expect(await eventRows(x)).toEqual([]);
      // A created execution that waits at once gets them too.
      const y = uid('y');
      await create(y, [{ name: 'paid', key }], T0 + 30);
      expect(await eventRows(y)).toEqual([`${early.id}@${T0}`, `${later.id}@${T0 + 10}`]);
    });

    it('a left wait and a refused commit route nothing', async () => {
      const key = uid('k');
      const a = uid('a');
      await create(a, [{ name: 'paid', key }]);
      expect(await step(a, 1, [], T0 + 1)).toEqual({ ok: true, lastSeq: 2 });
      expect((await store().publishEvent(event('paid', key, T0 + 2), T0 + 2)).deliveredTo).toEqual([]);
      const key2 = uid('k');
      expect(await step(a, 1, [{ name: 'paid', key: key2 }], T0 + 3)).toEqual({ ok: false, reason: 'conflict' });
      expect((await store().publishEvent(event('paid', key2, T0 + 4), T0 + 4)).deliveredTo).toEqual([]);
      expect(await eventRows(a)).toEqual([]);
    });

    it('purges expired events no event row needs, and frees their ids', async () => {
      const key = uid('k');
      const gone = event('paid', `${key}-nobody`, T0, { expiresAt: T0 + 10 });
      const pending = event('paid', key, T0, { expiresAt: T0 + 10 });
      const alive = event('paid', key, T0, { expiresAt: T0 + HOUR });
      await store().publishEvent(gone, T0);
      const a = uid('a');
      await create(a, [{ name: 'paid', key }]);
      await store().publishEvent(pending, T0);
      await store().publishEvent(alive, T0);
      expect((await eventRows(a)).sort()).toEqual([`${pending.id}@${T0}`, `${alive.id}@${T0}`].sort());
      expect(await store().purgeCorrelatedEvents(T0 + 10, 1000)).toBeGreaterThanOrEqual(1);
      const kept = await store().readCorrelatedEvents([gone.id, pending.id, alive.id]);
      expect([...kept.keys()].sort()).toEqual([pending.id, alive.id].sort());
      // The purged id is new again; the pending one (its row not consumed) is still a replay.
      expect((await store().publishEvent({ ...gone, receivedAt: T0 + 20, expiresAt: T0 + HOUR }, T0 + 20)).created).toBe(true);
      expect((await store().publishEvent(pending, T0 + 20)).created).toBe(false);
    });
  });
}
