/**
 * Span and trace ids for the OpenTelemetry SDK, with one addition: the next span can be given the
 * ids chosen for it beforehand. An execution's span is started once its execution ends, possibly
 * in another process than the one that started it, yet its steps (exported long before) name it
 * as their parent: its ids are made when the execution starts, stored with it, and pinned here
 * just before the span is made. Structurally an SDK `IdGenerator`; no SDK import needed.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;

export class StepwiseIdGenerator {
  private pool = Buffer.alloc(0);
  private at = POOL_BYTES;
  private pinned: { traceId?: string; spanId?: string } = {};

  generateTraceId(): string {
    const id = this.pinned.traceId;
    if (id === undefined) return this.hex(16);
    this.pinned.traceId = undefined;
    return id;
  }

  generateSpanId(): string {
    const id = this.pinned.spanId;
    if (id === undefined) return this.hex(8);
    this.pinned.spanId = undefined;
    return id;
  }

  /** Random ids for a span made later (an execution's). */
  newIds(): { traceId: string; spanId: string } {
    return { traceId: this.hex(16), spanId: this.hex(8) };
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

  /** `bytes` random bytes as hex, never all zeros (an invalid id). */
  private hex(bytes: number): string {
    for (;;) {
      if (this.at + bytes > POOL_BYTES) {
        this.pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
        this.at = 0;
      }
      const id = this.pool.toString('hex', this.at, this.at + bytes);
      this.at += bytes;
      if (!/^0+$/.test(id)) return id;
    }
  }
}
