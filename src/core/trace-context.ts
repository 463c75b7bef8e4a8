/**
 * An execution's W3C trace context, kept with the execution (the store's `trace` column) so that
 * any process that continues it, after a restart or on another machine, joins the same trace.
 * Plain data and string handling only: the OpenTelemetry side is src/observability/tracing.ts.
 */

/** `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`, lower case, ids not all zeros. */
const TRACEPARENT = /^00-(?!0{32})([0-9a-f]{32})-(?!0{16})([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceParent {
  traceId: string;
  spanId: string;
  /** The trace flags byte: bit 0 is "sampled". */
  flags: number;
}

/** Parses a `traceparent` header (version 00); undefined for anything malformed. */
export function parseTraceparent(value: unknown): TraceParent | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT.exec(value.trim());
  return m ? { traceId: m[1]!, spanId: m[2]!, flags: parseInt(m[3]!, 16) } : undefined;
}

export function formatTraceparent(t: TraceParent): string {
  return `00-${t.traceId}-${t.spanId}-${(t.flags & 0xff).toString(16).padStart(2, '0')}`;
}

/** What an execution keeps of its trace. */
export interface ExecutionTrace {
  /**
   * The context its steps are children of: its own execution span's when a tracer made one
   * (`span` set), else the caller's `traceparent` passed on unchanged.
   */
  traceparent: string;
  /** Set when the execution has a span of its own, exported when it ends by whichever process ends it. */
  span?: {
    /** When it began (ms since the epoch). */
    startedAt: number;
    /** The span id of the caller's span (the start request's traceparent), if there was one. */
    parentSpanId?: string;
  };
}

/** The store's text for a trace context. */
export function encodeTrace(trace: ExecutionTrace): string {
  return JSON.stringify(trace);
}

/** Reads a stored trace context back; undefined (not an error) when it is not one. */
export function decodeTrace(text: string | undefined): ExecutionTrace | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as ExecutionTrace;
    return parseTraceparent(value.traceparent) ? value : undefined;
  } catch {
    return undefined;
  }
}
