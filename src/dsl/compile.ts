import { assign, enqueueActions, setup, type AnyStateMachine } from 'xstate';
import { StepErrorCodes, type StepError } from '../core/errors.js';
import { toJson } from '../core/json.js';
import { findRetryPolicy, type ResolvedRetryPolicy } from '../core/retry-policy.js';
import { DSL_DEFAULTS, type CatchRule, type ResultPath, type StateDef, type WorkflowDefinition } from './definition.js';
import {
  FINAL, stepKey, workTag, type CompletedStep, type WorkflowCommand, type WorkflowContext, type WorkflowEvent,
} from './machine-types.js';
import { branchScope, type StateInfo } from './scopes.js';

/**
 * Compiles a validated definition into an xstate v5 machine. The machine is pure: it never runs
 * a handler or a timer itself. Entering a task asks for `runTask` (as data); the engine runs the
 * handler and sends STEP_SUCCEEDED or STEP_FAILED back. Retries, catch routes, joins, map
 * progress and compensation order are all decided here, so the same history always folds to the
 * same snapshot.
 */
export function compileMachine(def: WorkflowDefinition, index: Map<string, StateInfo>): AnyStateMachine {
  const ctx = new Compiler(index);
  return setup({
    types: {} as { context: WorkflowContext; events: WorkflowEvent; input: unknown },
  }).createMachine({
    id: def.name,
    context: ({ input }: { input: unknown }) => initialContext(input),
    initial: 'run',
    states: {
      run: {
        initial: def.states[0].name,
        states: ctx.sequence(def.states),
        on: {
          CANCEL: {
            target: `#${FINAL.failed}-compensating`,
            actions: assign({ cancelled: true, error: { code: StepErrorCodes.Cancelled, message: 'the execution was cancelled' } }),
          },
        },
      },
      compensating: ctx.compensating(),
      [FINAL.succeeded]: { id: FINAL.succeeded, type: 'final' },
      [FINAL.failed]: { id: FINAL.failed, type: 'final' },
      [FINAL.cancelled]: { id: FINAL.cancelled, type: 'final' },
    },
  } as any) as unknown as AnyStateMachine;
}

export function initialContext(input: unknown): WorkflowContext {
  return {
    data: { '': input ?? null }, attempts: {}, visits: {}, completed: [], compensating: [], maps: {}, timers: {},
    choice: {}, spins: 0, faults: {}, error: null, output: null, cancelled: false, compensationFailures: [],
  };
}

type Ctx = { context: WorkflowContext; event: WorkflowEvent };

/** A run of states entered without waiting is stopped after this many (see Compiler.spin). */
const MAX_SPINS = 10_000;
const ENDLESS_LOOP = 'Stepwise.EndlessLoop';
type Transition = { target?: string; guard?: (args: Ctx) => boolean; actions?: unknown[]; reenter?: boolean };

const COMPENSATING_ID = `${FINAL.failed}-compensating`;

class Compiler {
  constructor(private readonly index: Map<string, StateInfo>) {}

