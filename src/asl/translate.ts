/**
 * Translates a validated ASL definition into the DSL's builders, so it runs as the same xstate
 * machine and durable steps as a TypeScript workflow. The DSL's data is an envelope `{ v, x }`:
 * `v` is the ASL state data, `x` the `$$` context (built once by the first step). Every data
 * flow rule of ASL runs inside a handler (Task, Map items: results stored in history, never
 * re-run on replay) or a pure transform (Pass, Choice, Wait, joins): the DSL core is unchanged.
 * Helper states the translation adds are named after the ASL state with a suffix and listed in
 * `synthetic`, so presentations (GetExecutionHistory) can leave them out.
 */
import { TerminalError, type StepError } from '../core/errors.js';
import type { RetryPolicy } from '../core/retry-policy.js';
import type { AnySequence } from '../dsl/builder.js';
import type { CatchRule, Handler, StepContext } from '../dsl/definition.js';
import { activityTask, tokenTask } from './remote-task.js';
import { AslRuntimeError, aslErrorName, States } from './asl-errors.js';
import { pickChoice } from './choice-rules.js';
import { describeError, runInline, type InlineOptions } from './inline-runner.js';
import { applyResultPath, readPath, selectPath } from './paths.js';
import { invokeResource, resolveResource, type AslHandlers } from './resources.js';
import { catchPlan, retryPolicies } from './rules.js';
import { errorOutput, filteredOutput, passOutput, stateInput, stateOutput, type AslContext } from './state-io.js';
import { itemInputs, toleranceExceeded, waitMs } from './state-rules.js';
import { templateIsNondeterministic } from './templates.js';
import type { AslMachine, AslState } from './types.js';
import { AslDefinitionError } from './validate.js';
import { jsonataCatchHandler, jsonataState } from './jsonata/translate-jsonata.js';

/** The DSL data of a translated workflow. */
export interface Envelope {
  v: unknown;
  x: AslContext;
  /** Raw inputs of Parallel and Map states, by DSL name, kept for their ResultPath. */
  s?: Record<string, unknown>;
  items?: Array<{ v: unknown; m: unknown; x: AslContext }>;
  r?: unknown[];
  e?: StepError;
  c?: { n: string; v: unknown };
  /** JSONata mode: the workflow's variables (Assign). */
  a?: Record<string, unknown>;
  /** JSONata mode: the chosen rule of a Choice, the due time of a Wait. */
  k?: number;
  w?: number;
  t?: string;
}

export interface TranslateOptions {
  handlers: AslHandlers;
  stateMachineArn: string;
  executionArn: (executionId: string) => string;
  sleep: InlineOptions['sleep'];
  now: () => number;
}

/** A Task with no TimeoutSeconds: AWS's default is 99999999 s; Stepwise bounds it to a day. */
export const DEFAULT_TASK_TIMEOUT_MS = 24 * 3600 * 1000;
const UNLIMITED_MAP_CONCURRENCY = 1000;

/** Re-raises an ASL error from a transform the machine runs, its ASL name first (see aslErrorName). */
function inMachine<T>(fn: (env: Envelope) => T): (env: Envelope) => T {
  return (env) => {
    try {
      return fn(env);
    } catch (error) {
      if (error instanceof AslRuntimeError) throw new Error(`${error.code}: ${error.message}`, { cause: error });
      throw error;
    }
  };
}

function contextOf(env: Envelope, name: string): AslContext {
  return { ...env.x, State: { Name: name, EnteredTime: '', RetryCount: 0 } };
}

function sanitize(name: string): string {
  let s = name.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
  if (!/^[A-Za-z]/.test(s)) s = `S${s}`;
  return s.slice(0, 48);
}

type Seq = AnySequence;
type Flow = { next?: string; end?: boolean };

export class Translator {
  /** DSL state name → ASL state name, for the states that stand for one. */
  readonly stateNames = new Map<string, string>();
  readonly synthetic = new Set<string>();
  private readonly used = new Set<string>();
  private endUsed = false;
  /** The definition is in JSONata mode (top-level QueryLanguage). */
  private jsonata = false;

