/**
 * Property-based tests of the DSL and the engine (fast-check).
 *
 * 1. Random VALID definitions, made through the builder API: random sequences of task, pass,
 *    wait, choice (rules and a default that go to later states), parallel (1-3 branches, nested
 *    once), map, succeed, fail, waitForEvent (its event sent early, or never: a timeout) and
 *    invoke (a child workflow that succeeds, fails or waits); random retry policies, catch routes to later states,
 *    compensations, and handlers that succeed or fail per a generated plan (thrown errors, terminal
 *    errors, non-Errors, outputs that are not JSON, hangs past the timeout). Every one builds, runs
 *    to an end on a virtual clock, and its history is sound: one StepSucceeded per step key at
 *    most, every handler call after its StepStarted committed, no work left, and
 *    replay(wf, history) equal to the stored snapshot.
 * 2. INVALID definitions, made by mutating a valid one in one place: build() throws a
 *    DefinitionError whose `state` is the mutated state and whose message names it.
 *
 * The generator of definitions is test/helpers/generated-definitions.ts.
 * Seeded: STEPWISE_FC_SEED=<n> reruns a failure (the failure message prints the seed and path);
 * STEPWISE_FC_RUNS=<n> scales the number of runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { persist, replay } from '../../src/engine/decide.js';
import {
  DefinitionError, HistoryEventType, SqliteStore, VirtualClock, outcomeOf, workflow, type HistoryEvent, type StepContext,
} from '../../src/index.js';
import {
  build, CHILD_WORKFLOWS, inputArb, nameAll, specArb, type Mutation, type Named, type Runtime, type StateSpec,
} from '../helpers/generated-definitions.js';
import { virtualEngine } from '../helpers/virtual-engine.js';

const SEED = Number(process.env.STEPWISE_FC_SEED ?? 20_261_126);
const SCALE = Number(process.env.STEPWISE_FC_RUNS ?? 1);
const VALID_RUNS = Math.max(1, Math.round(250 * SCALE));
const INVALID_RUNS = Math.max(1, Math.round(800 * SCALE));
const CANCEL_RUNS = Math.max(1, Math.round(120 * SCALE));

/** Runs a property with the seed; on failure the message says how to rerun it. */
async function check<T>(name: string, property: fc.IAsyncPropertyWithHooks<[T]> | fc.IPropertyWithHooks<[T]>, numRuns: number): Promise<void> {
  const details = await fc.check(property as fc.IAsyncProperty<[T]>, { seed: SEED, numRuns });
  if (details.failed) {
    const message = fc.defaultReportMessage(details) ?? 'property failed';
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`${name}: ${message}\nFailure: ${cause}\nRerun with STEPWISE_FC_SEED=${details.seed} (path ${details.counterexamplePath ?? '?'}).`);
  }
}

/** Codes a FAILED execution of a generated workflow may end with; anything else is a bug. */
const KNOWN_FAILURES = new Set([
  'E1', 'E2', 'T1', 'F1', 'Stepwise.Timeout', 'Stepwise.NonErrorThrown', 'Stepwise.OutputNotJson',
  'Stepwise.ExpressionFailed', 'Stepwise.MapItemsNotArray',
]);

// ---- valid definitions run to a sound end ----------------------------------------------------

