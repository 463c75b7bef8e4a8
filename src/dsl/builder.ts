import { DefinitionError } from '../core/errors.js';
import { resolveRetryPolicy, type ResolvedRetryPolicy, type RetryPolicy } from '../core/retry-policy.js';
import {
  DSL_DEFAULTS, type CatchRule, type InvokeSpec, type ChoiceRule, type CompensationOptions, type Handler, type ResolvedCompensation,
  type StateDef, type StepContext, type BudgetOptions,
} from './definition.js';
import type { InputSchema, StandardInput, StandardSchemaV1 } from './input-schema-types.js';
import { Workflow } from './workflow.js';
import { isValidName } from '../core/ids.js';

/** Options every task-like state (task, map) accepts. */
export interface TaskOptions<In, Out> {
  retry?: RetryPolicy[];
  catch?: CatchRule[];
  /** Undoes this step when a later step fails for good (saga). */
  compensate?: Handler<{ input: In; output: Out }, unknown> | CompensationOptions<In, Out>;
  /** The handler's AbortSignal fires and the attempt fails with Stepwise.Timeout after this. @default 300000 */
  timeoutMs?: number;
  next?: string;
  end?: boolean;
}

/** Options of an invoke state. */
export interface InvokeOptions<Data> extends Omit<TaskOptions<Data, any>, 'timeoutMs'> {
  /** The child's input, from the data. @default the data */
  input?: (data: Data) => unknown;
  /** The step fails with Stepwise.Timeout, and the child is cancelled, if it has not ended by then. @default no limit */
  timeoutMs?: number;
}

/** An invoke state's handler: never called (the engine starts a child execution instead). */
function invokePlaceholder(): never {
  throw new Error('an invoke state runs a child execution, not a handler');
}

type Merge<Data, K extends string, V> = Omit<Data, K> & { [P in K]: V };
type ArrayKeys<Data> = { [K in keyof Data & string]: Data[K] extends readonly unknown[] ? K : never }[keyof Data & string];
type ElementOf<A> = A extends readonly (infer E)[] ? E : never;
type Flow = { next?: string; end?: boolean };
/** The data type at the end of a sequence builder. */
export type OutputOf<B> = B extends Sequence<any, infer D> ? D : never;

/**
 * Builds a sequence of states. Each method adds a state and returns a builder whose type
 * parameter `Data` is the data the *next* declared state receives, so types flow in
 * declaration order. A state reached by a jump (choice, catch) receives the data of the state
 * that jumped; keep such states' inputs compatible.
 */
/** A sequence of any input and data types (see AnyWorkflow). */
export type AnySequence = Sequence<any, any>;

export class Sequence<In, Data> {
  /** @internal */
  readonly states: StateDef[] = [];

  /** @internal `name` is set on a workflow's root sequence only; branches have none. */
  constructor(private readonly workflowName?: string, private readonly options: WorkflowOptions = {}) {}

  /** Checks the definition (throws DefinitionError naming the state) and compiles it. Call it on the root. */
  build(): Workflow<In> {
    if (this.workflowName === undefined) throw new DefinitionError('build() is called on the workflow, not on a parallel branch');
    return new Workflow<In>({
      name: this.workflowName, states: this.states,
      ...(this.options.version ? { version: this.options.version } : {}),
      ...(this.options.input !== undefined ? { input: this.options.input } : {}),
      ...(this.options.concurrency !== undefined ? { concurrency: checkedConcurrency(this.workflowName, this.options.concurrency) } : {}),
      ...(this.options.budget !== undefined ? { budget: checkedBudget(this.workflowName, this.options.budget) } : {}),
    });
  }

  /** A task: calls `handler` with the data; its result replaces the data (see `resultPath`). */
  task<Out>(name: string, handler: Handler<Data, Out>, options?: TaskOptions<Data, Awaited<Out>> & { resultPath?: undefined }): Sequence<In, Awaited<Out>>;
  task<Out, K extends string>(name: string, handler: Handler<Data, Out>, options: TaskOptions<Data, Awaited<Out>> & { resultPath: K }): Sequence<In, Merge<Data, K, Awaited<Out>>>;
  task<Out>(name: string, handler: Handler<Data, Out>, options: TaskOptions<Data, Awaited<Out>> & { resultPath: null }): Sequence<In, Data>;
  task(name: string, handler: Handler, options: TaskOptions<any, any> & { resultPath?: string | null } = {}): Sequence<In, any> {
    this.states.push({
      type: 'task', name, handler, retry: retries(name, options.retry), catch: options.catch ?? [],
      compensation: compensation(name, options.compensate), timeoutMs: options.timeoutMs ?? DSL_DEFAULTS.taskTimeoutMs,
      resultPath: options.resultPath, next: options.next, end: options.end,
    });
    return this;
  }

