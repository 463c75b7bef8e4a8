import type { Live } from './draft.js';

/**
 * At most this many backlogged executions are kept restored (~1.2 KB of heap each for a small
 * workflow's snapshot, so ~12 MB at most): enough for a 10,000-timer burst. Only executions
 * with due handler work are kept, never parked ones, so the memory of parked executions does
 * not grow with it.
 */
const BACKLOG_CACHE_MAX = 10_000;

/**
 * And at most this much snapshot, as stored (JSON characters; the restored objects take a few
 * times that in heap): executions whose contexts are large (10,000 of 100 KB would be ~1 GB of
 * JSON) are kept only while they fit, the rest are read back at their claim as before.
 */
export const BACKLOG_CACHE_MAX_CHARS = 32 * 1024 * 1024;

/**
 * What an entry counts against the size bound when its store does not say how large its snapshot
 * is: a generous small snapshot (the bench's are ~300 characters). 10,000 of them come to 10 Mi,
 * under the size bound, so such a store is bounded by count, as before.
 */
const UNKNOWN_SIZE = 1024;

/**
 * Executions whose commit wrote a due handler row unleased for want of capacity (a timer burst
 * fires more executions than may run handlers at once), kept as the commit left them until the
 * claim of that row brings them back: the claim then skips the row read and the snapshot restore
 * its execution would otherwise pay. Without it a firing in a burst paid both twice.
 *
 * Kept only on an exclusive store, where every commit of an execution goes through this
 * process's commit loop, which takes the entry out before it drafts: an entry is never older than
 * the stored row. (Elsewhere another process may claim the row and commit, and an entry kept here
 * would only cost a refused commit and a reload.) An entry is taken out whatever happens next, so
 * a failed draft or commit simply reads the row again.
 */
export class BacklogCache {
  private readonly held = new Map<string, { live: Live; chars: number }>();
  private heldChars = 0;

  constructor(private readonly max = BACKLOG_CACHE_MAX, private readonly maxChars = BACKLOG_CACHE_MAX_CHARS) {}

  /**
   * Keeps `live` (its stored snapshot `snapshotChars` long, if known) until its execution's next
   * input; when full, by count or by size, the newest are not kept (the oldest are claimed first).
   */
  keep(live: Live, snapshotChars = UNKNOWN_SIZE): void {
    this.take(live.id); // an older state of it never stays, kept or not
    if (this.held.size < this.max && this.heldChars + snapshotChars <= this.maxChars) {
      this.held.set(live.id, { live, chars: snapshotChars });
      this.heldChars += snapshotChars;
    }
  }

  /** The kept state of `id`, removed: the caller's round owns it now. */
  take(id: string): Live | undefined {
    const entry = this.held.get(id);
    if (!entry) return undefined;
    this.held.delete(id);
    this.heldChars -= entry.chars;
    return entry.live;
  }

  get size(): number {
    return this.held.size;
  }

  /** Snapshot characters held (see BACKLOG_CACHE_MAX_CHARS). */
  get chars(): number {
    return this.heldChars;
  }
}