  sequence(states: StateDef[], regionEnd?: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const state of states) out[state.name] = this.state(state);
    if (regionEnd) out.$end = { id: regionEnd, type: 'final' };
    return out;
  }

  private info(name: string): StateInfo {
    return this.index.get(name)!;
  }

  private state(state: StateDef): unknown {
    switch (state.type) {
      case 'task': return this.task(state);
      case 'map': return this.map(state);
      case 'choice': return this.choice(state);
      case 'parallel': return this.parallel(state);
      case 'wait': return this.wait(state);
      case 'pass': return this.pass(state);
      case 'succeed': return this.succeed(state);
      case 'fail': return this.fail(state);
    }
  }

  /** Where a state goes when it completes, with the action that finishes its sequence if it is the last. */
  private onComplete(name: string, extra: unknown[] = []): Transition {
    const info = this.info(name);
    // A state that goes to itself must be re-entered (xstate's default keeps it, running no entry).
    if (info.successor) return { target: `#${info.successor}`, actions: extra, ...(info.successor === name ? { reenter: true } : {}) };
    if (info.scope === '') {
      return { target: `#${FINAL.succeeded}`, actions: [...extra, assign({ output: ({ context }: Ctx) => context.data[''] })] };
    }
    return { target: `#${regionEndId(info.scope)}`, actions: extra };
  }

  /**
   * Routes for an error raised in state `name`: its own catch rules, then those of every
   * enclosing parallel (innermost first), then the workflow's failure (compensations, FAILED).
   */
  private failureRoutes(name: string, errorOf: (args: Ctx) => StepError, guard: (args: Ctx) => boolean, ownCatch: CatchRule[]): Transition[] {
    const info = this.info(name);
    const routes: Transition[] = [];
    const addCatches = (rules: CatchRule[], scope: string) => {
      for (const rule of rules) {
        const resultPath = rule.resultPath === undefined ? DSL_DEFAULTS.catchResultPath : rule.resultPath;
        routes.push({
          guard: (args) => guard(args) && catchMatches(rule, errorOf(args)),
          target: `#${rule.next}`,
          ...(rule.next === name ? { reenter: true } : {}),
          actions: [assign(({ context, event }: Ctx) => ({
            faults: without(context.faults, name),
            data: { ...context.data, [scope]: applyResult(context.data[scope], resultPath, publicError(errorOf({ context, event }))) },
          }))],
        });
      }
    };
    addCatches(ownCatch, info.scope);
    for (const parallel of info.enclosing) {
      const p = this.info(parallel);
      if (p.state.type === 'parallel') addCatches(p.state.catch, p.scope);
    }
    routes.push({
      guard,
      target: `#${COMPENSATING_ID}`,
      actions: [assign(({ context, event }: Ctx) => ({ faults: without(context.faults, name), error: publicError(errorOf({ context, event })) }))],
    });
    return routes;
  }

  /**
   * Routes for an error a definition function raised while entering `name` (its own fault only:
   * in a parallel, another branch's fault is not this state's business).
   */
  private faultRoutes(name: string, ownCatch: CatchRule[] = []): Transition[] {
    return this.failureRoutes(name, ({ context }) => context.faults[name]!, ({ context }) => context.faults[name] !== undefined, ownCatch);
  }

  /**
   * Counts a state entered without waiting (choice, pass, parallel, map with nothing to run,
   * succeed, fail); a task, a map item or a real wait resets the count. A loop that never waits
   * would spin inside one transition for ever: past MAX_SPINS it fails, bypassing catch routes.
   */
  private spin(name: string) {
    return assign(({ context }: Ctx) => {
      const spins = (context.spins ?? 0) + 1;
      if (spins <= MAX_SPINS) return { spins };
      const error = { code: ENDLESS_LOOP, message: `state '${name}' was entered after ${MAX_SPINS} others in a row without a task or wait`, terminal: true };
      return { spins, faults: { ...context.faults, [name]: error } };
    });
  }

  private visit(name: string) {
    return assign({ visits: ({ context }: Ctx) => ({ ...context.visits, [name]: (context.visits[name] ?? 0) + 1 }) });
  }

  private task(state: Extract<StateDef, { type: 'task' }>): unknown {
    const name = state.name;
    const scope = this.info(name).scope;
    const key = (c: WorkflowContext) => stepKey(name, c.visits[name] ?? 1);
    const mine = ({ context, event }: Ctx) => 'key' in event && event.key === key(context);
    const errorOf = ({ event }: Ctx) => (event as Extract<WorkflowEvent, { type: 'STEP_FAILED' }>).error;
    return {
      id: name,
      tags: [workTag(name)],
      entry: [
        this.visit(name),
        assign({ attempts: ({ context }: Ctx) => ({ ...context.attempts, [key(context)]: 0 }), spins: 0 }),
        command('runTask', ({ context }) => ({ key: key(context), step: name })),
      ],
      exit: [command('cancelWork', ({ context }) => ({ kind: 'task', keys: [key(context)] }))],
      on: {
        STEP_SUCCEEDED: {
          guard: mine,
          ...this.onComplete(name, [assign(({ context, event }: Ctx) => {
            const output = (event as Extract<WorkflowEvent, { type: 'STEP_SUCCEEDED' }>).output;
            const input = context.data[scope];
            return {
              data: { ...context.data, [scope]: applyResult(input, state.resultPath, output) },
              completed: state.compensation
                ? [...context.completed, { key: key(context), step: name, compensation: state.compensation.name, input, output }]
                : context.completed,
            };
          })]),
        },
        STEP_FAILED: [
          retryRoute(state.retry, mine, errorOf, (c) => ({ key: key(c), step: name })),
          ...this.failureRoutes(name, errorOf, mine, state.catch),
        ],
      },
    };
  }

  private map(state: Extract<StateDef, { type: 'map' }>): unknown {
    const name = state.name;
    const scope = this.info(name).scope;
    const base = (c: WorkflowContext) => stepKey(name, c.visits[name] ?? 1);
    const itemOf = (c: WorkflowContext, event: WorkflowEvent): number => {
      if (!('key' in event)) return -1;
      const prefix = `${base(c)}[`;
      if (!event.key.startsWith(prefix) || !event.key.endsWith(']')) return -1;
      const i = Number(event.key.slice(prefix.length, -1));
      return Number.isInteger(i) && c.maps[name]?.progress[i] === 'r' ? i : -1;
    };
    const mine = ({ context, event }: Ctx) => itemOf(context, event) >= 0;
    const errorOf = ({ event }: Ctx) => (event as Extract<WorkflowEvent, { type: 'STEP_FAILED' }>).error;
    /** Marks pending items running, up to the concurrency limit, and asks for each. */
    const startMore = enqueueActions(({ context, enqueue }: any) => {
      const m: WorkflowContext['maps'][string] | undefined = context.maps[name];
      if (!m) return;
      let running = 0;
      for (const ch of m.progress) if (ch === 'r') running++;
      const progress = m.progress.split('');
      for (let i = 0; i < progress.length && running < state.concurrency; i++) {
        if (progress[i] !== '.') continue;
        progress[i] = 'r';
        running++;
        enqueue({ type: 'runTask', params: { key: stepKey(name, context.visits[name] ?? 1, i), step: name, index: i } });
      }
      enqueue.assign({ maps: { ...context.maps, [name]: { ...m, progress: progress.join('') } } });
    });
    return {
      id: name,
      tags: [workTag(name)],
      entry: [
        this.visit(name),
        command('entered', () => ({ step: name })),
        assign(({ context }: Ctx) => {
          const found = safely(() => getPath(context.data[scope], state.itemsPath));
          if (!found.ok) return { faults: { ...context.faults, [name]: found.error } };
          if (!Array.isArray(found.value)) {
            return { faults: { ...context.faults, [name]: { code: 'Stepwise.MapItemsNotArray', message: `map '${name}': '${state.itemsPath}' is not an array`, terminal: true } } };
          }
          const items = found.value as unknown[];
          return {
            spins: items.length > 0 ? 0 : context.spins,
            maps: { ...context.maps, [name]: { items, results: new Array(items.length).fill(null), progress: '.'.repeat(items.length) } },
          };
        }),
        startMore,
        this.spin(name),
      ],
      exit: [
        command('cancelWork', ({ context }) => {
          const m = context.maps[name];
          const keys: string[] = [];
          m?.progress.split('').forEach((ch, i) => { if (ch === 'r') keys.push(stepKey(name, context.visits[name] ?? 1, i)); });
          return { kind: 'task', keys };
        }),
      ],
      always: [
        ...this.faultRoutes(name, state.catch),
        {
          guard: ({ context }: Ctx) => context.maps[name] !== undefined && /^d*$/.test(context.maps[name].progress),
          // Exit actions run before a transition's own, so the join reads and drops the progress here.
          ...this.onComplete(name, [assign(({ context }: Ctx) => {
            const { [name]: progress, ...maps } = context.maps;
            return { maps, data: { ...context.data, [scope]: applyResult(context.data[scope], state.resultPath, progress.results) } };
          })]),
        },
      ],
      on: {
        STEP_SUCCEEDED: {
          guard: mine,
          actions: [
            assign(({ context, event }: Ctx) => {
              const i = itemOf(context, event);
              const m = context.maps[name];
              const output = (event as Extract<WorkflowEvent, { type: 'STEP_SUCCEEDED' }>).output;
              const results = m.results.slice();
              results[i] = output;
              const progress = `${m.progress.slice(0, i)}d${m.progress.slice(i + 1)}`;
              const completed: CompletedStep[] = state.compensation
                ? [...context.completed, { key: (event as { key: string }).key, step: name, compensation: state.compensation.name, input: m.items[i], output }]
                : context.completed;
              return { maps: { ...context.maps, [name]: { ...m, results, progress } }, completed };
            }),
            startMore,
          ],
        },
        STEP_FAILED: [
          retryRoute(state.retry, mine, errorOf, (c, e) => ({ key: (e as { key: string }).key, step: name, index: itemOf(c, e) })),
          ...this.failureRoutes(name, errorOf, mine, state.catch),
        ],
      },
    };
  }

  private choice(state: Extract<StateDef, { type: 'choice' }>): unknown {
    const name = state.name;
    const scope = this.info(name).scope;
    return {
      id: name,
      entry: [
        command('entered', () => ({ step: name })),
        assign(({ context }: Ctx) => {
          const found = safely(() => {
            const data = copyOf(context.data[scope]);
            return state.choices.findIndex((rule) => rule.when(data) === true);
          });
          return found.ok ? { choice: { ...context.choice, [name]: found.value as number } } : { faults: { ...context.faults, [name]: found.error } };
        }),        this.spin(name),
      ],
      always: [
        ...this.faultRoutes(name),
        ...state.choices.map((rule, i) => ({ guard: ({ context }: Ctx) => context.choice[name] === i, target: `#${rule.next}` })),
        { target: `#${state.default}` },
      ],
    };
  }

  private parallel(state: Extract<StateDef, { type: 'parallel' }>): unknown {
    const name = state.name;
    const scope = this.info(name).scope;
    const regions: Record<string, unknown> = {};
    state.branches.forEach((branch, i) => {
      regions[`b${i}`] = { initial: branch[0].name, states: this.sequence(branch, regionEndId(branchScope(name, i))) };
    });
    const scopes = state.branches.map((_, i) => branchScope(name, i));
    return {
      id: name,
      type: 'parallel',
      entry: [
        command('entered', () => ({ step: name })),
        assign(({ context }: Ctx) => {
          const data = { ...context.data };
          for (const s of scopes) data[s] = context.data[scope];
          return { data };
        }),
        this.spin(name),
      ],
      always: this.faultRoutes(name),
      states: regions,
      // Exit actions run before a transition's own actions, so the join reads and drops the branches' data here.
      onDone: this.onComplete(name, [assign(({ context }: Ctx) => {
        const data = { ...context.data, [scope]: applyResult(context.data[scope], state.resultPath, scopes.map((s) => context.data[s])) };
        for (const s of scopes) delete data[s];
        return { data };
      })]),
    };
  }

  private wait(state: Extract<StateDef, { type: 'wait' }>): unknown {
    const name = state.name;
    const scope = this.info(name).scope;
    const key = (c: WorkflowContext) => stepKey(name, c.visits[name] ?? 1);
    return {
      id: name,
      tags: [workTag(name)],
      entry: [
        this.visit(name),
        assign(({ context }: Ctx) => {
          const found = safely(() => dueOf(state, copyOf(context.data[scope])));
          if (!found.ok) return { faults: { ...context.faults, [name]: found.error } };
          const due = found.value as { durationMs?: number; until?: number };
          // A wait of some duration really waits; one of zero (or until a time that may have
          // passed) does not, and must not let a loop through it run for ever.
          return { spins: (due.durationMs ?? 0) > 0 ? 0 : context.spins, timers: { ...context.timers, [key(context)]: due } };
        }),
        enqueueActions(({ context, enqueue }: any) => {
          if (!context.faults[name]) enqueue({ type: 'startTimer', params: { key: key(context), step: name, ...context.timers[key(context)] } });
        }),
      ],
      exit: [
        command('cancelWork', ({ context }) => ({ kind: 'timer', keys: [key(context)] })),
        assign(({ context }: Ctx) => {
          const { [key(context)]: _gone, ...timers } = context.timers;
          return { timers };
        }),
      ],
      always: this.faultRoutes(name),
      on: {
        TIMER_FIRED: { guard: ({ context, event }: Ctx) => 'key' in event && event.key === key(context), ...this.onComplete(name) },
      },
    };
  }

  private pass(state: Extract<StateDef, { type: 'pass' }>): unknown {
    const name = state.name;
    const scope = this.info(name).scope;
    return {
      id: name,
      entry: [
        command('entered', () => ({ step: name })),
        assign(({ context }: Ctx) => {
          if (!state.transform) return {};
          const found = safeJson(state.transform!, context.data[scope]);
          return found.ok ? { data: { ...context.data, [scope]: found.value ?? null } } : { faults: { ...context.faults, [name]: found.error } };
        }),
        this.spin(name),
      ],
      always: [...this.faultRoutes(name), this.onComplete(name)],
    };
  }

  private succeed(state: Extract<StateDef, { type: 'succeed' }>): unknown {
    const name = state.name;
    const info = this.info(name);
    const end = info.scope === ''
      ? { target: `#${FINAL.succeeded}`, actions: [assign(({ context }: Ctx) => ({ output: context.data[''] }))] }
      : { target: `#${regionEndId(info.scope)}` };
    return {
      id: name,
      entry: [
        command('entered', () => ({ step: name })),
        assign(({ context }: Ctx) => {
          if (!state.output) return {};
          const found = safeJson(state.output!, context.data[info.scope]);
          return found.ok ? { data: { ...context.data, [info.scope]: found.value ?? null } } : { faults: { ...context.faults, [name]: found.error } };
        }),        this.spin(name),
      ],
      always: [...this.faultRoutes(name), end],
    };
  }

  private fail(state: Extract<StateDef, { type: 'fail' }>): unknown {
    const name = state.name;
    const scope = this.info(name).scope;
    return {
      id: name,
      entry: [
        command('entered', () => ({ step: name })),
        assign(({ context }: Ctx) => {
          const cause = typeof state.cause === 'function' ? safely(() => (state.cause as (d: unknown) => string)(copyOf(context.data[scope]))) : { ok: true as const, value: state.cause };
          const message = cause.ok && typeof cause.value === 'string' ? cause.value : `failed at state '${name}'`;
          return { faults: { ...context.faults, [name]: { code: state.error, message, terminal: true } } };
        }),        this.spin(name),
      ],
      always: this.faultRoutes(name),
    };
  }

  /** Runs the compensations of completed steps, last completed first, each with its own retries. */
  compensating(): unknown {
    const policies = new Map<string, ResolvedRetryPolicy[]>();
    for (const info of this.index.values()) {
      const s = info.state;
      if ((s.type === 'task' || s.type === 'map') && s.compensation) policies.set(s.compensation.name, s.compensation.retry);
    }
    const top = (c: WorkflowContext): CompletedStep | undefined => c.compensating[c.compensating.length - 1];
    const isTop = ({ context, event }: Ctx) => 'key' in event && top(context)?.key === event.key;
    const pop = assign({ compensating: ({ context }: Ctx) => context.compensating.slice(0, -1) });
    const attemptKey = (key: string) => `comp:${key}`;
    return {
      id: COMPENSATING_ID,
      entry: [assign(({ context }: Ctx) => ({ compensating: context.completed.slice() }))],
      initial: 'next',
      states: {
        next: {
          entry: [enqueueActions(({ context, enqueue }: any) => {
            const t = top(context);
            if (!t) return;
            enqueue.assign({ attempts: { ...context.attempts, [attemptKey(t.key)]: 0 } });
            enqueue({ type: 'runCompensation', params: { key: t.key, step: t.step, compensation: t.compensation } });
          })],
          always: [
            { guard: ({ context }: Ctx) => context.compensating.length === 0 && context.cancelled, target: `#${FINAL.cancelled}` },
            { guard: ({ context }: Ctx) => context.compensating.length === 0, target: `#${FINAL.failed}` },
          ],
          on: {
            COMPENSATION_SUCCEEDED: { guard: isTop, target: 'next', reenter: true, actions: [pop] },
            COMPENSATION_FAILED: [
              {
                guard: (args: Ctx) => {
                  if (!isTop(args)) return false;
                  const t = top(args.context)!;
                  const policy = findRetryPolicy(policies.get(t.compensation) ?? [], (args.event as { error: StepError }).error);
                  return policy !== undefined && (args.context.attempts[attemptKey(t.key)] ?? 0) + 1 < policy.maxAttempts;
                },
                actions: [
                  assign({ attempts: ({ context }: Ctx) => ({ ...context.attempts, [attemptKey(top(context)!.key)]: (context.attempts[attemptKey(top(context)!.key)] ?? 0) + 1 }) }),
                  command('retryCompensation', ({ context, event }) => {
                    const t = top(context)!;
                    const list = policies.get(t.compensation) ?? [];
                    const policy = list.indexOf(findRetryPolicy(list, (event as { error: StepError }).error)!);
                    return { key: t.key, step: t.step, compensation: t.compensation, attempt: context.attempts[attemptKey(t.key)] + 1, policy };
                  }),
                ],
              },
              {
                guard: isTop,
                target: 'next',
                reenter: true,
                actions: [
                  assign({
                    compensationFailures: ({ context, event }: Ctx) => [
                      ...context.compensationFailures,
                      { step: top(context)!.step, compensation: top(context)!.compensation, error: (event as { error: StepError }).error },
                    ],
                  }),
                  pop,
                ],
              },
            ],
          },
        },
      },
    };
  }
}