  /**
   * An invoke: starts an execution of the registered workflow `workflowName` (the child) with
   * `input(data)` (default: the data), waits for its end and takes its output like a task's. The
   * child's failure is the step's failure (a retry starts a new child; catch routes it); leaving
   * the step (cancel, timeout) cancels the child. The child's id is `<parent id>:<step key>:<attempt>`.
   */
  invoke<Out = unknown>(name: string, workflowName: string, options?: InvokeOptions<Data> & { resultPath?: undefined }): Sequence<In, Out>;
  invoke<Out, K extends string>(name: string, workflowName: string, options: InvokeOptions<Data> & { resultPath: K }): Sequence<In, Merge<Data, K, Out>>;
  invoke(name: string, workflowName: string, options: InvokeOptions<Data> & { resultPath: null }): Sequence<In, Data>;
  invoke(name: string, workflowName: string, options: InvokeOptions<any> & { resultPath?: string | null } = {}): Sequence<In, any> {
    if (typeof workflowName !== 'string' || !isValidName(workflowName)) {
      throw new DefinitionError(`invoke '${name}': '${String(workflowName)}' is not a workflow name`, name);
    }
    if (options.timeoutMs !== undefined && (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 1)) {
      throw new DefinitionError(`invoke '${name}': timeoutMs must be a positive integer`, name);
    }
    if (options.input !== undefined && typeof options.input !== 'function') throw new DefinitionError(`invoke '${name}': input must be a function`, name);
    const invoke: InvokeSpec = { workflow: workflowName };
    if (options.input) invoke.input = options.input;
    if (options.timeoutMs !== undefined) invoke.timeoutMs = options.timeoutMs;
    this.states.push({
      type: 'task', name, handler: invokePlaceholder, retry: retries(name, options.retry), catch: options.catch ?? [],
      compensation: compensation(name, options.compensate), timeoutMs: DSL_DEFAULTS.taskTimeoutMs,
      resultPath: options.resultPath, next: options.next, end: options.end, invoke,
    });
    return this;
  }

  /** A choice: goes to the first rule's `next` whose `when` holds, else to `default`. Data passes unchanged. */
  choice(name: string, options: { choices: Array<ChoiceRule & { when: (data: Data) => boolean }>; default: string }): Sequence<In, Data> {
    this.states.push({ type: 'choice', name, choices: options.choices ?? [], default: options.default });
    return this;
  }

  /** Runs every branch on the same data and joins when all finish; the result is the list of branch outputs. */
  parallel<const Bs extends ReadonlyArray<(branch: Sequence<Data, Data>) => Sequence<Data, any>>>(
    name: string, branches: Bs, options?: Flow & { catch?: CatchRule[]; resultPath?: undefined },
  ): Sequence<In, { -readonly [I in keyof Bs]: OutputOf<ReturnType<Bs[I]>> }>;
  parallel<const Bs extends ReadonlyArray<(branch: Sequence<Data, Data>) => Sequence<Data, any>>, K extends string>(
    name: string, branches: Bs, options: Flow & { catch?: CatchRule[]; resultPath: K },
  ): Sequence<In, Merge<Data, K, { -readonly [I in keyof Bs]: OutputOf<ReturnType<Bs[I]>> }>>;
  parallel(name: string, branches: ReadonlyArray<(b: Sequence<any, any>) => Sequence<any, any>>, options: Flow & { catch?: CatchRule[]; resultPath?: string | null } = {}): Sequence<In, any> {
    this.states.push({
      type: 'parallel', name, branches: (branches ?? []).map((make) => make(new Sequence()).states),
      catch: options.catch ?? [], resultPath: options.resultPath, next: options.next, end: options.end,
    });
    return this;
  }

