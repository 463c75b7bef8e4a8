/**
 * The ASL conformance corpus (test/asl/corpus): each case runs on a real Engine (SQLite
 * :memory:, virtual clock) and must give the output or error AWS's documentation states.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aslErrorName } from '../../src/asl/asl-errors.js';
import { compileAsl } from '../../src/asl/asl-workflow.js';
import { persist, replay } from '../../src/engine/decide.js';
import { VirtualClock } from '../../src/index.js';
import { virtualEngine } from '../helpers/virtual-engine.js';
import { corpus } from './corpus/index.js';
import { makeHandlers } from './corpus/handlers.js';

const instant = async () => {};
const clock = new VirtualClock();
const compiled = corpus.map((c) => compileAsl(`asl-${c.name}`, c.definition, { handlers: makeHandlers(clock), sleep: instant }));
let h: Awaited<ReturnType<typeof virtualEngine>>;
beforeAll(async () => {
  h = await virtualEngine(compiled.map((c) => c.workflow), { clock });
});
afterAll(async () => h?.close());

describe('ASL conformance corpus', () => {
  it('holds at least 60 cases, each naming the documentation it follows', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length);
    for (const c of corpus) expect(c.doc.length).toBeGreaterThan(5);
  });

  for (const [index, c] of corpus.entries()) {
    it(`${c.name} (${c.doc})`, async () => {
      const id = await h.start(`asl-${c.name}`, c.input);
      const end = await h.runToEnd(id);
      // Invariant 5: the history folds to the stored snapshot (no ASL rule runs differently on replay).
      const stored = await h.store.getExecution(id);
      expect(JSON.parse(JSON.stringify(persist(replay(compiled[index].workflow, await h.history(id)))))).toEqual(stored!.snapshot);
      if (c.error !== undefined) {
        expect(end.status, JSON.stringify(end.output)).toBe('FAILED');
        expect(aslErrorName(end.error!.code, end.error!.message)).toBe(c.error);
        if (c.cause !== undefined) expect(end.error!.message).toBe(c.cause);
        return;
      }
      expect(end.status, JSON.stringify(end.error)).toBe('SUCCEEDED');
      if (c.check) c.check(end.output);
      else expect(end.output).toEqual(c.output);
    });
  }
});
