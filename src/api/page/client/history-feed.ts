/**
 * An execution's history as the page knows it: every event once, in order, read page by page and
 * then only what is new on each poll. No DOM: `fetchPage` is the API call, so it is tested alone.
 */
import type { ApiHistoryEvent, HistoryPage } from './types.js';
import { TERMINAL_EVENTS } from './status.js';

/** Reads one page of history after `after` (null: from the start). */
export type FetchHistoryPage = (after: string | null) => Promise<HistoryPage>;

/** Pages read in one poll at most; the rest comes with the next poll. */
const MAX_PAGES_PER_POLL = 100;

export class HistoryFeed {
  /** The history so far, ordered by seq, without duplicates. */
  readonly events: ApiHistoryEvent[] = [];
  /**
   * True while the newest event is an ExecutionSucceeded, -Failed or -Cancelled: a redrive
   * (ExecutionRedriven) after a failure makes it false again until the next end.
   */
  sawEnd = false;
  private readonly seen = new Set<number>();
  private maxSeq = 0;
  private cursor: string | null = null;
  /** The cursor was made up from the newest seq, not given by the server. */
  private cursorGuessed = false;
  /** The server refused a made-up cursor: re-read from the start on every poll. */
  private restartEachPoll = false;

  constructor(private readonly fetchPage: FetchHistoryPage) {}

  /** Adds events not seen before; true when there were any. */
  add(list: readonly ApiHistoryEvent[]): boolean {
    let added = false;
    for (const ev of list) {
      if (!ev || typeof ev.seq !== 'number' || this.seen.has(ev.seq)) continue;
      this.seen.add(ev.seq);
      this.events.push(ev);
      this.maxSeq = Math.max(this.maxSeq, ev.seq);
      added = true;
    }
    if (added) {
      this.events.sort((a, b) => a.seq - b.seq);
      this.sawEnd = TERMINAL_EVENTS.has(this.events[this.events.length - 1]!.type);
    }
    return added;
  }

  /** Reads what is new: every page the server has, up to MAX_PAGES_PER_POLL. */
  async poll(): Promise<void> {
    for (let pages = 0; pages < MAX_PAGES_PER_POLL; pages++) {
      const guessed = this.cursorGuessed;
      let body: HistoryPage;
      try {
        body = await this.fetchPage(this.cursor);
      } catch (e) {
        const status = (e as { status?: unknown }).status;
        if (guessed && status === 400 && !this.restartEachPoll) {
          this.restartEachPoll = true;
          this.cursor = null;
          this.cursorGuessed = false;
          continue;
        }
        throw e;
      }
      const list = Array.isArray(body?.events) ? body.events : [];
      this.add(list);
      const next = typeof body?.nextCursor === 'string' && body.nextCursor ? body.nextCursor : null;
      this.cursorGuessed = false;
      if (next && list.length > 0) {
        this.cursor = next;
        continue;
      }
      if (!next) {
        if (this.restartEachPoll) this.cursor = null;
        else if (this.maxSeq > 0) {
          // The last page has no cursor; continue after the newest event next time (history
          // cursors are sequence numbers). If the server refuses that, re-read from the start.
          this.cursor = String(this.maxSeq);
          this.cursorGuessed = true;
        }
      }
      return;
    }
  }
}
