/**
 * Property-based tests of the DSL and the engine (fast-check).
 *
 * 1. Random VALID definitions, made through the builder API: random sequences of task, pass,
 *    wait, choice (rules and a default that go to later states), parallel (1-3 branches, nested
 *    once), map, succeed and fail; random retry policies, catch routes to later states,
 *    compensations, and handlers that succeed or fail per a generated plan (thrown errors, terminal
 *    errors, non-Errors, outputs that are not JSON, hangs past the timeout). Every one builds, runs
 *    to an end on a virtual clock, and its history is sound: one StepSucceeded per step key at
 *    most, every handler call after its StepStarted committed, no work left, and
 *    replay(wf, history) equal to the stored snapshot.
 * 2. INVALID definitions, made by mutating a valid one in one place: build() throws a
 *    DefinitionError whose `state` is the mutated state and whose message names it.
 *
 * Seeded: STEPWISE_FC_SEED=<n> reruns a failure (the failure message prints the seed and path);
 * STEPWISE_FC_RUNS=<n> scales the number of runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { persist, replay } from '../../src/engine/decide.js';
import {
  DefinitionError, ExecutionStatus, HistoryEventType, SqliteStore, TerminalError, VirtualClock, outcomeOf, workflow,
  type HistoryEvent, type RetryPolicy, type Sequence, type StepContext, type Workflow,
} from '../../src/index.js';
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

// ---- the spec: plain data describing a definition -------------------------------------------

/** What a handler does on an attempt. */
type Outcome = 'ok' | 'okAsync' | 'E1' | 'E2' | 'T1' | 'nonError' | 'notJson' | 'hang';

interface CatchSpec { errors: string[]; to: number; resultPath: string | null | undefined }
interface CompSpec { fails: boolean; retries: 1 | 2 }
interface TaskSpec {
  type: 'task'; plan: Outcome[]; retry: RetryPolicy[]; catch: CatchSpec[]; comp?: CompSpec; timeoutMs: number;
  result: 'merge' | 'replace' | 'discard'; explicitNext: boolean;
}
interface MapSpec { type: 'map'; plan: Outcome[]; concurrency: number; retry: RetryPolicy[]; catch: CatchSpec[]; comp?: CompSpec; timeoutMs: number }
interface PassSpec { type: 'pass'; transform: 'none' | 'tag' | 'throw' | 'count'; explicitNext: boolean }
interface WaitSpec { type: 'wait'; ms: number; computed: boolean }
type When = 'true' | 'false' | 'manyItems' | 'throw';
/** `back`: a first rule that loops back to the start of the root sequence while `loopN` < 2. */
interface ChoiceSpec { type: 'choice'; rules: Array<{ when: When; to: number }>; defaultTo: number; back?: boolean }
interface ParallelSpec { type: 'parallel'; branches: StateSpec[][]; catch: CatchSpec[] }
interface SucceedSpec { type: 'succeed'; output: boolean }
interface FailSpec { type: 'fail'; cause: boolean }
type StateSpec = TaskSpec | MapSpec | PassSpec | WaitSpec | ChoiceSpec | ParallelSpec | SucceedSpec | FailSpec;

/** Codes a FAILED execution of a generated workflow may end with; anything else is a bug. */
const KNOWN_FAILURES = new Set([
  'E1', 'E2', 'T1', 'F1', 'Stepwise.Timeout', 'Stepwise.NonErrorThrown', 'Stepwise.OutputNotJson',
  'Stepwise.ExpressionFailed', 'Stepwise.MapItemsNotArray',
]);

