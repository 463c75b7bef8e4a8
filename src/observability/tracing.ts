/**
 * OpenTelemetry traces for one engine (docs/observability.md, Traces), through
 * `@opentelemetry/api` only: whichever SDK the process set up exports them.
 *
 * One span per execution, one child span per step or compensation attempt. An execution outlives
 * processes, so its span cannot be held open: its ids are made when it starts and stored with it
 * (src/core/trace-context.ts); attempts are children of that stored context wherever they run;
 * the span itself is made when the execution ends, by the process that ends it, with its stored
 * start time and ids pinned (StepwiseIdGenerator), and its events (retries, timers,
 * compensations, re-runs after a crash) kept from the commits this process saw, or read from the
 * history then when it missed one (`follow`). So the tree is whole across restarts, and nothing
 * on the step path reads the store.
 */
import type { Attributes, Context, Span, SpanKind, Tracer, TracerProvider } from '@opentelemetry/api';
import { readWholeHistory } from '../core/history-read.js';
import { lazyRequire } from '../core/lazy-require.js';
import { HistoryEventType, type HistoryEvent } from '../core/events.js';
import type { EngineObserver, StepAttemptInfo, StepAttemptScope } from '../core/observer.js';
import type { Store } from '../core/store.js';
import { formatTraceparent, parseTraceparent, type ExecutionTrace, type TraceParent } from '../core/trace-context.js';
import { outcomeLabel } from './metrics.js';
import type { StepwiseIdGenerator } from './span-ids.js';

// Loaded by the first Tracing, not with the package: `serve` makes one only when the OTEL_*
// variables ask for traces (src/core/lazy-require.ts). The API keeps its state on a global, so
// this CommonJS copy and an ESM import of it by the application share the tracer provider.
const otel = lazyRequire<typeof import('@opentelemetry/api')>('@opentelemetry/api');

export interface TracingOptions {
  /** The history of an ended execution is read from it for its span's events. */
  store: Pick<Store, 'readHistory'>;
  /** The id generator the tracer provider's SDK was given: execution spans get their stored ids through it. */
  idGenerator: StepwiseIdGenerator;
  /** @default the global tracer provider (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider;
  log?: { warn(obj: object, msg?: string): void };
}

const TRACER_NAME = 'stepwise-engine';
/** Parent contexts kept by traceparent; cleared when full (a miss costs one parse). */
const MAX_PARENTS = 10_000;
const END_TYPES = new Set<string>([HistoryEventType.ExecutionSucceeded, HistoryEventType.ExecutionFailed, HistoryEventType.ExecutionCancelled]);
/** Span names kept per step name (a bound: step names come from registered definitions). */
const MAX_NAMES = 10_000;
/** SpanKind.INTERNAL, a constant of the API (0): read here without loading it. */
const INTERNAL = 0 satisfies SpanKind.INTERNAL;
/** Executions whose commits are followed in memory; cleared when full (a miss costs one history read at the end). */
const MAX_FOLLOWED = 10_000;

type KeptEvent = Pick<HistoryEvent, 'type' | 'timestamp' | 'step' | 'attempt' | 'data'>;

/** An execution whose every commit since its first this process has seen: what its span needs of them. */
interface Followed {
  /** The sequence number the next commit's first event must have (a gap: the history is read instead). */
  next: number;
  kept: KeptEvent[];
}

export class Tracing implements EngineObserver {
  private readonly tracer: Tracer;
  private readonly ids: StepwiseIdGenerator;
  private readonly store: Pick<Store, 'readHistory'>;
  private readonly log: TracingOptions['log'];
  private readonly parents = new Map<string, Context>();
  private readonly ending = new Set<Promise<void>>();
  private readonly followed = new Map<string, Followed>();
  private readonly stepNames = new Map<string, string>();
  private readonly compensationNames = new Map<string, string>();
  private warnedIds = false;

  constructor(options: TracingOptions) {
    this.tracer = (options.tracerProvider ?? otel().trace.getTracerProvider()).getTracer(TRACER_NAME);
    this.ids = options.idGenerator;
    this.store = options.store;
    this.log = options.log;
  }