function count<T>(items: T[], key: (t: T) => string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) {
    const k = key(it);
    if (k !== undefined) m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

interface Seen {
  status: Map<string, number>;
  states: Map<string, number>;
  events: Map<string, number>;
  codes: Set<string>;
  revisits: number;
  cancels: { accepted: number; refused: number };
  children: number;
}

function newSeen(): Seen {
  return { status: new Map(), states: new Map(), events: new Map(), codes: new Set(), revisits: 0, cancels: { accepted: 0, refused: 0 }, children: 0 };
}

let run = 0;

/**
 * Builds the spec, runs it on a virtual clock (cancelling it after `cancelAt` timer steps when
 * given) and checks everything a finished execution must satisfy.
 */
async function exercise(spec: StateSpec[], input: unknown, seen: Seen, cancelAt?: number): Promise<void> {
  run++;
  const { root, all } = nameAll(spec);
  const calls = new Map<string, number>();
  const problems: string[] = [];
  let db: SqliteStore['connection'] | undefined;
  const startedCommitted = (ctx: StepContext): boolean => {
    const key = ctx.idempotencyKey.slice(ctx.executionId.length + 1);
    const n = db!.prepare(
      `SELECT count(*) FROM history WHERE execution_id = ? AND type = 'StepStarted' AND attempt = ? AND json_extract(data, '$.key') = ?`,
    ).pluck().get(ctx.executionId, ctx.attempt, key) as number;
    return n === 1;
  };
  const clock = new VirtualClock();
  const rt: Runtime = {
    clock,
    onCall(ctx, kind) {
      const k = `${kind}:${ctx.idempotencyKey}#${ctx.attempt}`;
      calls.set(k, (calls.get(k) ?? 0) + 1);
      if (kind === 'task' && !startedCommitted(ctx)) problems.push(`${k} ran before its StepStarted was committed`);
    },
  };
  const wf = build(`gen${run}`, root, rt);
  const description = wf.describe();
  expect(description.states.map((s) => s.name)).toEqual(root.map((s) => s.name));
  const mermaid = wf.toMermaid();
  for (const s of all) expect(mermaid).toContain(s.name);
  JSON.stringify(description.machine);

  const v = await virtualEngine([wf, ...CHILD_WORKFLOWS], { clock });
  db = (v.store as SqliteStore).connection;
  try {
    const id = await v.start(wf.name, input, 'x1');
    // Events sent before their wait is reached wait in the mailbox; a wait nobody sends to times out.
    const sent = new Set<string>();
    for (const s of all) {
      if (s.spec.type === 'waitForEvent' && s.spec.sent && !sent.has(s.spec.event)) {
        sent.add(s.spec.event);
        // An execution may end in its very first commit (a failing choice rule): then it is refused.
        await v.engine.sendEvent(id, s.spec.event, { from: 'test', event: s.spec.event }, { id: `ev-${s.spec.event}` }).catch((error: { code?: string }) => {
          if (error.code !== 'EXECUTION_ENDED') throw error;
        });
      }
    }
    let cancelAccepted = false;
    if (cancelAt !== undefined) {
      for (let i = 0; i < cancelAt; i++) {
        await v.settle();
        if ((await v.engine.getExecution(id)).status !== 'RUNNING' || !(await v.advanceToNextTimer())) break;
      }
      try {
        await v.engine.cancel(id);
        cancelAccepted = true;
        seen.cancels.accepted++;
      } catch (error) {
        expect((error as { code?: string }).code).toBe('EXECUTION_ENDED');
        seen.cancels.refused++;
      }
    }
    const execution = await v.runToEnd(id, 2000);
    const events = await v.history(id);
    const stored = await v.store.getExecution(id);

    const allowed: string[] = cancelAt === undefined ? ['SUCCEEDED', 'FAILED'] : ['SUCCEEDED', 'FAILED', 'CANCELLED'];
    expect(allowed).toContain(execution.status);
    seen.status.set(execution.status, (seen.status.get(execution.status) ?? 0) + 1);
    expect(problems).toEqual([]);

    // History: seq 1..n, starts with ExecutionStarted, one terminal event, last.
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]!.type).toBe(HistoryEventType.ExecutionStarted);
    const terminal = events.filter((e) => e.type === 'ExecutionSucceeded' || e.type === 'ExecutionFailed' || e.type === 'ExecutionCancelled');
    const terminalType = { SUCCEEDED: 'ExecutionSucceeded', FAILED: 'ExecutionFailed', CANCELLED: 'ExecutionCancelled' }[execution.status as string];
    expect(terminal.map((e) => e.type)).toEqual([terminalType]);
    expect(events[events.length - 1]).toBe(terminal[0]);
    if (execution.status === 'SUCCEEDED') expect(terminal[0]!.data?.output).toEqual(execution.output);
    else if (execution.status === 'FAILED') expect(KNOWN_FAILURES, JSON.stringify(execution.error)).toContain(execution.error?.code);
    else expect(execution.error?.code).toBe('Stepwise.Cancelled');
    // A cancel is in the history exactly when one was accepted; CANCELLED only after one.
    expect(events.filter((e) => e.type === 'CancelRequested')).toHaveLength(cancelAccepted ? 1 : 0);
    if (execution.status === 'CANCELLED') expect(cancelAccepted).toBe(true);

    // At most one StepSucceeded / CompensationSucceeded per key; each result follows its start.
    const keyOf = (e: HistoryEvent) => e.data?.key as string | undefined;
    for (const [k, n] of count(events.filter((e) => e.type === 'StepSucceeded'), keyOf)) expect(n, `StepSucceeded ${k}`).toBe(1);
    for (const [k, n] of count(events.filter((e) => e.type === 'CompensationSucceeded'), keyOf)) expect(n, `CompensationSucceeded ${k}`).toBe(1);
    // An event is received once (its id again changes nothing) and consumed at most once, after it was received.
    const eventId = (e: HistoryEvent) => e.data?.id as string | undefined;
    for (const [k, n] of count(events.filter((e) => e.type === 'EventReceived'), eventId)) expect(n, `EventReceived ${k}`).toBe(1);
    for (const [k, n] of count(events.filter((e) => e.type === 'EventConsumed'), eventId)) expect(n, `EventConsumed ${k}`).toBe(1);
    for (const e of events.filter((x) => x.type === 'EventConsumed')) {
      expect(events.findIndex((r) => r.type === 'EventReceived' && eventId(r) === eventId(e))).toBeLessThan(events.indexOf(e));
    }
    for (const [k, n] of count(events.filter((e) => e.type === 'StepStarted'), (e) => `${keyOf(e)}#${e.attempt}`)) expect(n, `StepStarted ${k}`).toBe(1);
    for (const [i, e] of events.entries()) {
      if (e.type === 'StepSucceeded' || e.type === 'StepFailed') {
        const startedAt = events.findIndex((s) => s.type === 'StepStarted' && keyOf(s) === keyOf(e) && s.attempt === e.attempt);
        expect(startedAt, `${e.type} ${keyOf(e)} #${e.attempt} without a StepStarted`).toBeGreaterThan(-1);
        expect(startedAt).toBeLessThan(i);
      }
    }
    // Each handler call ran once: no attempt is run twice in a run without crashes.
    for (const [k, n] of calls) expect(n, k).toBe(1);
    // Every StepStarted is one handler call (the engine reports nothing it did not do), except an
    // invoke's, which is one child execution, named in its data.
    const invokes = new Set(all.filter((s) => s.spec.type === 'invoke').map((s) => s.name));
    const invokeStarts = events.filter((e) => e.type === 'StepStarted' && invokes.has(e.step!));
    const children = (await v.store.listExecutions({ parentId: id, limit: 500 })).items;
    expect(invokeStarts.map((e) => e.data?.childId).sort()).toEqual(children.map((c) => c.id).sort());
    seen.children += children.length;
    const starts = events.filter((e) => e.type === 'StepStarted').length - invokeStarts.length;
    expect([...calls.keys()].filter((k) => k.startsWith('task:')).length).toBe(starts);

    // Nothing is left to do, and the stored snapshot is what the history folds to.
    expect(await v.store.listWork(id)).toEqual([]);
    const replayed = replay(wf, events);
    expect(outcomeOf(replayed).status).toBe(execution.status);
    expect(JSON.parse(JSON.stringify(persist(replayed)))).toEqual(stored!.snapshot);

    for (const s of all) seen.states.set(s.spec.type, (seen.states.get(s.spec.type) ?? 0) + 1);
    for (const e of events) {
      seen.events.set(e.type, (seen.events.get(e.type) ?? 0) + 1);
      if (e.type === 'StepFailed') seen.codes.add((e.data?.error as { code: string }).code);
      if (String(e.data?.key ?? '').includes('#')) seen.revisits++;
    }
  } finally {
    await v.close();
  }
}

