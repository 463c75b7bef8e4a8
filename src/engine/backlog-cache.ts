import type { Live } from './draft.js';

/**
 * At most this many backlogged executions are kept restored (~1.2 KB of heap each for a small
 * workflow's snapshot, so ~12 MB at most): enough for a 10,000-timer burst. Only executions
 * with due handler work are kept, never parked ones, so the memory of parked executions does
 * not grow with it.
 */
export const BACKLOG_CACHE_MAX = 10_000;

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
  private readonly held = new Map<string, Live>();

  constructor(private readonly max = BACKLOG_CACHE_MAX) {}

  /** Keeps `live` until its execution's next input; when full, the newest are not kept (the oldest are claimed first). */
  keep(live: Live): void {
    if (this.held.size < this.max || this.held.has(live.id)) this.held.set(live.id, live);
  }

  /** The kept state of `id`, removed: the caller's round owns it now. */
  take(id: string): Live | undefined {
    const live = this.held.get(id);
    if (live) this.held.delete(id);
    return live;
  }

  get size(): number {
    return this.held.size;
  }
}