  executionTrace(info: { workflow: string; executionId: string; startedAt: number; parent?: TraceParent }): ExecutionTrace | undefined {
    const { parent } = info;
    const ids = this.ids.newIds();
    // The sampler decides once, now, with the real parent: this probe is never ended, so never
    // exported; the span made at the end with the same ids and parent gets the same decision.
    const probe = this.executionSpan(info.workflow, info.executionId, info.startedAt, parent, ids);
    const made = probe.spanContext();
    if (made.spanId !== ids.spanId) {
      if (!this.warnedIds) this.log?.warn({}, 'tracing: the tracer provider does not use StepwiseIdGenerator; executions get no span of their own');
      this.warnedIds = true;
      return parent ? { traceparent: formatTraceparent(parent) } : undefined;
    }
    const traceparent = formatTraceparent({ traceId: made.traceId, spanId: made.spanId, flags: made.traceFlags });
    return { traceparent, span: { startedAt: info.startedAt, ...(parent ? { parentSpanId: parent.spanId } : {}) } };
  }

  stepAttemptStarted(info: StepAttemptInfo): StepAttemptScope | undefined {
    const t = info.trace;
    if (!t) return undefined;
    // The options object is the one call the SDK needs: kind and every attribute at start, the
    // parent context made once per execution (contextOf), the name made once per step.
    const span = this.tracer.startSpan(this.spanName(info.kind, info.step), {
      kind: INTERNAL,
      attributes: {
        'stepwise.workflow': info.workflow, 'stepwise.execution_id': info.executionId, 'stepwise.step': info.step,
        'stepwise.attempt': info.attempt, 'stepwise.kind': info.kind, 'stepwise.worker': info.worker,
      },
    }, this.contextOf(t.traceparent));
    const sc = span.spanContext();
    return new AttemptScope(span, sc.traceId, sc.spanId, sc.traceFlags);
  }

  committed(info: { workflow: string; executionId: string; events: readonly KeptEvent[]; trace?: ExecutionTrace; firstSeq?: number }): void {
    const t = info.trace;
    if (!t?.span) return;
    const followed = this.follow(info.executionId, info.events, info.firstSeq);
    for (const e of info.events) {
      if (!END_TYPES.has(e.type)) continue;
      this.followed.delete(info.executionId);
      // Its steps are over: their parent context is not needed any more (the map stays as small as what runs).
      this.parents.delete(t.traceparent);
      if (followed) {
        // Every event at hand: the span is made now, without the promises a history read needs.
        try {
          this.exportExecution(info.workflow, info.executionId, t, followed.kept);
        } catch (err) {
          this.notExported(info.executionId, err);
        }
        continue;
      }
      const done = readWholeHistory(this.store, info.executionId)
        .then((history) => this.exportExecution(info.workflow, info.executionId, t, history))
        .catch((err: unknown) => this.notExported(info.executionId, err));
      this.ending.add(done);
      void done.finally(() => this.ending.delete(done));
    }
  }

  private notExported(executionId: string, err: unknown): void {
    this.log?.warn({ executionId, err: (err as Error).message }, 'tracing: could not export the execution span');
  }

  /** Resolves once the spans of executions that ended so far are handed to the SDK (flush the SDK after). */
  async flush(): Promise<void> {
    while (this.ending.size > 0) await Promise.all([...this.ending]);
  }

  /**
   * Keeps, from an execution's first commit on, the few events its span is made of, so that the
   * process that ends it needs no history read (a tenth of a traced step's CPU, measured). Only
   * while the sequence numbers run without a gap: a commit made elsewhere (another process, before
   * a restart, a parent writing a child's first event) drops it, and the history is read then.
   */
  private follow(executionId: string, events: readonly KeptEvent[], firstSeq: number | undefined): Followed | undefined {
    let f = this.followed.get(executionId);
    if (firstSeq === 1 && !f) {
      if (this.followed.size >= MAX_FOLLOWED) this.followed.clear();
      f = { next: 1, kept: [] };
      this.followed.set(executionId, f);
    }
    if (!f) return undefined;
    if (firstSeq !== f.next) {
      this.followed.delete(executionId);
      return undefined;
    }
    f.next += events.length;
    for (const e of events) {
      if (!keptForSpan(e)) continue;
      f.kept.push({ type: e.type, timestamp: e.timestamp, step: e.step, attempt: e.attempt, data: e.data });
    }
    return f;
  }

