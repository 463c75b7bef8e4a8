import { describe, expect, it } from 'vitest';
import { decide, begin, persist } from '../../src/engine/decide.js';
import { Engine, HistoryEventType, machineEventOf, SqliteStore, TerminalError, workflow } from '../../src/index.js';

/**
 * Regression for an engine bug the crash checks found (invariant 4): when one batch carried a
 * branch's terminal failure and then, for the same execution, a sibling branch's success, the
 * success was written to history after compensation had begun. The machine ignored it, so the
 * history said the step completed and its compensation never ran. Here `reserve` cannot finish
 * before `fails` has thrown (it waits for a latch `fails` opens as it throws), and both settle in
 * the same microtask drain: the failure comes first, the success right behind it, and the machine
 * has left `reserve` by the time its success is applied.
 */
describe('a result for a step the machine left earlier in the same commit', () => {
  it('is not recorded as a success: every recorded success is applied, and compensated on failure', async () => {
    const calls: string[] = [];
    let failed!: () => void;
    const failedFirst = new Promise<void>((resolve) => { failed = resolve; });
    const race = workflow('race')
      .task('first', async () => { calls.push('first'); return 1; }, {
        resultPath: null, compensate: { name: 'undoFirst', handler: async () => { calls.push('undoFirst'); return {}; } },
      })
      .parallel('both', [
        (b) => b.task('fails', async () => { calls.push('fails'); failed(); throw new TerminalError('Nope'); }),
        (b) => b.task('reserve', async () => { await failedFirst; calls.push('reserve'); return { r: 1 }; }, {
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
      // The sibling's success came after the failure: it is not recorded, and so nothing is owed
      // for it; the step that did complete before the parallel is compensated.
      const succeeded = events.filter((e) => e.type === HistoryEventType.StepSucceeded).map((e) => e.step);
      const compensated = events.filter((e) => e.type === HistoryEventType.CompensationSucceeded).map((e) => e.step);
      expect(succeeded, timeline.join('\n')).toEqual(['first']);
      expect(compensated, timeline.join('\n')).toEqual(['undoFirst']);
      expect(calls.filter((c) => c === 'undoFirst' || c === 'release')).toEqual(['undoFirst']);
    } finally {
      await engine.stop();
      await store.close();
    }
  });
});
