/**
 * When the store's WAL is checkpointed, and by whom. The checkpoint thread (checkpointer.ts) does
 * the copying, off the event loop, once a second when commits were made and every few thousand
 * commits. The writer restarts the WAL from its start only when it begins a transaction after a
 * checkpoint that copied every frame; beside a busy writer the thread's checkpoint rarely does
 * (commits land while it copies), and the WAL would grow without bound. So when the thread
 * reports frames left, or commits were made while it ran, the store's own connection finishes
 * the job just before its next commit, between two transactions: a PASSIVE that copies the few
 * frames left, after which that commit restarts the WAL. When many commits landed meanwhile, the
 * thread goes again first, so the event loop only ever copies a few pages.
 */
import type Database from 'better-sqlite3';
import { Checkpointer, type CheckpointResult } from './checkpointer.js';

export interface WarnLogger {
  warn(obj: object, msg?: string): void;
}

/** Where a store reports its own faults when no logger is given. */
export const consoleWarnLogger: WarnLogger = { warn: (obj, msg) => console.warn(msg ?? '', obj) };

/**
 * A WAL left to grow makes each checkpoint long (measured: 70-110 ms stalls at ~200 MB), so
 * checkpoint every few thousand commits too, just after one, rather than inside one.
 */
const CHECKPOINT_EVERY_COMMITS = 4000;
/** Commits made while the thread copied that the store copies itself; more, and the thread goes again. */
const FINISH_MAX_COMMITS = 64;
/** Times in a row the thread goes again before the store finishes whatever is left. */
const MAX_RERUNS = 2;

export class CheckpointSchedule {
  private readonly timer: NodeJS.Timeout;
  private readonly checkpointer: Checkpointer;
  private sinceCheckpoint = 0;
  /** Commits so far, and when the thread's checkpoint began: those in between left frames it did not see. */
  private commits = 0;
  private startedAt = 0;
  /** The thread's last checkpoint left frames: the next commit copies them first. */
  private finishPending = false;
  private reruns = 0;
  private warned = false;

  /** `realPath`: the database file's real path, absolute (the thread opens it later). */
  constructor(private readonly db: Database.Database, realPath: string, intervalMs: number, private readonly logger: WarnLogger) {
    this.checkpointer = new Checkpointer(realPath, { result: (r) => this.ended(r), error: (m) => this.warnOnce(m) });
    this.timer = setInterval(() => this.checkpointIfDirty(), intervalMs);
    this.timer.unref();
  }

  /** Called by the store just before each commit's transaction. */
  beforeCommit(): void {
    this.commits++;
    if (++this.sinceCheckpoint === CHECKPOINT_EVERY_COMMITS) setImmediate(() => this.checkpointIfDirty());
    if (this.finishPending) this.finish();
  }

  /** A checkpoint on the store's own connection, now (`SqliteStore.checkpoint()`, and when the thread has failed). */
  checkpointHere(): void {
    this.sinceCheckpoint = 0;
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  /** True while the thread checkpoints; `idle` resolves once it has ended and been dealt with. */
  get checkpointing(): boolean {
    return this.checkpointer.busy;
  }

  idle(): Promise<void> {
    return this.checkpointer.idle();
  }

  /** Stops the timer and waits for the thread's checkpoint under way. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.checkpointer.close();
  }

  /** The timer's: starts the thread's checkpoint if commits were made since the last began. */
  checkpointIfDirty(): void {
    if (this.sinceCheckpoint === 0 || !this.db.open) return;
    try {
      const request = this.checkpointer.request();
      if (request === 'started') {
        // Reset only here: a request that found one running must leave the every-N count to its end.
        this.sinceCheckpoint = 0;
        this.startedAt = this.commits;
        this.finishPending = false;
      } else if (request === 'failed') {
        this.checkpointHere();
      }
    } catch (error) {
      // A busy or full disk: the next tick tries again; commits report the fault themselves.
      this.warnOnce(error);
    }
  }

  /** The thread's checkpoint ended: nothing left, the thread again, or the store finishes it. */
  private ended(r: CheckpointResult): void {
    if (!this.db.open) return;
    const during = this.commits - this.startedAt;
    if (r.busy === 0 && r.checkpointed === r.log && during === 0) {
      this.reruns = 0; // every frame copied: the next commit restarts the WAL
    } else if (during > FINISH_MAX_COMMITS && this.reruns < MAX_RERUNS) {
      this.reruns++;
      setImmediate(() => this.checkpointIfDirty());
      return;
    } else {
      this.reruns = 0;
      this.finishPending = true;
    }
    // The every-N trigger fired while this one ran (and found it running): go again now.
    if (this.sinceCheckpoint >= CHECKPOINT_EVERY_COMMITS) setImmediate(() => this.checkpointIfDirty());
  }

  /** On the store's connection, between two commits: copies the few frames the thread left. */
  private finish(): void {
    this.finishPending = false;
    if (this.checkpointer.busy) return; // the running one's end decides again
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch (error) {
      this.warnOnce(error);
    }
  }

  /** Checkpoints are retried each interval; a failing one is worth one line, not one a second. */
  private warnOnce(error: unknown): void {
    if (this.warned) return;
    this.warned = true;
    const message = error instanceof Error ? error.message : String(error);
    this.logger.warn({ err: message }, 'SQLite WAL checkpoint failed; retried each interval, reported once');
  }
}