  private contextOf(traceparent: string): Context {
    const ctx = this.parents.get(traceparent);
    if (ctx) return ctx;
    const p = parseTraceparent(traceparent);
    return p ? this.remember(traceparent, p.traceId, p.spanId, p.flags) : otel().ROOT_CONTEXT;
  }

  /** The remote parent context of spans whose parent is `traceparent`, kept for the next ones. */
  private remember(traceparent: string, traceId: string, spanId: string, traceFlags: number): Context {
    const { trace, ROOT_CONTEXT } = otel();
    const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags, isRemote: true });
    if (this.parents.size >= MAX_PARENTS) this.parents.clear();
    this.parents.set(traceparent, ctx);
    return ctx;
  }

  /** `step <name>` or `compensation <name>`, one string per step rather than one per attempt. */
  private spanName(kind: StepAttemptInfo['kind'], step: string): string {
    const names = kind === 'compensation' ? this.compensationNames : this.stepNames;
    let name = names.get(step);
    if (name === undefined) {
      if (names.size >= MAX_NAMES) names.clear();
      names.set(step, (name = `${kind === 'compensation' ? 'compensation' : 'step'} ${step}`));
    }
    return name;
  }

  private executionSpan(workflow: string, executionId: string, startedAt: number, parent: TraceParent | undefined, ids: { traceId: string; spanId: string }): Span {
    const ctx = parent ? this.contextOf(formatTraceparent(parent)) : otel().ROOT_CONTEXT;
    return this.ids.withIds(parent ? { spanId: ids.spanId } : ids, () => this.tracer.startSpan(`execution ${workflow}`, {
      kind: otel().SpanKind.INTERNAL, startTime: startedAt,
      attributes: { 'stepwise.workflow': workflow, 'stepwise.execution_id': executionId },
    }, ctx));
  }

  /**
   * Exports the execution's span: its stored ids and start, its events, its end. The events are
   * those kept from its commits when this process saw all of them, else read from the history.
   */
  private exportExecution(workflow: string, executionId: string, t: ExecutionTrace, history: readonly KeptEvent[]): void {
    const own = parseTraceparent(t.traceparent);
    if (!own || !t.span) return;
    const parent = t.span.parentSpanId ? { traceId: own.traceId, spanId: t.span.parentSpanId, flags: own.flags } : undefined;
    const span = this.executionSpan(workflow, executionId, t.span.startedAt, parent, { traceId: own.traceId, spanId: own.spanId });
    let end: KeptEvent | undefined;
    for (const e of history) {
      const event = spanEvent(e);
      if (event) span.addEvent(event.name, event.attributes, e.timestamp);
      if (END_TYPES.has(e.type)) end = e;
    }
    if (!end) return;
    const status = end.type === HistoryEventType.ExecutionSucceeded ? 'SUCCEEDED' : end.type === HistoryEventType.ExecutionFailed ? 'FAILED' : 'CANCELLED';
    span.setAttribute('stepwise.status', status);
    const code = (end.data?.error as { code?: unknown } | undefined)?.code;
    if (status === 'FAILED') {
      if (typeof code === 'string') span.setAttribute('stepwise.error_code', code);
      span.setStatus({ code: otel().SpanStatusCode.ERROR, ...(typeof code === 'string' ? { message: code } : {}) });
    }
    span.end(end.timestamp);
  }
}

/**
 * One attempt's span, as the engine's scope of it: `ctx.trace` for the handler, `end` for its
 * outcome. A class rather than a closure and object literals per attempt.
 */
class AttemptScope implements StepAttemptScope {
  readonly context: { trace: { traceparent: string; traceId: string; spanId: string } };
  constructor(private readonly span: Span, traceId: string, spanId: string, flags: number) {
    // The flags reduced to "sampled", as the attempt's own context carries them.
    this.context = { trace: { traceparent: formatTraceparent({ traceId, spanId, flags: flags & 1 }), traceId, spanId } };
  }