  constructor(readonly opts: TranslateOptions) {}

  /** @internal A unique DSL name for `base`; `aslName` when it stands for an ASL state. */
  alloc(base: string, aslName?: string): string {
    const root = sanitize(base);
    let name = root;
    for (let i = 2; this.used.has(name); i++) name = `${root}-${i}`;
    this.used.add(name);
    if (aslName === undefined) this.synthetic.add(name);
    else this.stateNames.set(name, aslName);
    return name;
  }

  /** Adds the root machine's states to `seq` (a new workflow builder). */
  root(seq: Seq, machine: AslMachine, workflowName: string): void {
    this.jsonata = machine.QueryLanguage === 'JSONata';
    const start = this.alloc('Start');
    const names = this.allocNames(machine);
    const end = this.alloc('End');
    seq.task(start, async (input: unknown, ctx: StepContext): Promise<Envelope> => ({
      v: input,
      x: {
        Execution: { Id: this.opts.executionArn(ctx.executionId), Name: ctx.executionId, Input: input, StartTime: new Date(this.opts.now()).toISOString() },
        StateMachine: { Id: this.opts.stateMachineArn, Name: workflowName },
      },
    }), { next: names.get(machine.StartAt) });
    this.machine(seq, machine, names, end);
    // Added only when some state ends there: the DSL refuses a state nothing reaches.
    if (this.endUsed) seq.succeed(end, { output: (env: Envelope) => env.v });
  }

  private allocNames(machine: AslMachine): Map<string, string> {
    const order = [machine.StartAt, ...Object.keys(machine.States).filter((n) => n !== machine.StartAt)];
    return new Map(order.map((n) => [n, this.alloc(n, n)]));
  }

  /** Adds a machine's states; `rootEnd` is where End leads at the root (undefined in a branch). */
  private machine(seq: Seq, machine: AslMachine, names: Map<string, string>, rootEnd?: string): void {
    const rethrows = new Map<string, string>();
    const after: Array<() => void> = [];
    const scope: Scope = {
      seq, names, rootEnd, after,
      rethrow: (code) => {
        let name = rethrows.get(code);
        if (!name) {
          const created = this.alloc(`Raise-${code}`);
          rethrows.set(code, created);
          after.push(() => seq.fail(created, { error: code, cause: (env: Envelope) => env.e?.message ?? '' }));
          name = created;
        }
        return name;
      },
    };
    for (const [aslName, dslName] of names) this.state(scope, aslName, dslName, machine.States[aslName]);
    for (const add of after) add();
  }

  /** @internal */
  flow(scope: Scope, state: AslState): Flow {
    if (state.Next !== undefined) return { next: scope.names.get(state.Next)! };
    if (!scope.rootEnd) return { end: true };
    this.endUsed = true;
    return { next: scope.rootEnd };
  }

  /** @internal Catch rules for state `d`; the raw input for the error output is `s[d]` when saved, else `v`. */
  catches(scope: Scope, d: string, state: AslState): CatchRule[] {
    const passes = new Map<number, string>();
    return catchPlan(state.Catch).map(({ errors, target }) => {
      if ('rethrow' in target) return { errors, next: scope.rethrow(target.rethrow), resultPath: 'e' };
      let pass = passes.get(target.catcher);
      if (!pass) {
        const catcher = state.Catch![target.catcher];
        const name = this.alloc(`${d}-catch${target.catcher + 1}`);
        passes.set(target.catcher, name);
        if (this.jsonata) scope.after.push(() => scope.seq.task(name, jsonataCatchHandler(this, d, catcher), { next: scope.names.get(catcher.Next)! }));
        else scope.after.push(() => scope.seq.pass(name, {
          next: scope.names.get(catcher.Next)!,
          transform: inMachine((env: Envelope) => {
            const raw = env.s && d in env.s ? env.s[d] : env.v;
            const error = errorOutput(aslErrorName(env.e!.code, env.e!.message), env.e!.message);
            return { v: applyResultPath(raw, catcher.ResultPath === undefined ? '$' : catcher.ResultPath, error), x: env.x };
          }),
        }));
        pass = name;
      }
      return { errors, next: pass, resultPath: 'e' };
    });
  }

