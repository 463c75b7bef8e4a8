import { describe, expect, it } from 'vitest';
import type { ExecutionCommit, WorkRef } from '../../src/core/store.js';
import { encodeRound, planRounds } from '../../src/persistence/postgres/commit-batch.js';

/** How PostgresStore splits a batch into one-statement rounds (pure; the contract suite covers the outcomes). */
const step = (executionId: string, extra: Partial<ExecutionCommit> = {}): ExecutionCommit => ({
  executionId, expectedSeq: 1, events: [], snapshot: {}, status: 'RUNNING', ...extra,
});
const ref = (executionId: string, key: string): WorkRef => ({ executionId, kind: 'task', key });

describe('planRounds', () => {
  it('puts commits of distinct executions and rows in one round, in batch order', () => {
    expect(planRounds(['c', 'a', 'b'].map((id) => step(id)))).toEqual([[0, 1, 2]]);
  });

  it('moves a second commit of an execution to the next round, and what follows it only as far as it must', () => {
    expect(planRounds([step('a'), step('b'), step('a'), step('c'), step('a'), step('b')])).toEqual([[0, 1, 3], [2, 5], [4]]);
  });

  it('moves a commit that touches a work row an earlier commit touched, whichever execution it belongs to', () => {
    const batch = [
      step('a', { drop: [ref('b', 'X')] }),
      step('b', { consume: [{ ...ref('b', 'X'), owner: 'w' }] }),
      step('c', { schedule: [{ ...ref('a', 'Y'), attempt: 1, dueAt: 0 }] }),
      step('d', { drop: [ref('a', 'Y')] }),
      step('e'),
    ];
    expect(planRounds(batch)).toEqual([[0, 2, 4], [1, 3]]);
  });
});

describe('encodeRound', () => {
  it('keeps stored JSON as the exact text of JSON.stringify, even a bare string, and numbers events from expectedSeq', () => {
    const commit = step('a', {
      expectedSeq: 4, snapshot: 'just "a" string', events: [{ type: 'StateEntered', timestamp: 5 }, { type: 'StateEntered', timestamp: 6, data: { x: '\u0000' } }],
    });
    const { params, order } = encodeRound([commit], [0], 1000);
    expect(order).toEqual([0]);
    const [updates, creates, events] = params.map((p) => JSON.parse(p));
    expect(updates[0]).toMatchObject({ i: 0, id: 'a', seq: 4, n: 2, snap: JSON.stringify('just "a" string'), now: 6 });
    expect(creates).toEqual([]);
    expect(events.map((e: { seq: number; data: string | null }) => [e.seq, e.data])).toEqual([[5, null], [6, JSON.stringify({ x: '\u0000' })]]);
  });

  it('wakes other processes only for unleased work due within the window of the commit', () => {
    const at = (dueAt: number, leased = false) =>
      step('a', { events: [{ type: 'StateEntered', timestamp: 100 }], schedule: [{ ...ref('a', 'K'), attempt: 1, dueAt, ...(leased ? { leaseOwner: 'me', leaseUntil: 1e9 } : {}) }] });
    const wake = (c: ExecutionCommit) => JSON.parse(encodeRound([c], [0], 1000).params[0])[0].wake;
    expect(wake(at(1100))).toBe(true);
    expect(wake(at(1101))).toBe(false);
    expect(wake(at(0))).toBe(true);
    expect(wake(at(100, true))).toBe(false);
    expect(wake(step('a'))).toBe(false);
  });

  it('refuses a creating commit that consumes work', () => {
    const bad = step('a', { expectedSeq: 0, create: { workflow: 'w', version: 'v', input: null, startedAt: 0 }, consume: [{ ...ref('a', 'K'), owner: 'w' }] });
    expect(() => encodeRound([bad], [0], 1000)).toThrow(/cannot consume/);
  });
});