describe('valid definitions (generated through the builder)', () => {
  it(`build, compile and run to SUCCEEDED or FAILED with a sound history (seed ${SEED}, ${VALID_RUNS} runs)`, async () => {
    const seen = newSeen();
    await check('valid definitions', fc.asyncProperty(fc.tuple(specArb, inputArb), ([spec, input]) => exercise(spec, input, seen)), VALID_RUNS);
    // The generator reaches what it is meant to: both outcomes, every state type, the event zoo.
    expect(seen.status.get('SUCCEEDED') ?? 0).toBeGreaterThan(0);
    expect(seen.status.get('FAILED') ?? 0).toBeGreaterThan(0);
    for (const t of ['task', 'map', 'pass', 'wait', 'choice', 'parallel', 'succeed', 'fail', 'waitForEvent', 'invoke']) expect(seen.states.get(t) ?? 0, t).toBeGreaterThan(0);
    expect(seen.children, 'child executions').toBeGreaterThan(0);
    for (const t of ['StepSucceeded', 'StepFailed', 'RetryScheduled', 'TimerFired', 'CompensationSucceeded', 'CompensationFailed', 'StateEntered', 'EventReceived', 'EventConsumed']) {
      expect(seen.events.get(t) ?? 0, t).toBeGreaterThan(0);
    }
    for (const code of ['E1', 'E2', 'T1', 'Stepwise.Timeout', 'Stepwise.NonErrorThrown', 'Stepwise.OutputNotJson']) expect(seen.codes, code).toContain(code);
    expect(seen.revisits, 'loops (second visits)').toBeGreaterThan(0);
  }, 60_000);

  it(`the same, cancelled at a random point: also CANCELLED, never a broken history (seed ${SEED}, ${CANCEL_RUNS} runs)`, async () => {
    const seen = newSeen();
    await check(
      'cancelled definitions',
      fc.asyncProperty(fc.tuple(specArb, inputArb, fc.nat(5)), ([spec, input, cancelAt]) => exercise(spec, input, seen, cancelAt)),
      CANCEL_RUNS,
    );
    expect(seen.status.get('CANCELLED') ?? 0).toBeGreaterThan(0);
    expect(seen.cancels.accepted).toBeGreaterThan(0);
  }, 60_000);
});

