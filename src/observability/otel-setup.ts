/**
 * The OpenTelemetry SDK for `stepwise serve`, set up from the standard `OTEL_*` variables, only
 * when they ask for traces. The SDK packages are optional peer dependencies, loaded here with a
 * dynamic import: with the variables unset nothing of them is loaded, and the engine runs
 * without a tracing observer at all (docs/observability.md, Traces).
 */
import { StepwiseIdGenerator } from './span-ids.js';

type Env = Record<string, string | undefined>;

/** What `serve` keeps of the SDK it set up. */
export interface OtelTracing {
  idGenerator: StepwiseIdGenerator;
  provider: import('@opentelemetry/api').TracerProvider;
  /** Exports what is buffered, then stops the exporter. */
  shutdown(): Promise<void>;
}

export const OTEL_PACKAGES = ['@opentelemetry/sdk-trace', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/resources'] as const;

/** Whether the environment asks for traces: an OTLP endpoint, the exporter not 'none', the SDK not disabled. */
export function tracesWanted(env: Env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((s) => s.trim().toLowerCase());
  if (!exporters.includes('otlp')) return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
}

/**
 * Sets up a tracer provider exporting over OTLP/HTTP (JSON) with a batch processor, both
 * configured by their own `OTEL_*` variables, and registers it globally (unless another one is).
 * Undefined when the environment does not ask for traces; throws when it does and the SDK
 * packages are not installed.
 */
export async function startOtelTracing(env: Env = process.env): Promise<OtelTracing | undefined> {
  if (!tracesWanted(env)) return undefined;
  checkProtocol(env);
  let sdk: typeof import('@opentelemetry/sdk-trace');
  let otlp: typeof import('@opentelemetry/exporter-trace-otlp-http');
  let resources: typeof import('@opentelemetry/resources');
  try {
    [sdk, otlp, resources] = await Promise.all([
      import('@opentelemetry/sdk-trace'), import('@opentelemetry/exporter-trace-otlp-http'), import('@opentelemetry/resources'),
    ]);
  } catch (err) {
    throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry SDK is not installed: npm install ${OTEL_PACKAGES.join(' ')} (${(err as Error).message})`, { cause: err });
  }
  const idGenerator = new StepwiseIdGenerator();
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the default name.
  const detected = resources.detectResources({ detectors: [resources.envDetector] });
  const resource = resources.resourceFromAttributes({ 'service.name': 'stepwise' }).merge(detected);
  const provider = new sdk.TracerProvider({
    idGenerator, resource, sampler: samplerFrom(env, sdk),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter: new otlp.OTLPTraceExporter(), ...batchOptions(env) })],
  });
  // Imported here, not with the package: a process without traces never loads the API.
  const { trace } = await import('@opentelemetry/api');
  trace.setGlobalTracerProvider(provider);
  return { idGenerator, provider, shutdown: () => provider.shutdown() };
}

/**
 * OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL. The exporter built in speaks OTLP over HTTP, in JSON; a
 * collector's OTLP/HTTP port takes JSON and protobuf alike, so `http/json` and `http/protobuf` both
 * work (spans go as JSON). `grpc` would send HTTP to a gRPC port and every export would fail
 * quietly: refused at start instead, saying what to set.
 */
function checkProtocol(env: Env): void {
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? '').trim().toLowerCase();
  if (protocol === '' || protocol === 'http/json' || protocol === 'http/protobuf') return;
  throw new Error(
    `OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: Stepwise exports traces over OTLP/HTTP; ` +
      'set it to http/json (or unset it) and point OTEL_EXPORTER_OTLP_ENDPOINT at the collector\'s OTLP/HTTP port (4318 by default)',
  );
}

/** OTEL_BSP_* (this SDK version leaves them to its caller). */
function batchOptions(env: Env): { scheduledDelayMillis?: number; maxExportBatchSize?: number; maxQueueSize?: number; exportTimeoutMillis?: number } {
  const n = (name: string) => {
    const v = Number(env[name]);
    return env[name] !== undefined && Number.isFinite(v) && v > 0 ? v : undefined;
  };
  const out: ReturnType<typeof batchOptions> = {};
  const delay = n('OTEL_BSP_SCHEDULE_DELAY');
  const batch = n('OTEL_BSP_MAX_EXPORT_BATCH_SIZE');
  const queue = n('OTEL_BSP_MAX_QUEUE_SIZE');
  const timeout = n('OTEL_BSP_EXPORT_TIMEOUT');
  if (delay !== undefined) out.scheduledDelayMillis = delay;
  if (batch !== undefined) out.maxExportBatchSize = batch;
  if (queue !== undefined) out.maxQueueSize = queue;
  if (timeout !== undefined) out.exportTimeoutMillis = timeout;
  return out;
}

/** OTEL_TRACES_SAMPLER (and _ARG); parent-based always-on by default, as the SDK's own default. */
function samplerFrom(env: Env, sdk: typeof import('@opentelemetry/sdk-trace')): import('@opentelemetry/sdk-trace').Sampler {
  const arg = Number(env.OTEL_TRACES_SAMPLER_ARG);
  const ratio = Number.isFinite(arg) && arg >= 0 && arg <= 1 ? arg : 1;
  switch ((env.OTEL_TRACES_SAMPLER ?? '').trim().toLowerCase()) {
    case 'always_on': return new sdk.AlwaysOnSampler();
    case 'always_off': return new sdk.AlwaysOffSampler();
    case 'traceidratio': return new sdk.TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off': return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(ratio) });
    default: return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() });
  }
}
