/**
 * PostgreSQL reads of one execution asked for in the same turn share one query; a row that
 * cannot be read fails only its own readers, while the store being away fails them all.
 */
import { describe, expect, it } from 'vitest';
import { StepwiseError } from '../../src/core/errors.js';
import { ReadCoalescer } from '../../src/persistence/postgres/read-coalescer.js';

function store(rows: Record<string, string>, fail?: (keys: string[]) => unknown) {
  const calls: string[][] = [];
  const coalescer = new ReadCoalescer<string, string>(async (keys) => {
    calls.push(keys);
    const error = fail?.(keys);
    if (error) throw error;
    return new Map(keys.filter((k) => k in rows).map((k) => [k, rows[k]!]));
  });
  return { coalescer, calls };
}

describe('ReadCoalescer', () => {
  it('reads asked for in one turn go out as one query, each caller getting its own row', async () => {
    const { coalescer, calls } = store({ a: 'A', b: 'B' });
    const results = await Promise.all([coalescer.read('a'), coalescer.read('b'), coalescer.read('a'), coalescer.read('missing')]);
    expect(results).toEqual(['A', 'B', 'A', undefined]);
    expect(calls).toEqual([['a', 'b', 'missing']]);
  });

  it('a row that cannot be read fails its own readers only: the others are read again one by one', async () => {
    const { coalescer, calls } = store({ a: 'A', bad: 'x', b: 'B' }, (keys) => (keys.includes('bad') ? new Error('cannot decode row bad') : undefined));
    const [a, bad, b] = await Promise.allSettled([coalescer.read('a'), coalescer.read('bad'), coalescer.read('b')]);
    expect(a).toEqual({ status: 'fulfilled', value: 'A' });
    expect(b).toEqual({ status: 'fulfilled', value: 'B' });
    expect(bad).toMatchObject({ status: 'rejected', reason: { message: 'cannot decode row bad' } });
    expect(calls).toEqual([['a', 'bad', 'b'], ['a'], ['bad'], ['b']]);
  });

  it('the store being away fails every reader of the turn at once, without a query per row', async () => {
    const { coalescer, calls } = store({ a: 'A', b: 'B' }, () => new StepwiseError('STORE_UNAVAILABLE', 'connection refused'));
    const settled = await Promise.allSettled([coalescer.read('a'), coalescer.read('b')]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toHaveLength(1);
  });
});