  private state(scope: Scope, aslName: string, d: string, state: AslState): void {
    if (this.jsonata) return jsonataState(this, scope, aslName, d, state);
    const { seq } = scope;
    switch (state.Type) {
      case 'Task': return this.task(scope, aslName, d, state);
      case 'Pass':
        if (templateIsNondeterministic(state.Parameters)) {
          seq.task(d, async (env: Envelope, ctx: StepContext) => ({ v: passOutput(state, env.v, this.taskContext(env, aslName, ctx)), x: env.x }), this.flow(scope, state));
        } else {
          seq.pass(d, { ...this.flow(scope, state), transform: inMachine((env: Envelope) => ({ v: passOutput(state, env.v, contextOf(env, aslName)), x: env.x })) });
        }
        return;
      case 'Choice': return this.choice(scope, aslName, d, state);
      case 'Wait': return this.wait(scope, d, state);
      case 'Succeed':
        seq.succeed(d, {
          output: inMachine((env: Envelope) => (scope.rootEnd ? filteredOutput(state, env.v) : { v: filteredOutput(state, env.v), x: env.x })),
        });
        return;
      case 'Fail':
        if (state.ErrorPath !== undefined || state.CausePath !== undefined) {
          seq.task(d, async (env: Envelope) => {
            const context = contextOf(env, aslName);
            const error = state.ErrorPath !== undefined ? String(readPath(state.ErrorPath, env.v, context)) : state.Error ?? 'States.Fail';
            const cause = state.CausePath !== undefined ? String(readPath(state.CausePath, env.v, context)) : state.Cause ?? '';
            throw new TerminalError(error, cause);
          }, { end: true });
        } else {
          seq.fail(d, { error: state.Error ?? 'States.Fail', ...(state.Cause !== undefined ? { cause: state.Cause } : {}) });
        }
        return;
      case 'Parallel': return this.parallel(scope, aslName, d, state);
      case 'Map': return this.map(scope, aslName, d, state);
    }
  }

  /** @internal */ taskContext(env: Envelope, aslName: string, ctx: StepContext): AslContext {
    return { ...env.x, State: { Name: aslName, EnteredTime: new Date(this.opts.now()).toISOString(), RetryCount: ctx.attempt - 1 } };
  }

  private task(scope: Scope, aslName: string, d: string, state: AslState): void {
    const resource = resolveResource(aslName, state.Resource!, this.opts.handlers);
    if (resource.kind === 'activity') return activityTask(this, scope, aslName, d, state, resource.name!);
    if (resource.kind === 'callback') return tokenTask(this, scope, aslName, d, state);
    const handler: Handler = async (env: Envelope, ctx: StepContext) => {
      const context = this.taskContext(env, aslName, ctx);
      const input = stateInput(state, env.v, context);
      const result = await invokeResource(resource, input, this.opts.handlers, ctx);
      return { v: stateOutput(state, env.v, result ?? null, context), x: env.x };
    };
    scope.seq.task(d, handler, {
      ...this.flow(scope, state),
      retry: retryPolicies(state.Retry),
      catch: this.catches(scope, d, state),
      timeoutMs: state.TimeoutSeconds !== undefined ? state.TimeoutSeconds * 1000 : DEFAULT_TASK_TIMEOUT_MS,
    });
  }