  /** Calls `handler` once per item of the array at `itemsPath`, at most `concurrency` at a time; the result is the list of outputs in item order. */
  map<P extends ArrayKeys<Data>, Out>(
    name: string,
    options: TaskOptions<ElementOf<Data[P]>, Awaited<Out>> & { itemsPath: P; handler: Handler<ElementOf<Data[P]>, Out>; concurrency?: number; resultPath?: undefined },
  ): Sequence<In, Array<Awaited<Out>>>;
  map<P extends ArrayKeys<Data>, Out, K extends string>(
    name: string,
    options: TaskOptions<ElementOf<Data[P]>, Awaited<Out>> & { itemsPath: P; handler: Handler<ElementOf<Data[P]>, Out>; concurrency?: number; resultPath: K },
  ): Sequence<In, Merge<Data, K, Array<Awaited<Out>>>>;
  map(name: string, options: TaskOptions<any, any> & { itemsPath: string; handler: Handler; concurrency?: number; resultPath?: string | null }): Sequence<In, any> {
    this.states.push({
      type: 'map', name, itemsPath: options.itemsPath, handler: options.handler,
      concurrency: options.concurrency ?? DSL_DEFAULTS.mapConcurrency, retry: retries(name, options.retry),
      catch: options.catch ?? [], compensation: compensation(name, options.compensate),
      timeoutMs: options.timeoutMs ?? DSL_DEFAULTS.taskTimeoutMs, resultPath: options.resultPath, next: options.next, end: options.end,
    });
    return this;
  }

  /** A durable timer: waits `durationMs` (a number, or computed from the data) or until a timestamp taken from the data. */
  wait(name: string, options: Flow & ({ durationMs: number | ((data: Data) => number) } | { until: (data: Data) => Date | string | number })): Sequence<In, Data> {
    this.states.push({ type: 'wait', name, ...options });
    return this;
  }

  /**
   * Waits for the event `event` (sent with POST /v1/executions/:id/events/:name, or correlated by
   * `key` with POST /v1/events); its payload goes into the data (see `resultPath`). Events that
   * arrive before the state is reached are kept in order and taken when it is. `timeoutMs` or
   * `until` bound the wait: past it the state fails with Stepwise.Timeout (retry and catch rules apply).
   */
  waitForEvent<P = unknown>(name: string, options: WaitForEventOptions<Data> & { resultPath?: undefined }): Sequence<In, P>;
  waitForEvent<P = unknown, K extends string = string>(name: string, options: WaitForEventOptions<Data> & { resultPath: K }): Sequence<In, Merge<Data, K, P>>;
  waitForEvent(name: string, options: WaitForEventOptions<Data> & { resultPath: null }): Sequence<In, Data>;
  waitForEvent(name: string, options: WaitForEventOptions<any> & { resultPath?: string | null }): Sequence<In, any> {
    const { event, timeoutMs, until, key, retry, catch: rules, resultPath, next, end } = options ?? ({} as WaitForEventOptions<any>);
    this.states.push({
      type: 'waitForEvent', name, event, retry: retries(name, retry), catch: rules ?? [], resultPath, next, end,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(until !== undefined ? { until } : {}), ...(key !== undefined ? { key } : {}),
    });
    return this;
  }

  /** Passes the data on, optionally reshaped by `transform`. */
  pass<Out = Data>(name: string, options: Flow & { transform?: (data: Data) => Out } = {}): Sequence<In, Out> {
    this.states.push({ type: 'pass', name, transform: options.transform, resultPath: undefined, next: options.next, end: options.end });
    return this as unknown as Sequence<In, Out>;
  }

  /** Ends the workflow (or the branch) successfully; the output is the data, or `output(data)`. */
  succeed(name: string, options: { output?: (data: Data) => unknown } = {}): Sequence<In, Data> {
    this.states.push({ type: 'succeed', name, output: options.output });
    return this;
  }

  /** Ends the workflow in failure with code `error` (compensations of completed steps run first). */
  fail(name: string, options: { error: string; cause?: string | ((data: Data) => string); compensate?: boolean }): Sequence<In, Data> {
    this.states.push({
      type: 'fail', name, error: options?.error, cause: options?.cause,
      ...(options?.compensate !== undefined ? { compensate: options.compensate } : {}),
    });
    return this;
  }
}

/** Options of a waitForEvent state. */
export interface WaitForEventOptions<Data> extends Flow {
  /** The event's name (letters, digits, '_', '-', '.', ':'; 128 at most). */
  event: string;
  /** Fails with Stepwise.Timeout after this long (a number, or computed from the data). */
  timeoutMs?: number | ((data: Data) => number);
  /** Fails with Stepwise.Timeout at this time, taken from the data. */
  until?: (data: Data) => Date | string | number;
  /** The correlation key, from the data: correlated deliveries reach this wait only with this key. */
  key?: (data: Data) => string;
  /** Rules matching Stepwise.Timeout wait again, for the same time, up to `maxAttempts` waits in all. */
  retry?: RetryPolicy[];
  catch?: CatchRule[];
}