/** A retry route for a failed step: applies when a policy matches and attempts remain. */
function retryRoute(
  policies: ResolvedRetryPolicy[],
  mine: (args: Ctx) => boolean,
  errorOf: (args: Ctx) => StepError,
  target: (c: WorkflowContext, e: WorkflowEvent) => { key: string; step: string; index?: number },
): Transition {
  const attemptsOf = (c: WorkflowContext, e: WorkflowEvent) => c.attempts[(e as { key: string }).key] ?? 0;
  return {
    guard: (args) => {
      if (!mine(args)) return false;
      const policy = findRetryPolicy(policies, errorOf(args));
      return policy !== undefined && attemptsOf(args.context, args.event) + 1 < policy.maxAttempts;
    },
    actions: [
      enqueueActions(({ context, event, enqueue }: any) => {
        const t = target(context, event);
        const failures = attemptsOf(context, event) + 1;
        const policy = policies.indexOf(findRetryPolicy(policies, errorOf({ context, event }))!);
        enqueue({ type: 'retryTask', params: { ...t, attempt: failures + 1, policy } });
        enqueue.assign({ attempts: { ...context.attempts, [(event as { key: string }).key]: failures } });
      }),
    ],
  };
}

/** An action that only describes a command: xstate returns it as data and the engine carries it out. */
function command<T extends WorkflowCommand['type']>(type: T, params: (args: Ctx) => Extract<WorkflowCommand, { type: T }>['params']) {
  return { type, params };
}