  private choice(scope: Scope, aslName: string, d: string, state: AslState): void {
    const { seq } = scope;
    const rules = state.Choices ?? [];
    const filtered = state.InputPath !== undefined || state.OutputPath !== undefined;
    const rulesName = filtered ? this.alloc(`${d}-rules`) : d;
    if (filtered) {
      seq.pass(d, {
        next: rulesName,
        transform: inMachine((env: Envelope) => ({ v: filteredOutput(state, env.v), x: env.x, c: { n: rulesName, v: selectPath(state.InputPath, env.v, 'InputPath') } })),
      });
    }
    const dataOf = (env: Envelope) => (env.c?.n === rulesName ? env.c.v : env.v);
    const pick = (env: Envelope): number | Error => {
      try {
        return pickChoice(rules, dataOf(env), contextOf(env, aslName));
      } catch (error) {
        return error as Error;
      }
    };
    const invalid = this.alloc(`${d}-invalid`);
    const noMatch = state.Default === undefined ? this.alloc(`${d}-nomatch`) : undefined;
    seq.choice(rulesName, {
      choices: [
        ...rules.map((rule, i) => ({ when: (env: Envelope) => pick(env) === i, next: scope.names.get(rule.Next as string)!, label: `rule ${i + 1}` })),
        { when: (env: Envelope) => pick(env) instanceof Error, next: invalid, label: 'invalid path' },
      ],
      default: noMatch ?? scope.names.get(state.Default!)!,
    });
    scope.after.push(() => {
      seq.fail(invalid, { error: States.Runtime, cause: (env: Envelope) => (pick(env) as Error).message });
      if (noMatch) seq.fail(noMatch, { error: States.NoChoiceMatched, cause: `no choice rule matched in state '${aslName}', which has no Default` });
    });
  }

  private wait(scope: Scope, d: string, state: AslState): void {
    const filtered = state.InputPath !== undefined || state.OutputPath !== undefined;
    const out = filtered ? this.alloc(`${d}-out`) : undefined;
    const flow = out ? { next: out } : this.flow(scope, state);
    const effective = (env: Envelope) => selectPath(state.InputPath, env.v, 'InputPath');
    if (state.Seconds !== undefined) scope.seq.wait(d, { ...flow, durationMs: state.Seconds * 1000 });
    else if (state.SecondsPath !== undefined) scope.seq.wait(d, { ...flow, durationMs: inMachine((env: Envelope) => waitMs(state, effective(env), 0)) });
    else if (state.Timestamp !== undefined) scope.seq.wait(d, { ...flow, until: () => state.Timestamp! });
    else scope.seq.wait(d, { ...flow, until: inMachine((env: Envelope) => waitMs(state, effective(env), 0)) });
    if (out) scope.seq.pass(out, { ...this.flow(scope, state), transform: inMachine((env: Envelope) => ({ v: filteredOutput(state, env.v), x: env.x })) });
  }

  private parallel(scope: Scope, aslName: string, d: string, state: AslState): void {
    if (state.Retry !== undefined) throw new AslDefinitionError(`state '${aslName}', field 'Retry': Retry on a Parallel state is not supported yet`, aslName, 'Retry');
    const run = this.alloc(`${d}-branches`);
    const join = this.alloc(`${d}-join`);
    scope.seq.pass(d, { next: run, transform: inMachine((env: Envelope) => this.saveRaw(env, d, stateInput(state, env.v, contextOf(env, aslName)))) });
    const branches = (state.Branches ?? []).map((branch) => (b: Seq) => {
      this.machine(b, branch, this.allocNames(branch));
      return b;
    });
    scope.seq.parallel(run, branches, { next: join, resultPath: 'r', catch: this.catches(scope, d, state) });
    scope.seq.pass(join, {
      ...this.flow(scope, state),
      transform: inMachine((env: Envelope) => ({ v: stateOutput(state, env.s![d], (env.r as Envelope[]).map((b) => b.v), contextOf(env, aslName)), x: env.x })),
    });
  }

  private saveRaw(env: Envelope, d: string, v: unknown): Envelope {
    return { v, x: env.x, s: { ...env.s, [d]: env.v } };
  }

