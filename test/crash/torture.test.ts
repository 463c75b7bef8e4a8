import { describe, expect, it } from 'vitest';
import { runTorture } from '../fixtures/torture.js';

/**
 * Issue 6, short form: 200 executions, 8 SIGKILLs at seeded random moments (after start-up, inside
 * the Nth handler call, at the Kth before/after-commit fault point; the first always inside a
 * handler), a restart after each, then every invariant checked from the store, and that calls
 * the kills cut short were made again. `npm run torture` runs the long form. Set
 * TORTURE_SEED to replay a seed; a failure prints the seed and the command to rerun it.
 */
describe('torture', () => {
  it('hundreds of executions survive repeated SIGKILLs with nothing lost', async () => {
    const seed = process.env.TORTURE_SEED !== undefined ? Number(process.env.TORTURE_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
    const lines: string[] = [];
    console.log(`torture seed=${seed}`);
    const result = await runTorture({ seed, executions: 200, kills: 8, concurrency: 32, log: (l) => lines.push(l) });
    const rerun = `TORTURE_SEED=${seed} npx vitest run test/crash/torture.test.ts  (or: npm run torture -- --seed ${seed} --executions 200 --kills 8)`;
    const context = `seed ${seed}; rerun: ${rerun}\n${lines.join('\n')}\n${JSON.stringify(result.summary)}${result.dir ? `\nfiles kept in ${result.dir}` : ''}`;
    expect(result.violations, context).toEqual([]);
    expect(result.lost, context).toBe(0);
    expect(result.summary.executions, context).toBe(200);
    expect(result.summary.integrity, context).toBe('ok');
    // The kills mattered: work was owed when they struck, and handler calls they cut short (the
    // first kill always cuts one) were made again by a later run, with the same attempt.
    expect(result.summary.owedAtCrashes, context).toBeGreaterThan(0);
    expect(result.summary.crashReruns, context).toBeGreaterThan(0);
    expect(result.killsBy['in-handler'] ?? 0, context).toBeGreaterThan(0);
    // The mix reached events, children and queues (redrives depend on timing: counted, not required).
    expect(result.summary.eventsConsumed, context).toBeGreaterThan(0);
    expect(result.summary.children, context).toBeGreaterThan(0);
    expect(result.summary.queuedBehind, context).toBeGreaterThan(0);
    console.log(`torture seed=${seed}: ${result.killsDelivered} kills, ${result.runs} runs, ${result.durationMs} ms, ${JSON.stringify(result.summary.byStatus)}`);
  }, 120_000);
});