function regionEndId(scope: string): string {
  return `$end-${scope.replace('/', '-')}`;
}

/** Puts a result into the data: replace (undefined), merge under a key (string) or discard (null). */
export function applyResult(data: unknown, resultPath: ResultPath, result: unknown): unknown {
  if (resultPath === undefined) return result ?? null;
  if (resultPath === null) return data;
  const base = data !== null && typeof data === 'object' && !Array.isArray(data) ? data : {};
  return { ...(base as Record<string, unknown>), [resultPath]: result ?? null };
}

/** Catch rules see every error, terminal ones included: '*' catches all. */
function catchMatches(rule: CatchRule, error: StepError): boolean {
  if (error.code === ENDLESS_LOOP) return false; // catching it would only loop again
  return rule.errors.includes('*') || rule.errors.includes(error.code);
}

function without(faults: WorkflowContext['faults'], name: string): WorkflowContext['faults'] {
  if (!(name in faults)) return faults;
  const { [name]: _cleared, ...rest } = faults;
  return rest;
}

function publicError(error: StepError): StepError {
  return { code: error.code, message: error.message };
}

function getPath(data: unknown, path: string): unknown {
  let value: unknown = data;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function dueOf(state: Extract<StateDef, { type: 'wait' }>, data: unknown): { durationMs?: number; until?: number } {
  if (state.durationMs !== undefined) {
    const ms = typeof state.durationMs === 'function' ? state.durationMs(data) : state.durationMs;
    if (typeof ms !== 'number' || !(ms >= 0)) throw new Error(`wait '${state.name}': duration ${String(ms)} is not a number >= 0`);
    return { durationMs: ms };
  }
  const raw = state.until!(data);
  const at = raw instanceof Date ? raw.getTime() : typeof raw === 'string' ? Date.parse(raw) : raw;
  if (typeof at !== 'number' || !Number.isFinite(at)) throw new Error(`wait '${state.name}': ${String(raw)} is not a timestamp`);
  return { until: at };
}

/** Definition functions get a private copy: a mutation must not reach the execution's state. */
function copyOf(data: unknown): unknown {
  return data === null || typeof data !== 'object' ? data : structuredClone(data);
}


/**
 * Runs a definition function (choice rule, transform, output, wait) on a private copy of the data,
 * and keeps its result only if JSON can hold it: the snapshot is stored as JSON, and a value that
 * changed on the way (a Date, a BigInt) would make a restored execution decide differently.
 */
function safeJson(fn: (data: unknown) => unknown, data: unknown): { ok: true; value: unknown } | { ok: false; error: StepError } {
  const found = safely(() => fn(copyOf(data)));
  if (!found.ok || found.value === undefined) return found;
  const checked = toJson(found.value, { maxBytes: Number.MAX_SAFE_INTEGER });
  if (!checked.ok) return { ok: false, error: { code: StepErrorCodes.OutputNotJson, message: checked.message, terminal: true } };
  return { ok: true, value: JSON.parse(checked.json) };
}

function safely(fn: () => unknown): { ok: true; value: unknown } | { ok: false; error: StepError } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: { code: 'Stepwise.ExpressionFailed', message, terminal: true } };
  }
}
