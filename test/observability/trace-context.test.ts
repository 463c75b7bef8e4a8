/**
 * Trace context from code, through the package root: a start's `traceparent` kept and passed on
 * without any tracer; when the OTEL_* variables ask for traces; and the Tracing observer on an
 * SDK provider, with and without StepwiseIdGenerator.
 */
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, StepwiseIdGenerator, Tracing, openStore, startOtelTracing, tracesWanted, workflow, type EngineObserver, type StepContext, type Store } from '../../src/index.js';

const CALLER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

/** An engine running workflow 'ctx' (one step that records its context), with the observer made for its store. */
async function engineWith(observerFor: ((store: Store) => EngineObserver) | undefined, seen: StepContext[]) {
  const wf = workflow('ctx').task('look', (_input: unknown, ctx) => { seen.push(ctx); return { ok: true }; }).build();
  const store = await openStore(':memory:');
  const observer = observerFor?.(store);
  const engine = new Engine({ store, ...(observer ? { observer } : {}) }).register(wf);
  await engine.start();
  cleanup.push(async () => { await engine.stop({ graceMs: 0 }); await store.close(); });
  return { engine, store };
}

describe('a start request’s traceparent', () => {
  it('is kept and passed to handlers as ctx.traceparent without any tracer; a malformed one is ignored', async () => {
    const seen: StepContext[] = [];
    const { engine } = await engineWith(undefined, seen);
    const { execution } = await engine.startExecution('ctx', {}, { traceparent: CALLER });
    await engine.waitForEnd(execution.id, 10_000);
    const bad = await engine.startExecution('ctx', {}, { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' });
    await engine.waitForEnd(bad.execution.id, 10_000);
    expect(seen.map((c) => [c.traceparent, c.trace])).toEqual([[CALLER, undefined], [undefined, undefined]]);
    const started = (await engine.getHistory(execution.id)).events[0]!;
    expect(started).toMatchObject({ type: 'ExecutionStarted', data: { traceparent: CALLER } });
    expect((await engine.getHistory(bad.execution.id)).events[0]!.data).not.toHaveProperty('traceparent');
  });
});

describe('tracesWanted', () => {
  it('asks for an OTLP endpoint, and yields to OTEL_TRACES_EXPORTER=none and OTEL_SDK_DISABLED=true', () => {
    expect(tracesWanted({})).toBe(false);
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(tracesWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracesWanted({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false);
  });
});

describe('startOtelTracing', () => {
  it('refuses OTLP over gRPC at start, naming what to set (the built-in exporter speaks OTLP/HTTP)', async () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
    await expect(startOtelTracing(env)).rejects.toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported.*http\/json/);
    await expect(startOtelTracing({ ...env, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' })).rejects.toThrow(/grpc is not supported/);
  });
});

describe('Tracing from code', () => {
  function provider(idGenerator?: StepwiseIdGenerator) {
    const exporter = new InMemorySpanExporter();
    const p = new TracerProvider({ ...(idGenerator ? { idGenerator } : {}), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    cleanup.push(() => p.shutdown());
    return { exporter, p };
  }

  it('exports the execution span with the ids its step span names as parent', async () => {
    const idGenerator = new StepwiseIdGenerator();
    const { exporter, p } = provider(idGenerator);
    const seen: StepContext[] = [];
    let tracing!: Tracing;
    const { engine } = await engineWith((store) => (tracing = new Tracing({ store, idGenerator, tracerProvider: p })), seen);
    const { execution } = await engine.startExecution('ctx', {}, { traceparent: CALLER });
    await engine.waitForEnd(execution.id, 10_000);
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === 'execution ctx')!;
    const step = spans.find((s) => s.name === 'step look')!;
    expect(root.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(root.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(step.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(seen[0]!.trace).toEqual({ traceparent: `00-${step.spanContext().traceId}-${step.spanContext().spanId}-01`, traceId: step.spanContext().traceId, spanId: step.spanContext().spanId });
    expect(seen[0]!.traceparent).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${root.spanContext().spanId}-01`);
  });

  it('without StepwiseIdGenerator in the provider: no execution span, step spans under the caller, and a warning', async () => {
    const { exporter, p } = provider();
    const warnings: string[] = [];
    const seen: StepContext[] = [];
    let tracing!: Tracing;
    const { engine } = await engineWith((store) => (tracing = new Tracing({ store, idGenerator: new StepwiseIdGenerator(), tracerProvider: p, log: { warn: (_o, m) => warnings.push(m ?? '') } })), seen);
    const { execution } = await engine.startExecution('ctx', {}, { traceparent: CALLER });
    await engine.waitForEnd(execution.id, 10_000);
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['step look']);
    expect(spans[0]!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(seen[0]!.traceparent).toBe(CALLER);
    expect(warnings).toEqual([expect.stringContaining('StepwiseIdGenerator')]);
  });
});