export interface WorkflowOptions<In = any> {
  /**
   * The version recorded with each execution. @default a hash of the definition's structure.
   * Set it when you change a choice rule, transform or wait function (which the hash cannot see)
   * and running executions must finish on the old logic: register the old and the new workflow.
   */
  version?: string;
  /**
   * The input's schema, checked at every start: a mismatch is refused with VALIDATION_FAILED
   * naming the first mismatch. A JSON Schema object, or a Standard Schema (zod, valibot, ...),
   * whose input type then becomes the workflow's `In`.
   */
  input?: InputSchema;
  /**
   * How many executions may run at once: `{ key: (input) => string, limit }` per key, `{ limit }`
   * in all, or `{ key, limit, total }` both. Starts beyond a limit wait with status QUEUED.
   */
  concurrency?: ConcurrencyOptions<In>;
  /**
   * What one execution may spend: `{ maxTransitions }`. Past it the execution fails with
   * Stepwise.BudgetExceeded (no catch route takes it) and its compensations run.
   */
  budget?: BudgetOptions;
}

export interface ConcurrencyOptions<In = any> {
  key?: (input: In) => string;
  limit?: number;
  total?: number;
}

function checkedConcurrency(name: string, c: ConcurrencyOptions): ConcurrencyOptions {
  const positive = (v: unknown) => v === undefined || (Number.isInteger(v) && (v as number) >= 1);
  if (c.key !== undefined && typeof c.key !== 'function') throw new DefinitionError(`workflow '${name}': concurrency.key must be a function of the input`);
  if (!positive(c.limit) || !positive(c.total)) throw new DefinitionError(`workflow '${name}': concurrency limits must be integers >= 1`);
  if (c.limit === undefined && c.total === undefined) throw new DefinitionError(`workflow '${name}': concurrency needs a limit (or a total)`);
  if (c.key !== undefined && c.limit === undefined) throw new DefinitionError(`workflow '${name}': concurrency.key needs a limit per key`);
  return c;
}

function checkedBudget(name: string, b: BudgetOptions): BudgetOptions {
  if (typeof b !== 'object' || b === null || !Number.isSafeInteger(b.maxTransitions) || b.maxTransitions < 1) {
    throw new DefinitionError(`workflow '${name}': budget.maxTransitions must be an integer >= 1`);
  }
  return { maxTransitions: b.maxTransitions };
}

/** Starts a workflow definition; `In` is the type of the execution's input. End it with `.build()`. */
export function workflow<S extends StandardSchemaV1>(name: string, options: WorkflowOptions<StandardInput<S>> & { input: S }): Sequence<StandardInput<S>, StandardInput<S>>;
export function workflow<In = unknown>(name: string, options?: WorkflowOptions<In>): Sequence<In, In>;
export function workflow<In = unknown>(name: string, options: WorkflowOptions = {}): Sequence<In, In> {
  if (options.version !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(options.version)) {
    throw new DefinitionError(`workflow '${name}': version '${options.version}' must be 1-64 letters, digits, '.', '_' or '-'`);
  }
  return new Sequence<In, In>(name, options);
}

function retries(state: string, policies: RetryPolicy[] | undefined): ResolvedRetryPolicy[] {
  return (policies ?? []).map((p, i) => {
    const { policy, problems } = resolveRetryPolicy(p);
    if (problems.length > 0) throw new DefinitionError(`state '${state}': retry policy ${i + 1}: ${problems.join('; ')}`, state);
    return policy;
  });
}

function compensation(state: string, option: TaskOptions<any, any>['compensate']): ResolvedCompensation | undefined {
  if (option === undefined) return undefined;
  const opts: CompensationOptions = typeof option === 'function' ? { handler: option } : option;
  const name = opts.name ?? opts.handler?.name;
  if (typeof opts.handler !== 'function') throw new DefinitionError(`state '${state}': compensation has no handler`, state);
  if (!name) throw new DefinitionError(`state '${state}': compensation needs a name (pass { name, handler } or a named function)`, state);
  return {
    name, handler: opts.handler, retry: retries(state, opts.retry ?? [DSL_DEFAULTS.compensationRetry]),
    timeoutMs: opts.timeoutMs ?? DSL_DEFAULTS.taskTimeoutMs,
  };
}

export type { StepContext };
