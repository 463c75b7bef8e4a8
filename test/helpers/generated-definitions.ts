/**
 * The property tests' generator of workflow definitions (fast-check): plain-data specs of random
 * valid definitions, turned into builder calls, with optional one-place mutations that make them
 * invalid. Shared by test/properties/definitions.test.ts (run them) and
 * test/engine/scope-contract.test.ts (drive their machines through xstate both ways).
 */
import fc from 'fast-check';
import { TerminalError, workflow, type RetryPolicy, type Sequence, type StepContext, type VirtualClock, type Workflow } from '../../src/index.js';

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
/** `sent`: the run sends the event right after the start, so it waits in the mailbox until the state is reached. */
interface WaitEventSpec { type: 'waitForEvent'; event: 'go' | 'later'; sent: boolean; timeoutMs: number; catch: CatchSpec[] }
/** Runs a child workflow (see CHILD_WORKFLOWS) and takes its output, or fails with its error. */
interface InvokeSpec { type: 'invoke'; child: ChildName; retry: RetryPolicy[]; catch: CatchSpec[] }
export type StateSpec = TaskSpec | MapSpec | PassSpec | WaitSpec | ChoiceSpec | ParallelSpec | SucceedSpec | FailSpec | WaitEventSpec | InvokeSpec;

/** The child workflows an invoke state may call: they must be registered beside the generated one. */
export type ChildName = 'child-ok' | 'child-fail' | 'child-slow';
export const CHILD_WORKFLOWS: Workflow<any>[] = [
  workflow<any>('child-ok').task('work', (input: unknown) => ({ child: 'ok', got: input ?? null })).build(),
  workflow<any>('child-fail').task('work', () => { throw Object.assign(new Error('the child failed'), { code: 'E1' }); }).build(),
  workflow<any>('child-slow').wait('nap', { durationMs: 30_000 }).task('work', () => ({ child: 'slow' })).build(),
];

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
  const waitEvent = fc.record({
    type: fc.constant('waitForEvent' as const), event: fc.constantFrom<WaitEventSpec['event']>('go', 'later'), sent: fc.boolean(),
    timeoutMs: fc.integer({ min: 1, max: 3_600_000 }), catch: catchesArb,
  });
  const invoke = fc.record({
    type: fc.constant('invoke' as const), child: fc.constantFrom<ChildName>('child-ok', 'child-ok', 'child-fail', 'child-slow'),
    retry: retriesArb, catch: catchesArb,
  });
  const arbs: Array<{ arbitrary: fc.Arbitrary<StateSpec>; weight: number }> = [
    { arbitrary: task, weight: 8 },
    { arbitrary: map, weight: 2 },
    { arbitrary: pass, weight: 2 },
    { arbitrary: wait, weight: 2 },
    { arbitrary: choice, weight: 3 },
    { arbitrary: succeed, weight: 1 },
    { arbitrary: fail, weight: 1 },
    { arbitrary: waitEvent, weight: 1 },
    { arbitrary: invoke, weight: 1 },
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
    if ((s.type === 'task' || s.type === 'map' || s.type === 'waitForEvent' || s.type === 'invoke') && last) return { ...s, catch: [] };
    return s;
  });
}

// ---- from spec to builder calls ----------------------------------------------------------------

/** A spec with names, laid out as the validator visits it (a parallel, then its branches). */
export interface Named {
  spec: StateSpec;
  name: string;
  /** The names of the states of its sequence, for resolving jumps. */
  sequence: string[];
  index: number;
  branches?: Named[][];
  comp?: string;
}

export function nameAll(root: StateSpec[]): { root: Named[]; all: Named[] } {
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
export type Mutation =
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

export interface Runtime {
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
    // A thrown string, not an Error: the engine must normalise it.
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
      case 'waitForEvent':
        b = b.waitForEvent(name, { event: spec.event, timeoutMs: spec.timeoutMs, catch: catches(s, spec.catch, mine), resultPath: `e_${s.name}` as never, ...nextOf(false) });
        break;
      case 'invoke':
        b = b.invoke(name, spec.child, {
          input: (d: unknown) => ({ from: s.name, items: (d as { items?: unknown } | null)?.items ?? null }),
          retry: spec.retry, catch: catches(s, spec.catch, mine), resultPath: `i_${s.name}` as never, ...nextOf(false),
        });
        break;
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

export function build(name: string, root: Named[], rt: Runtime, m?: Mutation): Workflow<any> {
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

export const specArb = fc.tuple(sequenceArb(0), fc.boolean()).map(([seq, loop]) => loopify(normalise(seq), loop));
export const inputArb = fc.record({ items: fc.array(fc.integer({ min: 0, max: 99 }), { maxLength: 4 }) });
