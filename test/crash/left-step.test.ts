import { describe, expect, it } from 'vitest';
import { decide, begin, persist } from '../../src/engine/decide.js';
import { Engine, HistoryEventType, machineEventOf, SqliteStore, TerminalError, workflow } from '../../src/index.js';

/**
 * Regression for an engine bug the crash checks found (invariant 4): when one batch carried a
 * branch's terminal failure and then, for the same execution, a sibling branch's success, the
 * success was written to history after compensation had begun. The machine ignored it, so the
 * history said the step completed and its compensation never ran. Both handlers here settle in
 * the same microtask drain, so their results always land in the same group commit, failure first.
 */
describe('a result for a step the machine left earlier in the same commit', () => {
  it('is not recorded as a success: every recorded success is applied, and compensated on failure', async () => {
    const calls: string[] = [];
    const race = workflow('race')
      .task('first', async () => { calls.push('first'); return 1; }, {
        resultPath: null, compensate: { name: 'undoFirst', handler: async () => { calls.push('undoFirst'); return {}; } },
      })
      .parallel('both', [
        (b) => b.task('fails', async () => { calls.push('fails'); throw new TerminalError('Nope'); }),
        (b) => b.task('reserve', async () => { calls.push('reserve'); return { r: 1 }; }, {
          compensate: { name: 'release', handler: async () => { calls.push('release'); return {}; } },
        }),
      ])
      .succeed('done')
      .build();
    const store = await SqliteStore.open(':memory:');
    const engine = new Engine({ store }).register(race);
    await engine.start();
    try {
      await engine.startExecution('race', {}, { id: 'r1' });
      const ended = await engine.waitForEnd('r1', 5000);
      expect(ended.status).toBe('FAILED');
      const { events } = await engine.getHistory('r1', { limit: 1000 });
      const timeline = events.map((e) => `${e.seq} ${e.type} ${e.step ?? ''}`);
      expect(calls).toContain('reserve'); // the sibling did finish, after the failure in the same batch

      // Every result the history records is one the machine applied (no ignored events on replay).
      let snap = begin(race, events[0].data?.input).snapshot;
      for (const e of events) {
        const m = machineEventOf(e);
        if (!m) continue;
        const next = decide(race, snap, m).snapshot;
        expect(JSON.stringify(persist(next)), `seq ${e.seq} ${e.type} ${e.step} was ignored by the machine:\n${timeline.join('\n')}`)
          .not.toBe(JSON.stringify(persist(snap)));
        snap = next;
      }
      // Saga: each recorded success of a compensable step has its compensation.
      const succeeded = events.filter((e) => e.type === HistoryEventType.StepSucceeded).map((e) => e.step);
      const compensated = events.filter((e) => e.type === HistoryEventType.CompensationSucceeded).map((e) => e.data?.for);
      for (const step of ['first', 'reserve']) {
        if (succeeded.includes(step)) expect(compensated, timeline.join('\n')).toContain(step);
      }
    } finally {
      await engine.stop();
      await store.close();
    }
  });
});