describe('regressions found by the generator', () => {
  it('a task entered and left in the same transition has no StepStarted (its handler never runs)', async () => {
    // Found by the valid-definitions property: on entering the parallel, branch 0 starts 'slow'
    // while branch 1's transform throws, so the machine leaves the parallel at once. The StepStarted
    // for 'slow' was committed although its launch was cancelled in the same batch.
    let calls = 0;
    const wf = workflow<unknown>('leftAtOnce')
      .parallel('p', [
        (b) => b.task('slow', async () => { calls++; return 1; }),
        (b) => b.pass('boom', { transform: () => { throw new Error('transform failed'); } }),
      ])
      .build();
    const v = await virtualEngine([wf]);
    try {
      const id = await v.start('leftAtOnce', {});
      const execution = await v.runToEnd(id);
      expect(execution.status).toBe('FAILED');
      expect(execution.error?.code).toBe('Stepwise.ExpressionFailed');
      const events = await v.history(id);
      expect(calls).toBe(0);
      expect(events.filter((e) => e.type === 'StepStarted')).toEqual([]);
      expect(JSON.parse(JSON.stringify(persist(replay(wf, events))))).toEqual((await v.store.getExecution(id))!.snapshot);
    } finally {
      await v.close();
    }
  });

  it('a retry scheduled in the batch that leaves the step never runs (no zombie handler call)', async () => {
    // Found by the valid-definitions property (seeds 1, 3, 6): A and B fail in the same batch; A's
    // failure schedules a retry, B's routes the parallel to its catch. The retry row survived (the
    // cancel skipped rows this commit consumes), so A's handler ran again while the execution
    // waited in 'later', and a StepSucceeded for A landed after the parallel was left.
    const calls: string[] = [];
    const e1 = () => { throw Object.assign(new Error('e1'), { code: 'E1' }); };
    const wf = workflow<unknown>('zombieRetry')
      .parallel('p', [
        (b) => b.task('A', (_: unknown, ctx) => { calls.push(`A#${ctx.attempt}`); if (ctx.attempt === 1) e1(); return 'A-ok'; }, {
          retry: [{ errors: ['*'], maxAttempts: 2, intervalMs: 1000, jitter: 'none' }],
        }),
        (b) => b.task('B', (_: unknown, ctx) => { calls.push(`B#${ctx.attempt}`); e1(); }),
      ], { catch: [{ errors: ['*'], next: 'later' }] })
      .wait('later', { durationMs: 60_000 })
      .succeed('done')
      .build();
    const v = await virtualEngine([wf]);
    try {
      const id = await v.start('zombieRetry', {});
      const execution = await v.runToEnd(id);
      expect(execution.status).toBe('SUCCEEDED');
      expect(calls.sort()).toEqual(['A#1', 'B#1']);
      const events = await v.history(id);
      expect(events.filter((e) => e.step === 'A' && (e.type === 'StepStarted' || e.type === 'StepSucceeded')).map((e) => `${e.type}#${e.attempt}`)).toEqual(['StepStarted#1']);
      expect(await v.store.listWork(id)).toEqual([]);
    } finally {
      await v.close();
    }
  });
});

