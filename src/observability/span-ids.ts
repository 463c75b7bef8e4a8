/**
 * Span and trace ids for the OpenTelemetry SDK, with one addition: the next span can be given the
 * ids chosen for it beforehand. An execution's span is started once its execution ends, possibly
 * in another process than the one that started it, yet its steps (exported long before) name it
 * as their parent: its ids are made when the execution starts, stored with it, and pinned here
 * just before the span is made. Structurally an SDK `IdGenerator`; no SDK import needed.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const ZERO_SPAN = '0'.repeat(16);
const ZERO_TRACE = '0'.repeat(32);

export class StepwiseIdGenerator {
  /** Random bytes as hex, made a pool at a time: an id is a slice of it (one `toString` per id measured twice the cost). */
  private pool = '';
  private at = 0;
  private pinned: { traceId?: string; spanId?: string } = {};

  generateTraceId(): string {
    const id = this.pinned.traceId;
    if (id === undefined) return this.hex(32);
    this.pinned.traceId = undefined;
    return id;
  }

  generateSpanId(): string {
    const id = this.pinned.spanId;
    if (id === undefined) return this.hex(16);
    this.pinned.spanId = undefined;
    return id;
  }

  /** Random ids for a span made later (an execution's). */
  newIds(): { traceId: string; spanId: string } {
    return { traceId: this.hex(32), spanId: this.hex(16) };
  }

  /**
   * Runs `make` with the next span id (and trace id, for a root span) pinned, synchronously: a
   * span started inside gets them. Unpinned afterwards whatever happened.
   */
  withIds<T>(ids: { traceId?: string; spanId: string }, make: () => T): T {
    this.pinned = { ...ids };
    try {
      return make();
    } finally {
      this.pinned = {};
    }
  }

  /** `chars` random hex digits, never all zeros (an invalid id). */
  private hex(chars: 16 | 32): string {
    for (;;) {
      if (this.at + chars > this.pool.length) {
        this.pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES)).toString('hex');
        this.at = 0;
      }
      const id = this.pool.slice(this.at, this.at + chars);
      this.at += chars;
      if (id !== (chars === 16 ? ZERO_SPAN : ZERO_TRACE)) return id;
    }
  }
}