  end({ ok, errorCode }: { ok: boolean; errorCode?: string }): void {
    const span = this.span;
    span.setAttribute('stepwise.outcome', outcomeLabel(ok, errorCode));
    if (!ok) {
      if (errorCode !== undefined) span.setAttribute('stepwise.error_code', errorCode);
      span.setStatus({ code: otel().SpanStatusCode.ERROR, ...(errorCode !== undefined ? { message: errorCode } : {}) });
    }
    span.end();
  }
}

type SpanEventData = Record<string, unknown>;

/** How one history event type becomes a span event on the execution's span. */
interface SpanEventKind {
  /** Only the events of the type this holds for become one (all of them when absent). */
  readonly when?: (d: SpanEventData) => boolean;
  /** `at` holds the event's step and attempt attributes. */
  readonly build: (at: Attributes, d: SpanEventData) => { name: string; attributes: Attributes };
}

const iso = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString() : undefined);

/**
 * The history event types that become span events, and how: the one list both `spanEvent` (the
 * events of an ended execution's span) and `keptForSpan` (what a followed execution keeps of its
 * commits) go by, so a type added here is both kept and exported.
 */
const SPAN_EVENTS: ReadonlyMap<string, SpanEventKind> = new Map<HistoryEventType, SpanEventKind>([
  [HistoryEventType.RetryScheduled, {
    build: (at, d) => ({ name: 'retry', attributes: { ...at, 'stepwise.due_at': iso(d.dueAt), 'stepwise.delay_ms': typeof d.delayMs === 'number' ? d.delayMs : undefined } }),
  }],
  [HistoryEventType.TimerStarted, { build: (at, d) => ({ name: 'timer started', attributes: { ...at, 'stepwise.due_at': iso(d.dueAt) } }) }],
  [HistoryEventType.TimerFired, { build: (at) => ({ name: 'timer fired', attributes: at }) }],
  [HistoryEventType.CancelRequested, { build: (at) => ({ name: 'cancel requested', attributes: at }) }],
  [HistoryEventType.CompensationStarted, {
    build: (at, d) => ({ name: 'compensation started', attributes: { ...at, 'stepwise.compensates': typeof d.for === 'string' ? d.for : undefined } }),
  }],
  [HistoryEventType.CompensationSucceeded, { build: (at) => ({ name: 'compensation succeeded', attributes: at }) }],
  [HistoryEventType.CompensationFailed, {
    build: (at, d) => ({ name: 'compensation failed', attributes: { ...at, 'stepwise.error_code': (d.error as { code?: string } | undefined)?.code } }),
  }],
  [HistoryEventType.ExecutionRedriven, { build: (_at, d) => ({ name: 'redriven', attributes: { 'stepwise.redrive_count': typeof d.count === 'number' ? d.count : undefined } }) }],
  // Of the StepStarted events, only a re-run's (after a crash or a lost lease).
  [HistoryEventType.StepStarted, {
    when: (d) => Boolean(d.rerun),
    build: (at, d) => {
      const rerun = d.rerun as { previousWorker?: string; reason?: string };
      return { name: 'step rerun', attributes: { ...at, 'stepwise.previous_worker': rerun.previousWorker, 'stepwise.rerun_reason': rerun.reason } };
    },
  }],
]);

const NO_DATA: SpanEventData = {};

/** The kind of span event this history event becomes, if any (SPAN_EVENTS). */
function spanEventKind(e: Pick<HistoryEvent, 'type' | 'data'>): SpanEventKind | undefined {
  const kind = SPAN_EVENTS.get(e.type);
  return kind && (!kind.when || kind.when(e.data ?? NO_DATA)) ? kind : undefined;
}

/**
 * Whether a followed execution keeps this event of a commit for its span: one `spanEvent` makes
 * a span event of, or its end.
 */
function keptForSpan(e: Pick<HistoryEvent, 'type' | 'data'>): boolean {
  return END_TYPES.has(e.type) || spanEventKind(e) !== undefined;
}

/** The span event a history event becomes on the execution's span, if any. */
function spanEvent(e: KeptEvent): { name: string; attributes: Attributes } | undefined {
  const kind = spanEventKind(e);
  if (!kind) return undefined;
  const at: Attributes = {};
  if (e.step !== undefined) at['stepwise.step'] = e.step;
  if (e.attempt !== undefined) at['stepwise.attempt'] = e.attempt;
  return kind.build(at, e.data ?? NO_DATA);
}