// ---- invalid definitions are refused, naming the state --------------------------------------------

/** The mutations that apply to a generated definition, with the state each one must be blamed on. */
function mutationsOf(root: Named[], all: Named[]): Mutation[] {
  const out: Mutation[] = [];
  const flows = all.filter((s) => s.spec.type !== 'choice' && s.spec.type !== 'succeed' && s.spec.type !== 'fail');
  for (const s of flows) out.push({ kind: 'nextUnknown', state: s.name });
  for (const s of all) {
    const t = s.spec.type;
    if (t === 'choice') {
      out.push({ kind: 'choiceRuleUnknown', state: s.name }, { kind: 'choiceDefaultUnknown', state: s.name }, { kind: 'noDefault', state: s.name }, { kind: 'noChoices', state: s.name });
    }
    if (t === 'task' || t === 'map' || t === 'parallel') out.push({ kind: 'catchUnknown', state: s.name });
    if (t === 'task' || t === 'map') out.push({ kind: 'noHandler', state: s.name }, { kind: 'badRetry', state: s.name }, { kind: 'badTimeout', state: s.name });
    if (t === 'map') out.push({ kind: 'noItemsPath', state: s.name });
    if (t === 'wait') out.push({ kind: 'waitBoth', state: s.name });
    if (t === 'fail') out.push({ kind: 'failNoError', state: s.name });
    if (t === 'parallel') {
      out.push({ kind: 'emptyBranch', state: s.name });
      // A state inside a branch whose catch goes out of the branch (to a later root-level state, or the parallel itself).
      const inside = s.branches!.flat().filter((x) => x.spec.type === 'task' || x.spec.type === 'map');
      for (const x of inside) out.push({ kind: 'catchOutsideScope', state: x.name, target: s.name });
    }
    if ((t === 'task' || t === 'map') && s.comp) {
      const other = all.find((o) => o !== s);
      if (other) out.push({ kind: 'compensationNamedLikeState', state: s.name, as: other.name });
    }
    out.push({ kind: 'badName', state: s.name, as: s === all[0] ? `1${s.name}` : `${s.name} x` });
  }
  // Rename a state to the name of one the validator visits before it.
  for (const [i, s] of all.entries()) if (i > 0) out.push({ kind: 'duplicate', state: s.name, as: all[i - 1]!.name });
  out.push({ kind: 'unreachableAfterSucceed', state: `s${all.length + 1}` });
  void root;
  return out;
}

/** The name the error must carry: the mutated state's name as it appears in the definition. */
function blamed(m: Mutation): string {
  if (m.kind === 'duplicate' || m.kind === 'badName') return m.as;
  return m.state;
}

describe('invalid definitions (one mutation of a valid one)', () => {
  it(`build() throws a DefinitionError naming the mutated state (seed ${SEED}, ${INVALID_RUNS} runs)`, async () => {
    const noRt: Runtime = { onCall() {} };
    const kinds = new Map<string, number>();
    const property = fc.asyncProperty(
      specArb.chain((spec) => {
        const { root, all } = nameAll(spec);
        return fc.constantFrom(...mutationsOf(root, all)).map((m) => ({ spec, m }));
      }),
      async ({ spec, m }) => {
        const { root } = nameAll(spec);
        // The unmutated definition is valid ...
        expect(() => build('control', root, noRt)).not.toThrow();
        // ... and the mutation is refused, naming the state.
        let error: unknown;
        try {
          build('mutant', root, noRt, m);
        } catch (e) {
          error = e;
        }
        expect(error, `${m.kind} on ${m.state} was accepted`).toBeInstanceOf(DefinitionError);
        const d = error as DefinitionError;
        expect(d.code).toBe('INVALID_DEFINITION');
        expect(d.state, `${m.kind}: ${d.message}`).toBe(blamed(m));
        expect(d.message).toContain(`'${blamed(m)}'`);
        kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
      },
    );
    await check('invalid definitions', property, INVALID_RUNS);
    // Every mutation kind was tried.
    for (const k of ['nextUnknown', 'choiceRuleUnknown', 'choiceDefaultUnknown', 'catchUnknown', 'duplicate', 'noHandler', 'noDefault', 'noItemsPath', 'unreachableAfterSucceed']) {
      expect(kinds.get(k) ?? 0, k).toBeGreaterThan(0);
    }
  }, 60_000);
});
