/**
 * The store contract: every behaviour of the `Store` port (src/core/store.ts) the engine relies on.
 * Each adapter's test file calls `describeStoreContract` once; a behaviour that differs between
 * adapters is a bug in one of them (or a gap in the port's comments), never a per-adapter test.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepwiseError } from '../../src/core/errors.js';
import type { NewHistoryEvent } from '../../src/core/events.js';
import type { ExecutionStatus } from '../../src/core/status.js';
import type { CommitOutcome, ExecutionCommit, NewWork, Store, WorkItem, WorkKind, WorkRef } from '../../src/core/store.js';
import { correlatedEventsContract } from './correlated-contract.js';

export interface StoreContractOptions {
  /**
   * Opens a second store on the same database as `store` (a second process, for a shared store).
   * Without it, concurrency tests run two callers against the one store. The test closes it.
   */
  openPeer?: (store: Store) => Promise<Store>;
}

/** A fixed epoch for the tests' virtual times. */
export const T0 = Date.UTC(2026, 0, 1);

/**
 * An outcome's `snapshotChars` is optional (a store gives it when it has it at hand): checked on
 * every commit here, to be the stored snapshot's JSON length and only on a landed commit, then
 * left out, so that the tests compare outcomes whole with toEqual whichever store runs them.
 */
function withComparableOutcomes(store: Store): Store {
  const commit = store.commit.bind(store);
  store.commit = async (commits) => (await commit(commits)).map((outcome, i) => {
    if (!('snapshotChars' in outcome)) return outcome;
    const { snapshotChars, ...rest } = outcome;
    expect(outcome.ok, 'snapshotChars only on a landed commit').toBe(true);
    expect(snapshotChars).toBe(JSON.stringify(commits[i].snapshot).length);
    return rest as CommitOutcome;
  });
  return store;
}