const outcomeArb: fc.Arbitrary<Outcome> = fc.oneof(
  { arbitrary: fc.constant<Outcome>('ok'), weight: 10 },
  { arbitrary: fc.constant<Outcome>('okAsync'), weight: 4 },
  { arbitrary: fc.constant<Outcome>('E1'), weight: 4 },
  { arbitrary: fc.constant<Outcome>('E2'), weight: 2 },
  { arbitrary: fc.constant<Outcome>('T1'), weight: 2 },
  { arbitrary: fc.constant<Outcome>('nonError'), weight: 1 },
  { arbitrary: fc.constant<Outcome>('notJson'), weight: 1 },
  { arbitrary: fc.constant<Outcome>('hang'), weight: 1 },
);
const planArb = fc.array(outcomeArb, { minLength: 1, maxLength: 4 });
const retryArb: fc.Arbitrary<RetryPolicy> = fc.record({
  errors: fc.constantFrom(['*'], ['E1'], ['E2', 'T1'], ['Stepwise.Timeout'], ['E1', 'Stepwise.Timeout', 'Stepwise.OutputNotJson']),
  maxAttempts: fc.integer({ min: 1, max: 4 }),
  intervalMs: fc.integer({ min: 0, max: 5000 }),
  backoffRate: fc.constantFrom(1, 1.5, 2, 3),
  maxDelayMs: fc.constantFrom(0, 700, 60_000),
  jitter: fc.constantFrom<'full' | 'none'>('full', 'none'),
});
const retriesArb = fc.array(retryArb, { maxLength: 2 });
const catchArb: fc.Arbitrary<CatchSpec> = fc.record({
  errors: fc.constantFrom(['*'], ['E1'], ['T1'], ['F1'], ['Stepwise.Timeout'], ['Stepwise.MapItemsNotArray', 'E2'], ['Stepwise.ExpressionFailed']),
  to: fc.nat(20),
  resultPath: fc.constantFrom<string | null | undefined>(undefined, null, 'caught'),
});
const catchesArb = fc.array(catchArb, { maxLength: 2 });
const compArb: fc.Arbitrary<CompSpec | undefined> = fc.option(
  fc.record({ fails: fc.boolean(), retries: fc.constantFrom<1 | 2>(1, 2) }),
  { nil: undefined, freq: 2 },
);
const timeoutArb = fc.integer({ min: 1, max: 120_000 });

function stateArb(depth: number): fc.Arbitrary<StateSpec> {
  const task = fc.record({
    type: fc.constant('task' as const), plan: planArb, retry: retriesArb, catch: catchesArb, comp: compArb, timeoutMs: timeoutArb,
    result: fc.constantFrom<TaskSpec['result']>('merge', 'merge', 'merge', 'replace', 'discard'), explicitNext: fc.boolean(),
  });
  const map = fc.record({
    type: fc.constant('map' as const), plan: planArb, concurrency: fc.integer({ min: 1, max: 3 }), retry: retriesArb,
    catch: catchesArb, comp: compArb, timeoutMs: timeoutArb,
  });
  const pass = fc.record({ type: fc.constant('pass' as const), transform: fc.constantFrom<PassSpec['transform']>('none', 'tag', 'tag', 'throw'), explicitNext: fc.boolean() });
  const wait = fc.record({ type: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 3_600_000 }), computed: fc.boolean() });
  const choice = fc.record({
    type: fc.constant('choice' as const),
    rules: fc.array(fc.record({ when: fc.constantFrom<When>('true', 'false', 'false', 'manyItems', 'throw'), to: fc.nat(20) }), { minLength: 1, maxLength: 3 }),
    defaultTo: fc.nat(20),
  });
  const succeed = fc.record({ type: fc.constant('succeed' as const), output: fc.boolean() });
  const fail = fc.record({ type: fc.constant('fail' as const), cause: fc.boolean() });
  const arbs: Array<{ arbitrary: fc.Arbitrary<StateSpec>; weight: number }> = [
    { arbitrary: task, weight: 8 },
    { arbitrary: map, weight: 2 },
    { arbitrary: pass, weight: 2 },
    { arbitrary: wait, weight: 2 },
    { arbitrary: choice, weight: 3 },
    { arbitrary: succeed, weight: 1 },
    { arbitrary: fail, weight: 1 },
  ];
  if (depth < 2) {
    arbs.push({
      arbitrary: fc.record({
        type: fc.constant('parallel' as const),
        branches: fc.array(sequenceArb(depth + 1), { minLength: 1, maxLength: 3 }),
        catch: catchesArb,
      }),
      weight: depth === 0 ? 2 : 1,
    });
  }
  return fc.oneof(...arbs);
}

function sequenceArb(depth: number): fc.Arbitrary<StateSpec[]> {
  return fc.array(stateArb(depth), { minLength: 1, maxLength: depth === 0 ? 6 : 3 });
}

/**
 * Makes a generated sequence valid: succeed and fail only last (a terminal state in the middle
 * would strand the ones after it), no choice last (its targets must be later states), and no catch
 * rules on the last state. Jumps go forward only, so every execution ends; and every choice has a
 * target at the very next state, so every state stays reachable.
 */