  private map(scope: Scope, aslName: string, d: string, state: AslState): void {
    const run = this.alloc(`${d}-items`);
    const join = this.alloc(`${d}-join`);
    const tolerant = state.ToleratedFailureCount !== undefined || state.ToleratedFailurePercentage !== undefined;
    const check = tolerant ? this.alloc(`${d}-tolerance`) : undefined;
    const processor = (state.ItemProcessor ?? state.Iterator)!;
    const { ProcessorConfig: _config, ...inner } = processor as AslMachine & { ProcessorConfig?: unknown };
    this.checkResources(inner as AslMachine);
    scope.seq.pass(d, {
      next: run,
      transform: inMachine((env: Envelope) => {
        const effective = selectPath(state.InputPath, env.v, 'InputPath');
        const items = itemInputs(state, effective, contextOf(env, aslName)).map((it) => ({ v: it.input, m: it.map, x: env.x }));
        return { ...this.saveRaw(env, d, effective), items };
      }),
    });
    const handler = async (item: { v: unknown; m: AslContext['Map']; x: AslContext }, ctx: StepContext) => {
      try {
        return await runInline(inner as AslMachine, item.v, { ...item.x, Map: item.m }, { handlers: this.opts.handlers, ctx, sleep: this.opts.sleep, now: this.opts.now });
      } catch (error) {
        if (!tolerant) throw error;
        const { error: code, cause } = describeError(error);
        return { __failed: errorOutput(code, cause) };
      }
    };
    scope.seq.map(run, {
      itemsPath: 'items', handler, next: check ?? join, resultPath: 'r',
      concurrency: state.MaxConcurrency ? state.MaxConcurrency : UNLIMITED_MAP_CONCURRENCY,
      retry: retryPolicies(state.Retry) as RetryPolicy[],
      catch: this.catches(scope, d, state),
      timeoutMs: DEFAULT_TASK_TIMEOUT_MS,
    } as never);
    const failures = (env: Envelope) => (env.r ?? []).filter((r) => r !== null && typeof r === 'object' && '__failed' in r).length;
    if (check) this.tolerance(scope, aslName, d, state, check, join, failures);
    scope.seq.pass(join, {
      ...this.flow(scope, state),
      transform: inMachine((env: Envelope) => {
        const results = (env.r ?? []).map((r) => (r !== null && typeof r === 'object' && '__failed' in r ? (r as { __failed: unknown }).__failed : r));
        return { v: stateOutput(state, env.s![d], results, contextOf(env, aslName)), x: env.x };
      }),
    });
  }

  /** After a tolerant Map: too many failed items raise States.ExceedToleratedFailureThreshold. */
  private tolerance(scope: Scope, aslName: string, d: string, state: AslState, check: string, join: string, failures: (env: Envelope) => number): void {
    const exceeded = this.alloc(`${d}-exceeded`);
    const code = States.ExceedToleratedFailureThreshold;
    const cause = (env: Envelope) => `${failures(env)} of ${(env.r ?? []).length} items of '${aslName}' failed, over the tolerated threshold`;
    scope.seq.choice(check, {
      choices: [{ when: (env: Envelope) => toleranceExceeded(state, failures(env), (env.r ?? []).length), next: exceeded, label: 'over tolerance' }],
      default: join,
    });
    const i = (state.Catch ?? []).findIndex((c) => c.ErrorEquals.includes(code) || c.ErrorEquals.includes(States.ALL));
    if (i < 0) {
      scope.after.push(() => scope.seq.fail(exceeded, { error: code, cause }));
      return;
    }
    const catcher = state.Catch![i];
    scope.after.push(() => scope.seq.pass(exceeded, {
      next: scope.names.get(catcher.Next)!,
      transform: inMachine((env: Envelope) => ({
        v: applyResultPath(env.s![d], catcher.ResultPath === undefined ? '$' : catcher.ResultPath, errorOutput(code, cause(env))), x: env.x,
      })),
    }));
  }

  /** Refuses a Map iteration whose Task names no registered handler, at definition time. */
  private checkResources(machine: AslMachine): void {
    for (const [name, s] of Object.entries(machine.States)) {
      if (s.Type === 'Task') {
        resolveResource(name, s.Resource!, this.opts.handlers, 'inside a Map iteration (iterations run in process)');
      }
      for (const branch of s.Branches ?? []) this.checkResources(branch);
      const p = s.ItemProcessor ?? s.Iterator;
      if (p) this.checkResources(p);
    }
  }
}

/** @internal The sequence a machine's states are added to. */
export interface Scope {
  seq: Seq;
  names: Map<string, string>;
  rootEnd?: string;
  after: Array<() => void>;
  rethrow: (code: string) => string;
}