export function describeStoreContract(
  name: string,
  makeStore: () => Promise<Store>,
  cleanup: (store: Store) => Promise<void>,
  options: StoreContractOptions = {},
): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = withComparableOutcomes(await makeStore());
    });
    afterEach(async () => {
      await cleanup(store);
    });

    // -------------------------------------------------------------------------------------------
    // helpers

    let counter = 0;
    const uid = (prefix = 'ex') => `${prefix}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

    const ev = (type: NewHistoryEvent['type'], timestamp: number, extra: Partial<NewHistoryEvent> = {}): NewHistoryEvent => ({
      type,
      timestamp,
      ...extra,
    });

    function createCommit(
      id: string,
      opts: {
        workflow?: string; startedAt?: number; input?: unknown; events?: NewHistoryEvent[]; schedule?: NewWork[]; snapshot?: unknown;
        status?: ExecutionStatus; output?: unknown; endedAt?: number;
      } = {},
    ): ExecutionCommit {
      const startedAt = opts.startedAt ?? T0;
      const commit: ExecutionCommit = {
        executionId: id,
        create: { workflow: opts.workflow ?? 'wf', version: 'v1', input: 'input' in opts ? opts.input : { n: 1 }, startedAt },
        expectedSeq: 0,
        events: opts.events ?? [ev('ExecutionStarted', startedAt, { data: { input: opts.input ?? { n: 1 } } })],
        snapshot: opts.snapshot ?? { value: 'start' },
        status: opts.status ?? 'RUNNING',
      };
      if (opts.schedule) commit.schedule = opts.schedule;
      if ('output' in opts) commit.output = opts.output;
      if (opts.endedAt !== undefined) commit.endedAt = opts.endedAt;
      return commit;
    }

    function stepCommit(id: string, expectedSeq: number, extra: Partial<ExecutionCommit> = {}): ExecutionCommit {
      return {
        executionId: id,
        expectedSeq,
        events: [ev('StateEntered', T0 + expectedSeq + 1, { step: 'S' })],
        snapshot: { value: `after-${expectedSeq}` },
        status: 'RUNNING',
        ...extra,
      };
    }

    async function commitOne(commit: ExecutionCommit): Promise<CommitOutcome> {
      const outcomes = await store.commit([commit]);
      expect(outcomes).toHaveLength(1);
      return outcomes[0];
    }

    async function createExecution(id: string, opts: Parameters<typeof createCommit>[1] = {}): Promise<number> {
      const outcome = await commitOne(createCommit(id, opts));
      expect(outcome).toEqual({ ok: true, lastSeq: (opts.events ?? [null]).length });
      return (outcome as { lastSeq: number }).lastSeq;
    }

    const task = (executionId: string, key: string, dueAt: number, extra: Partial<NewWork> = {}): NewWork => ({
      executionId, kind: 'task', key, attempt: 1, dueAt, ...extra,
    });
    const ref = (executionId: string, key: string, kind: WorkKind = 'task'): WorkRef => ({ executionId, kind, key });
    const refsOf = (items: WorkItem[]) => items.map((w) => `${w.executionId}/${w.kind}/${w.key}`);

    /** An execution with the given work rows scheduled; returns its lastSeq. */
    async function withWork(id: string, work: NewWork[]): Promise<number> {
      return createExecution(id, { schedule: work });
    }

    // -------------------------------------------------------------------------------------------
    // create, read, optimistic concurrency

    describe('commit: create and read back', () => {
      it('creates an execution with its events, snapshot and status', async () => {
        const id = uid();
        const outcome = await commitOne(
          createCommit(id, {
            workflow: 'orders', startedAt: T0 + 5, input: { order: 7 }, snapshot: { value: 'charge', context: { a: 1 } },
            events: [ev('ExecutionStarted', T0 + 5, { data: { input: { order: 7 } } }), ev('StateEntered', T0 + 6, { step: 'charge' })],
          }),
        );
        expect(outcome).toEqual({ ok: true, lastSeq: 2 });
        const got = await store.getExecution(id);
        expect(got).toEqual({
          id, workflow: 'orders', version: 'v1', status: 'RUNNING', input: { order: 7 }, startedAt: T0 + 5,
          snapshot: { value: 'charge', context: { a: 1 } }, lastSeq: 2,
        });
        expect(got).not.toHaveProperty('output');
        expect(got).not.toHaveProperty('error');
        expect(got).not.toHaveProperty('endedAt');
        expect(await store.readHistory(id, 0, 100)).toEqual([
          { seq: 1, type: 'ExecutionStarted', timestamp: T0 + 5, data: { input: { order: 7 } } },
          { seq: 2, type: 'StateEntered', timestamp: T0 + 6, step: 'charge' },
        ]);
      });

      it('returns undefined for an unknown execution, and no history or work', async () => {
        expect(await store.getExecution('no-such-execution')).toBeUndefined();
        expect(await store.readHistory('no-such-execution', 0, 10)).toEqual([]);
        expect(await store.listWork('no-such-execution')).toEqual([]);
      });

      it("refuses a create for an id that exists with 'exists' and writes nothing", async () => {
        const id = uid();
        await createExecution(id, { workflow: 'first', input: 1, schedule: [task(id, 'A', T0)] });
        const outcome = await commitOne({
          ...createCommit(id, { workflow: 'second', input: 2, snapshot: { other: true } }),
          schedule: [task(id, 'B', T0)],
        });
        expect(outcome).toEqual({ ok: false, reason: 'exists' });
        const got = await store.getExecution(id);
        expect(got).toMatchObject({ workflow: 'first', input: 1, snapshot: { value: 'start' }, lastSeq: 1 });
        expect(await store.readHistory(id, 0, 10)).toHaveLength(1);
        expect(refsOf(await store.listWork(id))).toEqual([`${id}/task/A`]);
      });

      it('creates an execution that ends in its first commit', async () => {
        const id = uid();
        await createExecution(id, {
          status: 'SUCCEEDED', output: { done: true }, endedAt: T0 + 9,
          events: [ev('ExecutionStarted', T0), ev('ExecutionSucceeded', T0 + 9)],
        });
        expect(await store.getExecution(id)).toMatchObject({ status: 'SUCCEEDED', output: { done: true }, endedAt: T0 + 9, lastSeq: 2 });
      });

      it('creates with zero events: lastSeq stays 0', async () => {
        const id = uid();
        expect(await commitOne(createCommit(id, { events: [] }))).toEqual({ ok: true, lastSeq: 0 });
        expect(await store.getExecution(id)).toMatchObject({ lastSeq: 0 });
        expect(await store.readHistory(id, 0, 10)).toEqual([]);
      });

      it('keeps the trace context of a creating commit and returns it with the execution; none when it had none', async () => {
        const traced = uid();
        const plain = uid();
        const trace = JSON.stringify({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', span: { startedAt: T0 } });
        const withTrace = createCommit(traced);
        withTrace.create!.trace = trace;
        expect(await store.commit([withTrace, createCommit(plain)])).toEqual([{ ok: true, lastSeq: 1 }, { ok: true, lastSeq: 1 }]);
        expect((await store.getExecution(traced))?.trace).toBe(trace);
        expect(await store.getExecution(plain)).not.toHaveProperty('trace');
        const both = await store.getExecutions([traced, plain]);
        expect(both.get(traced)?.trace).toBe(trace);
        expect(both.get(plain)).not.toHaveProperty('trace');
        // A later commit leaves it as it was.
        expect(await commitOne(stepCommit(traced, 1))).toEqual({ ok: true, lastSeq: 2 });
        expect((await store.getExecution(traced))?.trace).toBe(trace);
      });

      it('returns an empty outcome list for an empty batch', async () => {
        expect(await store.commit([])).toEqual([]);
      });
    });

    describe('commit: optimistic concurrency and seq numbering', () => {
      it('numbers events expectedSeq+1, expectedSeq+2, … with no gaps across commits', async () => {
        const id = uid();
        let seq = await createExecution(id);
        expect(seq).toBe(1);
        const two = [ev('StepStarted', T0 + 1, { step: 'A', attempt: 1 }), ev('StepSucceeded', T0 + 2, { step: 'A', attempt: 1, data: { output: 1 } })];
        expect(await commitOne(stepCommit(id, seq, { events: two }))).toEqual({ ok: true, lastSeq: 3 });
        seq = 3;
        // a commit with no events keeps lastSeq (the snapshot still changes)
        expect(await commitOne(stepCommit(id, seq, { events: [], snapshot: { value: 'quiet' } }))).toEqual({ ok: true, lastSeq: 3 });
        expect(await commitOne(stepCommit(id, seq))).toEqual({ ok: true, lastSeq: 4 });
        const history = await store.readHistory(id, 0, 100);
        expect(history.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
        expect(history.map((e) => e.type)).toEqual(['ExecutionStarted', 'StepStarted', 'StepSucceeded', 'StateEntered']);
        expect(history[1]).toEqual({ seq: 2, type: 'StepStarted', timestamp: T0 + 1, step: 'A', attempt: 1 });
        expect(await store.getExecution(id)).toMatchObject({ lastSeq: 4, snapshot: { value: 'after-3' } });
      });

      it("refuses a stale expectedSeq with 'conflict' and writes nothing", async () => {
        const id = uid();
        await withWork(id, [task(id, 'A', T0, { leaseOwner: 'w1', leaseUntil: T0 + 100 })]);
        expect(await commitOne(stepCommit(id, 1))).toEqual({ ok: true, lastSeq: 2 });
        const before = await store.getExecution(id);
        const stale = stepCommit(id, 1, {
          events: [ev('StepSucceeded', T0 + 50, { step: 'A' })],
          snapshot: { value: 'stale' }, status: 'SUCCEEDED', output: 'x', endedAt: T0 + 50,
          consume: [{ ...ref(id, 'A'), owner: 'w1' }],
          schedule: [task(id, 'B', T0)],
        });
        expect(await commitOne(stale)).toEqual({ ok: false, reason: 'conflict' });
        expect(await store.getExecution(id)).toEqual(before);
        expect((await store.readHistory(id, 0, 100)).map((e) => e.seq)).toEqual([1, 2]);
        expect(refsOf(await store.listWork(id))).toEqual([`${id}/task/A`]);
        // an expectedSeq ahead of the execution is just as stale
        expect(await commitOne(stepCommit(id, 5))).toEqual({ ok: false, reason: 'conflict' });
      });

      it("answers 'conflict' for a non-create commit to an execution that does not exist", async () => {
        const id = uid();
        expect(await commitOne(stepCommit(id, 0))).toEqual({ ok: false, reason: 'conflict' });
        expect(await store.getExecution(id)).toBeUndefined();
        expect(await store.readHistory(id, 0, 10)).toEqual([]);
      });

      it('lets exactly one of two commits computed from the same lastSeq land', async () => {
        const id = uid();
        await createExecution(id);
        const outcomes = await store.commit([stepCommit(id, 1, { snapshot: 'first' }), stepCommit(id, 1, { snapshot: 'second' })]);
        expect(outcomes).toEqual([{ ok: true, lastSeq: 2 }, { ok: false, reason: 'conflict' }]);
        expect(await store.getExecution(id)).toMatchObject({ snapshot: 'first', lastSeq: 2 });
      });

      it('applies two commits of one execution in one batch in order (the second computed from the first)', async () => {
        const id = uid();
        await createExecution(id);
        const outcomes = await store.commit([
          stepCommit(id, 1, { events: [ev('StateEntered', T0 + 1), ev('StateEntered', T0 + 2)] }),
          stepCommit(id, 3, { snapshot: 'last' }),
        ]);
        expect(outcomes).toEqual([{ ok: true, lastSeq: 3 }, { ok: true, lastSeq: 4 }]);
        expect((await store.readHistory(id, 0, 10)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
        expect(await store.getExecution(id)).toMatchObject({ snapshot: 'last', lastSeq: 4 });
      });
    });

    describe('commit: status, output, error', () => {
      it('writes status, output, error and endedAt with the commit that sets endedAt', async () => {
        const ok = uid();
        await createExecution(ok);
        expect(await commitOne(stepCommit(ok, 1, { status: 'SUCCEEDED', output: [1, 'two'], endedAt: T0 + 10 }))).toEqual({ ok: true, lastSeq: 2 });
        const succeeded = await store.getExecution(ok);
        expect(succeeded).toMatchObject({ status: 'SUCCEEDED', output: [1, 'two'], endedAt: T0 + 10 });
        expect(succeeded).not.toHaveProperty('error');

        const bad = uid();
        await createExecution(bad);
        const error = { code: 'PaymentDeclined', message: 'card declined', terminal: true };
        await commitOne(stepCommit(bad, 1, { status: 'FAILED', error, endedAt: T0 + 11 }));
        const failed = await store.getExecution(bad);
        expect(failed).toMatchObject({ status: 'FAILED', error, endedAt: T0 + 11 });
        expect(failed).not.toHaveProperty('output');
      });

      it('keeps an output of null apart from no output', async () => {
        const id = uid();
        await createExecution(id);
        await commitOne(stepCommit(id, 1, { status: 'SUCCEEDED', output: null, endedAt: T0 + 10 }));
        const got = await store.getExecution(id);
        expect(got).toHaveProperty('output', null);
      });

      it('leaves status, output, error and endedAt as they were on a commit without endedAt', async () => {
        // Both adapters write the four together, only when the commit carries endedAt; a later
        // commit (e.g. a refused late result appended to an ended execution) cannot reopen it.
        const id = uid();
        await createExecution(id);
        await commitOne(stepCommit(id, 1, { status: 'CANCELLED', endedAt: T0 + 10 }));
        await commitOne(stepCommit(id, 2, { status: 'RUNNING', events: [ev('StepResultRefused', T0 + 20, { step: 'A' })] }));
        expect(await store.getExecution(id)).toMatchObject({ status: 'CANCELLED', endedAt: T0 + 10, lastSeq: 3 });
      });
    });

    // -------------------------------------------------------------------------------------------
    // history and listing

    describe('getExecutions', () => {
      it('reads many executions at once, keyed by id, leaving out ids that do not exist', async () => {
        const a = uid('many');
        const b = uid('many');
        await createExecution(a, { input: { which: 'a' } });
        await createExecution(b, { input: { which: 'b' }, events: [ev('ExecutionStarted', T0), ev('StateEntered', T0 + 1)] });
        await commitOne(stepCommit(b, 2, { status: 'SUCCEEDED', output: 'done', endedAt: T0 + 5 }));
        const got = await store.getExecutions([b, 'no-such-execution', a, b]);
        expect([...got.keys()].sort()).toEqual([a, b].sort());
        expect(got.get(a)).toEqual(await store.getExecution(a));
        expect(got.get(b)).toEqual(await store.getExecution(b));
        expect(got.get(b)).toMatchObject({ status: 'SUCCEEDED', output: 'done', lastSeq: 3 });
      });

      it('answers an empty map for no ids, or only unknown ones', async () => {
        expect(await store.getExecutions([])).toEqual(new Map());
        expect(await store.getExecutions(['nope-1', 'nope-2'])).toEqual(new Map());
      });

      it('reads a large set', async () => {
        const ids = Array.from({ length: 300 }, () => uid('set'));
        await store.commit(ids.map((id, i) => createCommit(id, { input: { i } })));
        const got = await store.getExecutions(ids);
        expect(got.size).toBe(300);
        ids.forEach((id, i) => expect(got.get(id)).toMatchObject({ id, input: { i }, lastSeq: 1, snapshot: { value: 'start' } }));
      });
    });

    describe('getStepStates', () => {
      it('reads what continuing an execution needs: snapshot, last_seq, parent and trace; the input only of a child not begun', async () => {
        if (!store.getStepStates) return; // optional: the engine falls back to getExecutions
        const parent = uid('parent');
        const traced = uid('traced');
        const withTrace = createCommit(traced, { input: { big: 'x'.repeat(100) } });
        withTrace.create!.trace = 'trace-text';
        await store.commit([withTrace]);
        await createExecution(parent, { input: { p: 1 } });
        const child = `${parent}:child:1`;
        expect(await commitOne(stepCommit(parent, 1, {
          spawn: [{ id: child, workflow: 'kid', version: 'v1', input: { k: 2 }, startedAt: T0 + 2, parent: { id: parent, key: 'child', attempt: 1 } }],
        }))).toEqual({ ok: true, lastSeq: 2 });
        await commitOne(stepCommit(traced, 1, { status: 'SUCCEEDED', output: 'done', endedAt: T0 + 5 }));
        const got = await store.getStepStates([traced, child, 'no-such-execution', parent, traced]);
        expect([...got.keys()].sort()).toEqual([child, parent, traced].sort());
        expect(got.get(traced)).toEqual({ id: traced, workflow: 'wf', version: 'v1', status: 'SUCCEEDED', snapshot: { value: 'after-1' }, lastSeq: 2, trace: 'trace-text' });
        expect(got.get(parent)).toEqual({ id: parent, workflow: 'wf', version: 'v1', status: 'RUNNING', snapshot: { value: 'after-1' }, lastSeq: 2 });
        expect(got.get(child)).toEqual({
          id: child, workflow: 'kid', version: 'v1', status: 'RUNNING', snapshot: null, lastSeq: 1, input: { k: 2 }, parent: { id: parent, key: 'child', attempt: 1 },
        });
        expect(await store.getStepStates([])).toEqual(new Map());
      });
    });

    describe('readHistory', () => {
      it('pages by afterSeq and limit', async () => {
        const id = uid();
        const events = Array.from({ length: 25 }, (_, i) => ev(i === 0 ? 'ExecutionStarted' : 'StateEntered', T0 + i, { step: `s${i}` }));
        await createExecution(id, { events });
        const pages: number[][] = [];
        let after = 0;
        for (;;) {
          const page = await store.readHistory(id, after, 10);
          if (page.length === 0) break;
          pages.push(page.map((e) => e.seq));
          after = page[page.length - 1].seq;
        }
        expect(pages).toEqual([
          [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
          [11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
          [21, 22, 23, 24, 25],
        ]);
        expect(await store.readHistory(id, 25, 10)).toEqual([]);
        expect((await store.readHistory(id, 3, 2)).map((e) => e.step)).toEqual(['s3', 's4']);
      });

      it("keeps each execution's history apart", async () => {
        const a = uid();
        const b = uid();
        await createExecution(a);
        await createExecution(b, { events: [ev('ExecutionStarted', T0), ev('StateEntered', T0)] });
        expect(await store.readHistory(a, 0, 10)).toHaveLength(1);
        expect(await store.readHistory(b, 0, 10)).toHaveLength(2);
      });
    });

    describe('listExecutions', () => {
      async function seed(): Promise<string[]> {
        // startedAt ties are broken by id, descending
        const specs = [
          { id: 'list-a', workflow: 'orders', startedAt: T0 + 1 },
          { id: 'list-b', workflow: 'billing', startedAt: T0 + 2 },
          { id: 'list-c', workflow: 'orders', startedAt: T0 + 2 },
          { id: 'list-d', workflow: 'orders', startedAt: T0 + 3 },
          { id: 'list-e', workflow: 'billing', startedAt: T0 + 4 },
          { id: 'list-f', workflow: 'orders', startedAt: T0 + 4 },
          { id: 'list-g', workflow: 'orders', startedAt: T0 + 5 },
        ];
        for (const s of specs) await createExecution(s.id, { workflow: s.workflow, startedAt: s.startedAt });
        await commitOne(stepCommit('list-d', 1, { status: 'SUCCEEDED', output: 1, endedAt: T0 + 10 }));
        await commitOne(stepCommit('list-e', 1, { status: 'FAILED', error: { code: 'E', message: 'm' }, endedAt: T0 + 11 }));
        await commitOne(stepCommit('list-a', 1, { status: 'SUCCEEDED', output: 2, endedAt: T0 + 12 }));
        return ['list-g', 'list-f', 'list-e', 'list-d', 'list-c', 'list-b', 'list-a'];
      }

      async function listAll(query: { workflow?: string; status?: ExecutionStatus; limit: number }): Promise<string[][]> {
        const pages: string[][] = [];
        let cursor: string | undefined;
        for (let guard = 0; guard < 50; guard++) {
          const page = await store.listExecutions({ ...query, ...(cursor ? { cursor } : {}) });
          pages.push(page.items.map((e) => e.id));
          if (!page.nextCursor) break;
          expect(typeof page.nextCursor).toBe('string');
          cursor = page.nextCursor;
        }
        return pages;
      }

      it('lists newest first, ties by id descending, with summaries only', async () => {
        const order = await seed();
        const page = await store.listExecutions({ limit: 100 });
        expect(page.items.map((e) => e.id)).toEqual(order);
        expect(page.nextCursor).toBeUndefined();
        const d = page.items.find((e) => e.id === 'list-d')!;
        expect(d).toEqual({ id: 'list-d', workflow: 'orders', version: 'v1', status: 'SUCCEEDED', input: { n: 1 }, output: 1, startedAt: T0 + 3, endedAt: T0 + 10 });
        expect(d).not.toHaveProperty('snapshot');
        expect(d).not.toHaveProperty('lastSeq');
      });

      it('pages with an opaque cursor, each execution exactly once', async () => {
        const order = await seed();
        expect(await listAll({ limit: 3 })).toEqual([order.slice(0, 3), order.slice(3, 6), order.slice(6)]);
        // a page that ends exactly at the last item has no nextCursor
        expect(await listAll({ limit: 7 })).toEqual([order]);
        expect(await listAll({ limit: 1 })).toEqual(order.map((id) => [id]));
      });

      it('filters by workflow, by status, and by both, while paging', async () => {
        await seed();
        expect((await listAll({ workflow: 'orders', limit: 2 })).flat()).toEqual(['list-g', 'list-f', 'list-d', 'list-c', 'list-a']);
        expect((await listAll({ workflow: 'orders', limit: 2 }))[0]).toEqual(['list-g', 'list-f']);
        expect((await listAll({ status: 'RUNNING', limit: 2 })).flat()).toEqual(['list-g', 'list-f', 'list-c', 'list-b']);
        expect((await listAll({ status: 'SUCCEEDED', limit: 10 })).flat()).toEqual(['list-d', 'list-a']);
        expect((await listAll({ workflow: 'billing', status: 'FAILED', limit: 10 })).flat()).toEqual(['list-e']);
        expect((await listAll({ workflow: 'nothing', limit: 10 })).flat()).toEqual([]);
      });

      it('breaks startedAt ties by id in code-point order, whatever the locale', async () => {
        const ids = ['tie-a', 'Tie-b', 'tie.A', 'tie:Z', 'tie-A', '9tie', 'TIE-a', 'tie-a-1'];
        for (const id of ids) await createExecution(id, { startedAt: T0 + 7 });
        const want = [...ids].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
        expect((await store.listExecutions({ limit: 20 })).items.map((e) => e.id)).toEqual(want);
        expect((await listAll({ limit: 3 })).flat()).toEqual(want);
      });

      it('returns an empty page for an empty store', async () => {
        expect(await store.listExecutions({ limit: 10 })).toEqual({ items: [] });
      });

      it('rejects a cursor it did not issue with VALIDATION_FAILED', async () => {
        await seed();
        const bad = [
          'not a cursor',
          '%%%',
          Buffer.from('{"startedAt":1,"id":"x"}').toString('base64url'),
          Buffer.from('[1]').toString('base64url'),
          Buffer.from('["1","x"]').toString('base64url'),
          Buffer.from('[1.5,"x"]').toString('base64url'),
          'x'.repeat(5000),
        ];
        for (const cursor of bad) {
          let error: unknown;
          try {
            await store.listExecutions({ limit: 2, cursor });
          } catch (e) {
            error = e;
          }
          expect(error, cursor).toBeInstanceOf(StepwiseError);
          expect((error as StepwiseError).code, cursor).toBe('VALIDATION_FAILED');
        }
      });

      it('rejects a bad cursor through the returned promise, never by throwing synchronously', async () => {
        // KNOWN SQLITE DISCREPANCY (reported to the lead, not fixed here): SqliteStore.listExecutions
        // calls decodeListCursor before entering its promise-returning guard, so a bad cursor throws
        // synchronously; `store.listExecutions(q).catch(...)` then misses it. Every port method is
        // async and must report failures as rejections.
        let returned: unknown;
        expect(() => {
          returned = store.listExecutions({ limit: 2, cursor: 'not a cursor' });
        }).not.toThrow();
        await expect(returned).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      });
    });

    // -------------------------------------------------------------------------------------------
    // work: consume, schedule, drop

    describe('commit: consume, schedule, drop', () => {
      it('consumes a work row leased by the owner', async () => {
        const id = uid();
        const seq = await withWork(id, [task(id, 'A', T0, { leaseOwner: 'w1', leaseUntil: T0 + 100 }), task(id, 'B', T0)]);
        expect(await commitOne(stepCommit(id, seq, { consume: [{ ...ref(id, 'A'), owner: 'w1' }] }))).toEqual({ ok: true, lastSeq: 2 });
        expect(refsOf(await store.listWork(id))).toEqual([`${id}/task/B`]);
      });

      it('consumes a row whose lease expired if no one else took it', async () => {
        const id = uid();
        const seq = await withWork(id, [task(id, 'A', T0, { leaseOwner: 'w1', leaseUntil: T0 + 1 })]);
        expect(await commitOne(stepCommit(id, seq, { consume: [{ ...ref(id, 'A'), owner: 'w1' }] }))).toMatchObject({ ok: true });
        expect(await store.listWork(id)).toEqual([]);
      });

      it("refuses with 'lease-lost' naming the ref when another owner holds it, and writes nothing", async () => {
        const id = uid();
        const seq = await withWork(id, [
          task(id, 'A', T0, { leaseOwner: 'w1', leaseUntil: T0 + 100 }),
          task(id, 'B', T0, { leaseOwner: 'w2', leaseUntil: T0 + 100 }),
        ]);
        const before = await store.getExecution(id);
        const workBefore = await store.listWork(id);
        const outcome = await commitOne(
          stepCommit(id, seq, {
            status: 'SUCCEEDED', output: 1, endedAt: T0 + 5,
            consume: [
              { ...ref(id, 'A'), owner: 'w1' },
              { ...ref(id, 'B'), owner: 'w1' },
            ],
            schedule: [task(id, 'C', T0)],
            drop: [ref(id, 'A')],
          }),
        );
        expect(outcome).toEqual({ ok: false, reason: 'lease-lost', work: { executionId: id, kind: 'task', key: 'B' } });
        expect(await store.getExecution(id)).toEqual(before);
        expect(await store.readHistory(id, 0, 10)).toHaveLength(1);
        expect(await store.listWork(id)).toEqual(workBefore);
      });

      it("refuses with 'lease-lost' when the row is gone or unleased", async () => {
        const id = uid();
        const seq = await withWork(id, [task(id, 'A', T0)]);
        expect(await commitOne(stepCommit(id, seq, { consume: [{ ...ref(id, 'A'), owner: 'w1' }] }))).toEqual({
          ok: false, reason: 'lease-lost', work: ref(id, 'A'),
        });
        expect(await commitOne(stepCommit(id, seq, { consume: [{ ...ref(id, 'gone', 'timer'), owner: 'w1' }] }))).toEqual({
          ok: false, reason: 'lease-lost', work: ref(id, 'gone', 'timer'),
        });
        expect(await store.getExecution(id)).toMatchObject({ lastSeq: 1 });
      });

      it("reports 'conflict' before 'lease-lost' when both apply", async () => {
        const id = uid();
        await withWork(id, [task(id, 'A', T0)]);
        await commitOne(stepCommit(id, 1));
        expect(await commitOne(stepCommit(id, 1, { consume: [{ ...ref(id, 'A'), owner: 'w9' }] }))).toEqual({ ok: false, reason: 'conflict' });
      });

      it('schedules new rows and replaces an existing row with the same ref', async () => {
        const id = uid();
        const seq = await withWork(id, [task(id, 'A', T0 + 5, { leaseOwner: 'w1', leaseUntil: T0 + 100 })]);
        await commitOne(
          stepCommit(id, seq, {
            schedule: [
              task(id, 'A', T0 + 50, { attempt: 2 }),
              { executionId: id, kind: 'timer', key: 'Wait', attempt: 1, dueAt: T0 + 1000 },
              { executionId: id, kind: 'compensation', key: 'undo-A', attempt: 1, dueAt: T0 + 10, leaseOwner: 'w3', leaseUntil: T0 + 60 },
            ],
          }),
        );
        const work = await store.listWork(id);
        expect(work).toHaveLength(3);
        expect(work).toEqual(
          expect.arrayContaining([
            { executionId: id, kind: 'task', key: 'A', attempt: 2, dueAt: T0 + 50 },
            { executionId: id, kind: 'timer', key: 'Wait', attempt: 1, dueAt: T0 + 1000 },
            { executionId: id, kind: 'compensation', key: 'undo-A', attempt: 1, dueAt: T0 + 10, leaseOwner: 'w3', leaseUntil: T0 + 60 },
          ]),
        );
        // replaced: the old lease is gone with the old row
        expect(work.find((w) => w.key === 'A')).not.toHaveProperty('leaseOwner');
        // listWork is ordered by due time
        expect(work.map((w) => w.dueAt)).toEqual([T0 + 10, T0 + 50, T0 + 1000]);
      });

      it('consumes and schedules the same ref in one commit (a retry): the new row remains', async () => {
        const id = uid();
        const seq = await withWork(id, [task(id, 'A', T0, { leaseOwner: 'w1', leaseUntil: T0 + 100 })]);
        const outcome = await commitOne(
          stepCommit(id, seq, {
            events: [ev('StepFailed', T0 + 1, { step: 'A', attempt: 1 }), ev('RetryScheduled', T0 + 1, { step: 'A', attempt: 2 })],
            consume: [{ ...ref(id, 'A'), owner: 'w1' }],
            schedule: [task(id, 'A', T0 + 30, { attempt: 2 })],
          }),
        );
        expect(outcome).toEqual({ ok: true, lastSeq: 3 });
        expect(await store.listWork(id)).toEqual([{ executionId: id, kind: 'task', key: 'A', attempt: 2, dueAt: T0 + 30 }]);
      });

      it('schedules a row already leased to the committer (the engine runs it next)', async () => {
        const id = uid();
        await withWork(id, [task(id, 'A', T0, { leaseOwner: 'me', leaseUntil: T0 + 30 })]);
        expect(await store.listWork(id)).toEqual([{ executionId: id, kind: 'task', key: 'A', attempt: 1, dueAt: T0, leaseOwner: 'me', leaseUntil: T0 + 30 }]);
        expect(await store.claimWork({ owner: 'other', now: T0 + 10, leaseUntil: T0 + 100, limit: 10 })).toEqual([]);
      });

      it('drops rows whoever holds them, and ignores refs that do not exist', async () => {
        const id = uid();
        const seq = await withWork(id, [
          task(id, 'A', T0, { leaseOwner: 'w1', leaseUntil: T0 + 100 }),
          task(id, 'B', T0),
          { executionId: id, kind: 'timer', key: 'W', attempt: 1, dueAt: T0 + 500 },
        ]);
        const outcome = await commitOne(
          stepCommit(id, seq, {
            events: [ev('CancelRequested', T0 + 2)],
            drop: [ref(id, 'A'), ref(id, 'W', 'timer'), ref(id, 'never-existed')],
            schedule: [{ executionId: id, kind: 'compensation', key: 'undo', attempt: 1, dueAt: T0 + 2 }],
          }),
        );
        expect(outcome).toEqual({ ok: true, lastSeq: 2 });
        expect(refsOf(await store.listWork(id)).sort()).toEqual([`${id}/compensation/undo`, `${id}/task/B`]);
      });

      it('keeps each execution\'s work apart in listWork', async () => {
        const a = uid();
        const b = uid();
        await withWork(a, [task(a, 'A', T0)]);
        await withWork(b, [task(b, 'A', T0), task(b, 'B', T0 + 1)]);
        expect(refsOf(await store.listWork(a))).toEqual([`${a}/task/A`]);
        expect(refsOf(await store.listWork(b))).toEqual([`${b}/task/A`, `${b}/task/B`]);
      });
    });

    // -------------------------------------------------------------------------------------------
    // claiming and leases

    describe('claimWork', () => {
      it('leases due rows only, earliest first, up to the limit', async () => {
        const id = uid();
        await withWork(id, [task(id, 'late', T0 + 30), task(id, 'first', T0 + 10), task(id, 'second', T0 + 20), task(id, 'future', T0 + 1000)]);
        const claimed = await store.claimWork({ owner: 'w1', now: T0 + 30, leaseUntil: T0 + 90, limit: 2 });
        expect(claimed).toEqual([
          { executionId: id, kind: 'task', key: 'first', attempt: 1, dueAt: T0 + 10, leaseOwner: 'w1', leaseUntil: T0 + 90 },
          { executionId: id, kind: 'task', key: 'second', attempt: 1, dueAt: T0 + 20, leaseOwner: 'w1', leaseUntil: T0 + 90 },
        ]);
        // dueAt == now is due
        const next = await store.claimWork({ owner: 'w2', now: T0 + 30, leaseUntil: T0 + 90, limit: 10 });
        expect(next.map((w) => w.key)).toEqual(['late']);
        expect(await store.claimWork({ owner: 'w3', now: T0 + 30, leaseUntil: T0 + 90, limit: 10 })).toEqual([]);
        const work = await store.listWork(id);
        expect(work.find((w) => w.key === 'first')).toMatchObject({ leaseOwner: 'w1', leaseUntil: T0 + 90 });
        expect(work.find((w) => w.key === 'late')).toMatchObject({ leaseOwner: 'w2' });
        expect(work.find((w) => w.key === 'future')).not.toHaveProperty('leaseOwner');
      });

      it('skips live leases and takes expired ones', async () => {
        const id = uid();
        await withWork(id, [
          task(id, 'live', T0, { leaseOwner: 'w1', leaseUntil: T0 + 100 }),
          task(id, 'edge', T0, { leaseOwner: 'w1', leaseUntil: T0 + 50 }),
          task(id, 'expired', T0, { leaseOwner: 'w1', leaseUntil: T0 + 49 }),
        ]);
        if (store.exclusive) {
          // An exclusive store holds a lease until it is released: nothing leased is claimed.
          expect(await store.claimWork({ owner: 'w2', now: T0 + 1000, leaseUntil: T0 + 2000, limit: 10 })).toEqual([]);
          await store.releaseLeases('w1');
          const freed = await store.claimWork({ owner: 'w2', now: T0 + 1000, leaseUntil: T0 + 2000, limit: 10 });
          expect(freed.map((w) => w.key).sort()).toEqual(['edge', 'expired', 'live']);
          return;
        }
        // a lease is live through leaseUntil itself
        const claimed = await store.claimWork({ owner: 'w2', now: T0 + 50, leaseUntil: T0 + 200, limit: 10 });
        expect(claimed.map((w) => [w.key, w.leaseOwner, w.leaseUntil])).toEqual([['expired', 'w2', T0 + 200]]);
        const later = await store.claimWork({ owner: 'w3', now: T0 + 101, leaseUntil: T0 + 300, limit: 10 });
        expect(later.map((w) => w.key).sort()).toEqual(['edge', 'live']);
      });

      it('claims across executions and kinds', async () => {
        const a = uid();
        const b = uid();
        await withWork(a, [{ executionId: a, kind: 'timer', key: 'W', attempt: 1, dueAt: T0 + 2 }]);
        await withWork(b, [task(b, 'A', T0 + 1), { executionId: b, kind: 'compensation', key: 'C', attempt: 3, dueAt: T0 + 3 }]);
        const claimed = await store.claimWork({ owner: 'w', now: T0 + 10, leaseUntil: T0 + 20, limit: 10 });
        expect(claimed.map((w) => `${w.executionId}/${w.kind}/${w.key}/${w.attempt}`)).toEqual([`${b}/task/A/1`, `${a}/timer/W/1`, `${b}/compensation/C/3`]);
      });

      it('claims only the kinds asked for (all by default)', async () => {
        const id = uid();
        await withWork(id, [
          task(id, 'A', T0 + 1),
          { executionId: id, kind: 'timer', key: 'W', attempt: 1, dueAt: T0 },
          { executionId: id, kind: 'compensation', key: 'C', attempt: 1, dueAt: T0 + 2 },
        ]);
        const claim = (kinds: WorkKind[] | undefined, owner: string) =>
          store.claimWork({ owner, now: T0 + 10, leaseUntil: T0 + 20, limit: 10, ...(kinds ? { kinds } : {}) });
        expect(await claim([], 'none')).toEqual([]);
        expect((await claim(['timer'], 'timers')).map((w) => w.key)).toEqual(['W']);
        expect((await claim(['task', 'compensation'], 'handlers')).map((w) => w.key)).toEqual(['A', 'C']);
        await store.releaseAllLeases();
        expect((await claim(undefined, 'all')).map((w) => w.key)).toEqual(['W', 'A', 'C']);
      });

      it('never hands the same row to two concurrent claimers', async () => {
        const peer = options.openPeer ? await options.openPeer(store) : store;
        try {
          const ids: string[] = [];
          for (let e = 0; e < 6; e++) {
            const id = uid('claim');
            ids.push(id);
            await withWork(id, Array.from({ length: 20 }, (_, i) => task(id, `k${i}`, T0 + ((i * 7 + e) % 13))));
          }
          const seen = new Map<string, string>();
          const claimer = async (s: Store, owner: string) => {
            let got = 0;
            for (;;) {
              const batch = await s.claimWork({ owner, now: T0 + 100, leaseUntil: T0 + 10_000, limit: 7 });
              if (batch.length === 0) return got;
              for (const w of batch) {
                const k = `${w.executionId}/${w.key}`;
                expect(seen.has(k), `${k} claimed by ${seen.get(k)} and ${owner}`).toBe(false);
                seen.set(k, owner);
                expect(w.leaseOwner).toBe(owner);
              }
              got += batch.length;
            }
          };
          const counts = await Promise.all([claimer(store, 'a1'), claimer(peer, 'b1'), claimer(store, 'a2'), claimer(peer, 'b2')]);
          expect(counts.reduce((x, y) => x + y, 0)).toBe(120);
          expect(seen.size).toBe(120);
          for (const id of ids) {
            for (const w of await store.listWork(id)) expect(w.leaseOwner).toBe(seen.get(`${w.executionId}/${w.key}`));
          }
        } finally {
          if (peer !== store) await peer.close();
        }
      });

      it('gives every field of a row as claimByToken and listWork give it', async () => {
        const id = uid();
        const wait = { queue: 'q1', deadline: T0 + 5000, heartbeatMs: 250 };
        const outside = (key: string, dueAt: number): NewWork => ({ executionId: id, kind: 'outside', key, attempt: 2, dueAt, tokenHash: `hash-${key}`, ...wait });
        await withWork(id, [outside('A', T0 + 10), outside('B', T0 + 20)]);
        const expected = (key: string, dueAt: number, owner: string): WorkItem => ({
          executionId: id, kind: 'outside', key, attempt: 2, dueAt, tokenHash: `hash-${key}`, ...wait, leaseOwner: owner, leaseUntil: T0 + 90,
        });
        expect(await store.claimWork({ owner: 'w1', now: T0 + 10, leaseUntil: T0 + 90, limit: 10, kinds: ['outside'] })).toEqual([expected('A', T0 + 10, 'w1')]);
        expect(await store.claimByToken('hash-B', 'w2', T0 + 10, T0 + 90)).toEqual(expected('B', T0 + 20, 'w2'));
        expect(await store.listWork(id)).toEqual([expected('A', T0 + 10, 'w1'), expected('B', T0 + 20, 'w2')]);
      });
    });

    describe('leases', () => {
      it("renewLeases extends the owner's leases and returns the refs it no longer holds", async () => {
        const id = uid();
        await withWork(id, [
          task(id, 'mine', T0, { leaseOwner: 'w1', leaseUntil: T0 + 10 }),
          task(id, 'expired-but-mine', T0, { leaseOwner: 'w1', leaseUntil: T0 + 1 }),
          task(id, 'theirs', T0, { leaseOwner: 'w2', leaseUntil: T0 + 10 }),
          task(id, 'free', T0),
        ]);
        const lost = await store.renewLeases('w1', [ref(id, 'mine'), ref(id, 'expired-but-mine'), ref(id, 'theirs'), ref(id, 'free'), ref(id, 'gone')], T0 + 500);
        expect(lost).toEqual([ref(id, 'theirs'), ref(id, 'free'), ref(id, 'gone')]);
        const work = await store.listWork(id);
        expect(work.find((w) => w.key === 'mine')).toMatchObject({ leaseOwner: 'w1', leaseUntil: T0 + 500 });
        expect(work.find((w) => w.key === 'expired-but-mine')).toMatchObject({ leaseOwner: 'w1', leaseUntil: T0 + 500 });
        expect(work.find((w) => w.key === 'theirs')).toMatchObject({ leaseOwner: 'w2', leaseUntil: T0 + 10 });
        expect(work.find((w) => w.key === 'free')).not.toHaveProperty('leaseOwner');
        expect(await store.renewLeases('w1', [], T0 + 600)).toEqual([]);
      });

      it('releaseLeases hands back only that owner\'s leases', async () => {
        const id = uid();
        await withWork(id, [
          task(id, 'a', T0, { leaseOwner: 'w1', leaseUntil: T0 + 100 }),
          task(id, 'b', T0, { leaseOwner: 'w1', leaseUntil: T0 + 100 }),
          task(id, 'c', T0, { leaseOwner: 'w2', leaseUntil: T0 + 100 }),
        ]);
        await store.releaseLeases('w1');
        const work = await store.listWork(id);
        expect(work.filter((w) => w.leaseOwner === undefined && w.leaseUntil === undefined).map((w) => w.key).sort()).toEqual(['a', 'b']);
        expect(work.find((w) => w.key === 'c')).toMatchObject({ leaseOwner: 'w2', leaseUntil: T0 + 100 });
        expect((await store.claimWork({ owner: 'w3', now: T0, leaseUntil: T0 + 5, limit: 10 })).map((w) => w.key).sort()).toEqual(['a', 'b']);
        await store.releaseLeases('nobody');
      });

      it('releaseAllLeases voids every lease', async () => {
        const id = uid();
        await withWork(id, [
          task(id, 'a', T0, { leaseOwner: 'w1', leaseUntil: T0 + 100 }),
          task(id, 'b', T0, { leaseOwner: 'w2', leaseUntil: T0 + 100 }),
          task(id, 'c', T0),
        ]);
        await store.releaseAllLeases();
        for (const w of await store.listWork(id)) {
          expect(w).not.toHaveProperty('leaseOwner');
          expect(w).not.toHaveProperty('leaseUntil');
        }
      });

      it('nextDueAt is the earliest unleased or lease-expired due time', async () => {
        expect(await store.nextDueAt(T0)).toBeUndefined();
        const id = uid();
        await withWork(id, [
          task(id, 'leased', T0 + 1, { leaseOwner: 'w1', leaseUntil: T0 + 100 }),
          task(id, 'free', T0 + 40),
          { executionId: id, kind: 'timer', key: 'later', attempt: 1, dueAt: T0 + 5000 },
        ]);
        expect(await store.nextDueAt(T0)).toBe(T0 + 40);
        // once the lease has expired its row counts again (on an exclusive store: once released)
        if (store.exclusive) {
          expect(await store.nextDueAt(T0 + 101)).toBe(T0 + 40);
          await store.releaseLeases('w1');
        }
        expect(await store.nextDueAt(T0 + 101)).toBe(T0 + 1);
        // future rows count: nextDueAt is not limited to due work
        await store.claimWork({ owner: 'w2', now: T0 + 40, leaseUntil: T0 + 1000, limit: 10 });
        expect(await store.nextDueAt(T0 + 50)).toBe(T0 + 5000);
      });
    });

    // -------------------------------------------------------------------------------------------
    // JSON fidelity

    describe('JSON round-trip', () => {
      const odd = JSON.parse(
        '{"z":1,"a":{"y":[1,2,{"b":null,"a":true}],"x":"\\u0000nul \\u001f ctl \\"q\\" \\\\ back / slash"},' +
          '"":"empty key","__proto__":{"own":"property"},"10":"int-like key","emoji":"😀 \\ud83d\\ude00 👩‍👩‍👧",' +
          '"lone":"\\ud800 \\udfff","rtl":"שלום مرحبا","combining":"e\\u0301 é","bmp":"\\uffff\\ufeff",' +
          '"nums":[0,-1,1.5,-0.000001,1e-7,123456789012345,9007199254740991,-9007199254740991,9007199254740993,1.7976931348623157e308,5e-324,1e21,2.5e-300],' +
          '"deep":[[[[[[[[[[[[[[[[[[[[{"k":"v"}]]]]]]]]]]]]]]]]]]]],"big":"' + 'x'.repeat(100_000) + '"}',
      );
      const values: Array<[string, unknown]> = [
        ['object with odd keys and values', odd],
        ['string', 'just a string with ümlauts'],
        ['number', 0.1],
        ['negative zero (JSON has none)', -0],
        ['null', null],
        ['false', false],
        ['empty array', []],
        ['empty object', {}],
        ['array of everything', [null, true, 1, 'a', [], {}, [odd.nums]]],
      ];

      /** What JSON can hold of `v`: the exact value a store must give back. */
      const asJson = (v: unknown) => JSON.parse(JSON.stringify(v));
      const same = (got: unknown, want: unknown, label: string) => {
        expect(JSON.stringify(got), label).toBe(JSON.stringify(asJson(want)));
        expect(got, label).toEqual(asJson(want));
      };

      for (const [label, value] of values) {
        it(`keeps ${label} exact in input, snapshot, output, error and event data`, async () => {
          const id = uid();
          await createExecution(id, {
            input: value, snapshot: { value: 'S', context: value },
            events: [ev('ExecutionStarted', T0, { data: { input: value, list: [value] } })],
          });
          const error = { code: 'E', message: typeof value === 'string' ? value : JSON.stringify(value).slice(0, 300), terminal: false };
          await commitOne(stepCommit(id, 1, { status: 'FAILED', output: value, error, endedAt: T0 + 1, snapshot: value }));
          const got = await store.getExecution(id);
          same(got!.input, value, 'input');
          same(got!.output, value, 'output');
          same(got!.snapshot, value, 'snapshot');
          same(got!.error, error, 'error');
          const [started] = await store.readHistory(id, 0, 1);
          same(started.data, { input: value, list: [value] }, 'event data');
          const listed = (await store.listExecutions({ limit: 1 })).items[0];
          same(listed.input, value, 'listed input');
          same(listed.output, value, 'listed output');
        });
      }

      it('keeps key order (jsonb would sort keys by length) and own __proto__ keys', async () => {
        const id = uid();
        const input = JSON.parse('{"zeta":1,"b":2,"alpha":{"yy":1,"x":2},"__proto__":3}');
        await createExecution(id, { input });
        const got = (await store.getExecution(id))!.input as Record<string, unknown>;
        expect(Object.keys(got)).toEqual(['zeta', 'b', 'alpha', '__proto__']);
        expect(Object.keys(got.alpha as object)).toEqual(['yy', 'x']);
        expect(Object.prototype.hasOwnProperty.call(got, '__proto__')).toBe(true);
        expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
      });
    });

    // -------------------------------------------------------------------------------------------
    // batches

    describe('commit: batches', () => {
      it('applies each commit of a batch on its own: refused ones write nothing, the others land', async () => {
        const a = uid('a');
        const b = uid('b');
        const c = uid('c');
        const d = uid('d');
        const taken = uid('taken');
        await withWork(a, [task(a, 'A', T0, { leaseOwner: 'w1', leaseUntil: T0 + 100 })]);
        await createExecution(b);
        await commitOne(stepCommit(b, 1));
        await withWork(d, [task(d, 'D', T0, { leaseOwner: 'w2', leaseUntil: T0 + 100 })]);
        await createExecution(taken);

        const outcomes = await store.commit([
          stepCommit(a, 1, { consume: [{ ...ref(a, 'A'), owner: 'w1' }], schedule: [task(a, 'A2', T0 + 5)] }), // lands
          stepCommit(b, 1, { snapshot: 'stale', schedule: [task(b, 'B', T0)] }), // conflict
          createCommit(c, { schedule: [task(c, 'C', T0)] }), // lands
          stepCommit(d, 1, { consume: [{ ...ref(d, 'D'), owner: 'w1' }], drop: [ref(d, 'D')] }), // lease-lost
          createCommit(taken, { input: 'again' }), // exists
          stepCommit(a, 2, { status: 'SUCCEEDED', output: 'a-done', endedAt: T0 + 9 }), // lands, computed from the first
        ]);
        expect(outcomes).toEqual([
          { ok: true, lastSeq: 2 },
          { ok: false, reason: 'conflict' },
          { ok: true, lastSeq: 1 },
          { ok: false, reason: 'lease-lost', work: ref(d, 'D') },
          { ok: false, reason: 'exists' },
          { ok: true, lastSeq: 3 },
        ]);
        expect(await store.getExecution(a)).toMatchObject({ status: 'SUCCEEDED', output: 'a-done', lastSeq: 3 });
        expect(refsOf(await store.listWork(a))).toEqual([`${a}/task/A2`]);
        expect(await store.getExecution(b)).toMatchObject({ lastSeq: 2, snapshot: { value: 'after-1' } });
        expect(await store.listWork(b)).toEqual([]);
        expect(await store.getExecution(c)).toMatchObject({ lastSeq: 1 });
        expect(refsOf(await store.listWork(c))).toEqual([`${c}/task/C`]);
        expect(await store.getExecution(d)).toMatchObject({ lastSeq: 1 });
        expect(await store.listWork(d)).toMatchObject([{ key: 'D', leaseOwner: 'w2' }]);
        expect(await store.getExecution(taken)).toMatchObject({ input: { n: 1 } });
      });

      it('applies commits of one batch that touch the same work row in order', async () => {
        const a = uid('a');
        const b = uid('b');
        await createExecution(a);
        await withWork(b, [task(b, 'X', T0, { leaseOwner: 'w1', leaseUntil: T0 + 100 }), task(b, 'Y', T0, { leaseOwner: 'w1', leaseUntil: T0 + 100 })]);
        const outcomes = await store.commit([
          stepCommit(a, 1, { drop: [ref(b, 'X')] }), // lands, and takes b's row X away
          stepCommit(b, 1, { consume: [{ ...ref(b, 'X'), owner: 'w1' }] }), // so this one has lost it
          stepCommit(b, 1, { consume: [{ ...ref(b, 'Y'), owner: 'w1' }], schedule: [task(a, 'Z', T0)] }), // lands
          stepCommit(a, 2, { consume: [{ ...ref(a, 'Z'), owner: 'w1' }] }), // Z was scheduled unleased: lost
        ]);
        expect(outcomes).toEqual([
          { ok: true, lastSeq: 2 },
          { ok: false, reason: 'lease-lost', work: ref(b, 'X') },
          { ok: true, lastSeq: 2 },
          { ok: false, reason: 'lease-lost', work: ref(a, 'Z') },
        ]);
        expect(await store.listWork(b)).toEqual([]);
        expect(refsOf(await store.listWork(a))).toEqual([`${a}/task/Z`]);
      });

      it('commits a large batch with every outcome, each commit on its own', async () => {
        const n = 150;
        const ids = Array.from({ length: n }, () => uid('mixed'));
        await store.commit(ids.map((id, i) => createCommit(id, { startedAt: T0 + i, schedule: [task(id, 'A', T0, { leaseOwner: 'w1', leaseUntil: T0 + 100 })] })));
        // i % 4: 0 lands, 1 stale (conflict), 2 consumes a row it does not hold (lease-lost), 3 creates a taken id (exists)
        const batch = ids.map((id, i) => {
          switch (i % 4) {
            case 0: return stepCommit(id, 1, { consume: [{ ...ref(id, 'A'), owner: 'w1' }], schedule: [task(id, 'B', T0 + 1)] });
            case 1: return stepCommit(id, 0);
            case 2: return stepCommit(id, 1, { consume: [{ ...ref(id, 'A'), owner: 'someone-else' }] });
            default: return createCommit(id, { input: 'again' });
          }
        });
        const outcomes = await store.commit(batch);
        outcomes.forEach((o, i) => {
          const want = [{ ok: true, lastSeq: 2 }, { ok: false, reason: 'conflict' }, { ok: false, reason: 'lease-lost', work: ref(ids[i], 'A') }, { ok: false, reason: 'exists' }][i % 4];
          expect(o, `commit ${i}`).toEqual(want);
        });
        const read = await store.getExecutions(ids);
        ids.forEach((id, i) => expect(read.get(id)!.lastSeq, id).toBe(i % 4 === 0 ? 2 : 1));
        for (const [i, id] of ids.entries()) {
          if (i % 8 !== 0 && i % 8 !== 2) continue; // a sample of landed and refused ones
          expect(refsOf(await store.listWork(id)), id).toEqual(i % 4 === 0 ? [`${id}/task/B`] : [`${id}/task/A`]);
          expect(await store.readHistory(id, 0, 10), id).toHaveLength(i % 4 === 0 ? 2 : 1);
        }
      });

      it('commits a large batch', async () => {
        const ids = Array.from({ length: 200 }, () => uid('bulk'));
        const outcomes = await store.commit(ids.map((id, i) => createCommit(id, { startedAt: T0 + i, schedule: [task(id, 'A', T0 + i)] })));
        expect(outcomes.every((o) => o.ok)).toBe(true);
        expect((await store.listExecutions({ limit: 500 })).items).toHaveLength(200);
        expect(await store.claimWork({ owner: 'w', now: T0 + 1000, leaseUntil: T0 + 2000, limit: 1000 })).toHaveLength(200);
      });
    });

    correlatedEventsContract(() => store);
  });
}