function normalise(seq: StateSpec[]): StateSpec[] {
  return seq.map((s, i) => {
    const last = i === seq.length - 1;
    if (!last && (s.type === 'succeed' || s.type === 'fail')) return { type: 'pass', transform: 'none', explicitNext: false };
    if (last && s.type === 'choice') return { type: 'pass', transform: 'tag', explicitNext: false };
    if (s.type === 'parallel') return { ...s, branches: s.branches.map(normalise), catch: last ? [] : s.catch };
    if ((s.type === 'task' || s.type === 'map') && last) return { ...s, catch: [] };
    return s;
  });
}

// ---- from spec to builder calls ----------------------------------------------------------------

/** A spec with names, laid out as the validator visits it (a parallel, then its branches). */
interface Named {
  spec: StateSpec;
  name: string;
  /** The names of the states of its sequence, for resolving jumps. */
  sequence: string[];
  index: number;
  branches?: Named[][];
  comp?: string;
}

function nameAll(root: StateSpec[]): { root: Named[]; all: Named[] } {
  let n = 0;
  let c = 0;
  const all: Named[] = [];
  const walk = (seq: StateSpec[]): Named[] => {
    const names: string[] = [];
    const out: Named[] = [];
    for (const [index, spec] of seq.entries()) {
      const named: Named = { spec, name: `s${n++}`, sequence: names, index };
      names.push(named.name);
      if ((spec.type === 'task' || spec.type === 'map') && spec.comp) named.comp = `c${c++}`;
      all.push(named);
      out.push(named);
      if (spec.type === 'parallel') named.branches = spec.branches.map(walk);
    }
    return out;
  };
  return { root: walk(root), all };
}

/** A later state of the same sequence, picked by `to`. */
function later(s: Named, to: number): string {
  const rest = s.sequence.length - s.index - 1;
  return s.sequence[s.index + 1 + (to % rest)]!;
}

/** One-place changes that make a definition invalid; each names the state the error must name. */
type Mutation =
  | { kind: 'nextUnknown'; state: string }
  | { kind: 'choiceRuleUnknown'; state: string }
  | { kind: 'choiceDefaultUnknown'; state: string }
  | { kind: 'catchUnknown'; state: string }
  | { kind: 'catchOutsideScope'; state: string; target: string }
  | { kind: 'duplicate'; state: string; as: string }
  | { kind: 'noHandler'; state: string }
  | { kind: 'noDefault'; state: string }
  | { kind: 'noItemsPath'; state: string }
  | { kind: 'badRetry'; state: string }
  | { kind: 'badTimeout'; state: string }
  | { kind: 'waitBoth'; state: string }
  | { kind: 'failNoError'; state: string }
  | { kind: 'badName'; state: string; as: string }
  | { kind: 'compensationNamedLikeState'; state: string; as: string }
  | { kind: 'emptyBranch'; state: string }
  | { kind: 'noChoices'; state: string }
  | { kind: 'unreachableAfterSucceed'; state: string };

interface Runtime {
  /** Called by every task and map handler before it acts. */
  onCall(ctx: StepContext, kind: 'task' | 'compensation'): void;
  /** The virtual clock the engine runs on: a hanging handler sleeps on it until its step is aborted. */
  clock?: VirtualClock;
}

function act(outcome: Outcome, ctx: StepContext, output: unknown, rt: Runtime): unknown {
  switch (outcome) {
    case 'ok': return output;
    case 'okAsync': return Promise.resolve(output);
    case 'E1': throw Object.assign(new Error(`E1 at ${ctx.step}`), { code: 'E1' });
    case 'E2': return Promise.reject(Object.assign(new Error(`E2 at ${ctx.step}`), { code: 'E2' }));
    case 'T1': throw new TerminalError('T1', `terminal at ${ctx.step}`);
    // eslint-disable-next-line no-throw-literal
    case 'nonError': throw 'a bare string';
    case 'notJson': return { n: 1n };
    case 'hang':
      // Returns only when aborted (the timeout fires): a late result the engine must ignore.
      return rt.clock!.sleep(undefined, ctx.signal).then(() => ({ late: true }));
  }
}

function when(w: When): (d: unknown) => boolean {
  switch (w) {
    case 'true': return () => true;
    case 'false': return () => false;
    case 'manyItems': return (d) => Array.isArray((d as { items?: unknown })?.items) && (d as { items: unknown[] }).items.length > 1;
    case 'throw': return () => { throw new Error('a choice rule threw'); };
  }
}

function catches(s: Named, rules: CatchSpec[], m?: Mutation) {
  const out = rules.map((r) => ({ errors: r.errors, next: later(s, r.to), ...(r.resultPath !== undefined ? { resultPath: r.resultPath } : {}) }));
  if (m?.state === s.name && m.kind === 'catchUnknown') out.push({ errors: ['*'], next: 'nowhere' });
  if (m?.state === s.name && m.kind === 'catchOutsideScope') out.push({ errors: ['E1'], next: m.target });
  return out;
}

function compensate(s: Named, spec: CompSpec | undefined, rt: Runtime, m?: Mutation) {
  if (!spec || !s.comp) return undefined;
  const name = m?.kind === 'compensationNamedLikeState' && m.state === s.name ? m.as : s.comp;
  return {
    name,
    retry: [{ errors: ['*'], maxAttempts: spec.retries, intervalMs: 500 }],
    handler: (_: unknown, ctx: StepContext) => {
      rt.onCall(ctx, 'compensation');
      if (spec.fails) throw Object.assign(new Error('compensation failed'), { code: 'C1' });
      return { undone: ctx.step };
    },
  };
}

function addStates(seq: Sequence<any, any>, states: Named[], rt: Runtime, m?: Mutation): Sequence<any, any> {
  let b = seq;
  for (const s of states) {
    const mine = m?.state === s.name ? m : undefined;
    const name = mine?.kind === 'duplicate' || mine?.kind === 'badName' ? mine.as : s.name;
    const spec = s.spec;
    const nextOf = (explicit: boolean) => {
      if (mine?.kind === 'nextUnknown') return { next: 'nowhere' };
      return explicit && s.index < s.sequence.length - 1 ? { next: s.sequence[s.index + 1] } : {};
    };
    const handler = (plan: Outcome[]) => (input: unknown, ctx: StepContext) => {
      rt.onCall(ctx, 'task');
      return act(plan[Math.min(ctx.attempt - 1, plan.length - 1)]!, ctx, { step: ctx.step, attempt: ctx.attempt, index: ctx.index ?? null, sawInput: input !== undefined }, rt);
    };
    switch (spec.type) {
      case 'task':
        b = b.task(name, mine?.kind === 'noHandler' ? (undefined as never) : handler(spec.plan), {
          retry: mine?.kind === 'badRetry' ? [{ maxAttempts: 0 }] : spec.retry,
          catch: catches(s, spec.catch, mine),
          compensate: compensate(s, spec.comp, rt, mine),
          timeoutMs: mine?.kind === 'badTimeout' ? 0 : spec.timeoutMs,
          resultPath: (spec.result === 'merge' ? `r_${s.name}` : spec.result === 'discard' ? null : undefined) as never,
          ...nextOf(spec.explicitNext),
        });
        break;
      case 'map':
        b = b.map(name, {
          itemsPath: (mine?.kind === 'noItemsPath' ? undefined : 'items') as never,
          handler: mine?.kind === 'noHandler' ? (undefined as never) : handler(spec.plan),
          concurrency: spec.concurrency,
          retry: mine?.kind === 'badRetry' ? [{ backoffRate: 0.5 }] : spec.retry,
          catch: catches(s, spec.catch, mine),
          compensate: compensate(s, spec.comp, rt, mine),
          timeoutMs: mine?.kind === 'badTimeout' ? -1 : spec.timeoutMs,
          resultPath: `m_${s.name}` as never,
          ...nextOf(false),
        });
        break;
      case 'pass': {
        const isObject = (d: unknown): d is Record<string, unknown> => d !== null && typeof d === 'object' && !Array.isArray(d);
        const transform: ((d: unknown) => unknown) | undefined = spec.transform === 'count' ? (d: unknown) => ({ ...(isObject(d) ? d : { was: d }), loopN: (isObject(d) && typeof d.loopN === 'number' ? d.loopN : 0) + 1 })
          : spec.transform === 'tag' ? (d: unknown) => (isObject(d) ? { ...d, passed: true } : { was: d })
          : spec.transform === 'throw' ? () => { throw new Error('a transform threw'); } : undefined;
        b = b.pass(name, { ...(transform ? { transform } : {}), ...nextOf(spec.explicitNext) });
        break;
      }
      case 'wait': {
        const both = mine?.kind === 'waitBoth' ? { until: () => 0 } : {};
        b = b.wait(name, { durationMs: spec.computed ? () => spec.ms : spec.ms, ...both, ...nextOf(false) } as never);
        break;
      }
      case 'choice': {
        const rules = spec.rules.map((r) => ({ when: when(r.when), next: later(s, r.to) }));
        if (spec.back) rules.unshift({ when: (d: unknown) => ((d as { loopN?: number } | null)?.loopN ?? 0) < 2, next: s.sequence[0]! });
        let fallback: string | undefined = later(s, spec.defaultTo);
        const following = s.sequence[s.index + 1]!;
        if (!rules.some((r) => r.next === following) && fallback !== following) fallback = following;
        if (mine?.kind === 'choiceRuleUnknown') rules[0]!.next = 'nowhere';
        if (mine?.kind === 'choiceDefaultUnknown') fallback = 'nowhere';
        if (mine?.kind === 'noDefault') fallback = undefined;
        b = b.choice(name, { choices: mine?.kind === 'noChoices' ? [] : rules, default: fallback as string });
        break;
      }
      case 'parallel': {
        const branches = s.branches!.map((branch, i) => (x: Sequence<any, any>) =>
          (mine?.kind === 'emptyBranch' && i === 0 ? x : addStates(x, branch, rt, m)));
        b = b.parallel(name, branches, { catch: catches(s, spec.catch, mine), resultPath: `p_${s.name}` as never, ...nextOf(false) });
        break;
      }
      case 'succeed':
        b = b.succeed(name, spec.output ? { output: (d: unknown) => ({ out: d }) } : {});
        break;
      case 'fail':
        b = b.fail(name, { error: mine?.kind === 'failNoError' ? '' : 'F1', ...(spec.cause ? { cause: () => 'generated failure' } : {}) });
        break;
    }
  }
  return b;
}

function build(name: string, root: Named[], rt: Runtime, m?: Mutation): Workflow<any> {
  let b = addStates(workflow<any>(name), root, rt, m);
  if (m?.kind === 'unreachableAfterSucceed') {
    // End the root sequence with a succeed (unless it already ends in succeed or fail), then add a state after it.
    const lastType = root[root.length - 1]!.spec.type;
    if (lastType !== 'succeed' && lastType !== 'fail') b = b.succeed(`${m.state}_end`);
    b = b.pass(m.state);
  }
  return b.build();
}

/**
 * Optionally makes the root sequence a loop: a counting pass first, and the last root-level choice
 * goes back to it while the count is under 2 (a second visit gets new step keys: 's3#2'). Root
 * tasks then merge their results, so the count survives the loop body.
 */
function loopify(seq: StateSpec[], loop: boolean): StateSpec[] {
  const last = seq.map((x) => x.type).lastIndexOf('choice');
  if (!loop || last === -1) return seq;
  const body = seq.map((x, i): StateSpec => {
    if (x.type === 'task' && x.result === 'replace') return { ...x, result: 'merge' };
    if (x.type === 'choice' && i === last) return { ...x, back: true };
    return x;
  });
  return [{ type: 'pass', transform: 'count', explicitNext: false }, ...body];
}

const specArb = fc.tuple(sequenceArb(0), fc.boolean()).map(([seq, loop]) => loopify(normalise(seq), loop));
const inputArb = fc.record({ items: fc.array(fc.integer({ min: 0, max: 99 }), { maxLength: 4 }) });

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
}

function newSeen(): Seen {
  return { status: new Map(), states: new Map(), events: new Map(), codes: new Set(), revisits: 0, cancels: { accepted: 0, refused: 0 } };
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

  const v = await virtualEngine([wf], { clock });
  db = (v.store as SqliteStore).connection;
  try {
    const id = await v.start(wf.name, input, 'x1');
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
    // Every StepStarted is one handler call (the engine reports nothing it did not do).
    const starts = events.filter((e) => e.type === 'StepStarted').length;
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
    for (const t of ['task', 'map', 'pass', 'wait', 'choice', 'parallel', 'succeed', 'fail']) expect(seen.states.get(t) ?? 0, t).toBeGreaterThan(0);
    for (const t of ['StepSucceeded', 'StepFailed', 'RetryScheduled', 'TimerFired', 'CompensationSucceeded', 'CompensationFailed', 'StateEntered']) {
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
