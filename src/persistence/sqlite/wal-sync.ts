/**
 * synchronous=FULL for execution commits without blocking the event loop on the fsync.
 *
 * At FULL, SQLite fsyncs the WAL inside COMMIT, on the thread that runs it: with better-sqlite3
 * that is the event loop, which then serves no request and runs no handler result for the length
 * of the fsync (measured: half the wall time of HTTP starts at 10 connections). Instead, a commit
 * runs at NORMAL (SQLite writes the WAL frames but does not sync them) and this fsyncs the WAL
 * file on libuv's thread pool before the commit's promise resolves. Nothing is acknowledged,
 * and no handler starts, before that promise resolves, so what a caller can observe is the same
 * as FULL: an acknowledged commit is on disk.
 *
 * Why this is as durable as FULL: fsync covers the whole file (every write before it, by any
 * descriptor), and WAL recovery replays frames in order up to the first that does not check
 * out, so a commit that is on disk brings every earlier one with it. A checkpoint still syncs the
 * WAL before it copies pages into the database, and the database after (SQLite does both at
 * NORMAL), so a WAL restart never overwrites frames that are not in the synced database.
 *
 * What differs from FULL: between the COMMIT and the fsync, a read on the same connection sees
 * the commit (the engine acts on nothing until the promise resolves; an API read could show an
 * execution whose start a power cut would still lose, as NORMAL would keep it on a process crash).
 * A failed fsync leaves the page cache in an unknown state (Linux may drop the dirty pages and
 * report success next time), so it is final: every later sync fails too, and the process must be
 * restarted, which replays the WAL from what is really on disk.
 *
 * POSIX only: on Windows opening a directory to sync it fails, and so does flushing a read-only
 * handle, so there the store leaves commits at FULL and SQLite syncs inside COMMIT.
 */
import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import type Database from 'better-sqlite3';
import { StepwiseError } from '../../core/errors.js';

const fdatasyncAsync = promisify(fdatasync);

export class WalSync {
  private fd: number | undefined;
  private failed: StepwiseError | undefined;
  private closed = false;
  /** The fdatasync under way. */
  private syncing: Promise<void> | undefined;

  private readonly normal: Database.Statement;
  private readonly full: Database.Statement;

  /**
   * `realPath` is the database file's real path (symlinks resolved, absolute), resolved once at
   * open: SQLite keeps its WAL beside the file a symlink points to, and a relative path would
   * name another file after process.chdir().
   */
  constructor(db: Database.Database, private readonly realPath: string) {
    this.normal = db.prepare('PRAGMA synchronous = NORMAL');
    this.full = db.prepare('PRAGMA synchronous = FULL');
  }

  /**
   * Runs one transaction without SQLite's own sync; the caller must await `sync()` before it
   * acts on the transaction. Every other write on the connection stays at FULL, except lease
   * writes (`neverSynced`).
   */
  unsynced<T>(transaction: () => T): T {
    if (this.failed) throw this.failed;
    if (this.closed) throw closedError();
    return this.neverSynced(transaction);
  }

  /**
   * Runs one transaction that is never synced: a lease write, which need not survive a crash
   * (sqlite-store.ts says why). Unlike `unsynced` it also runs after a failed sync, as lease
   * writes did at FULL: a shutdown still hands its leases back.
   */
  neverSynced<T>(transaction: () => T): T {
    this.normal.run();
    try {
      return transaction();
    } finally {
      this.full.run();
    }
  }

  /**
   * Resolves once every WAL write made before the call is on disk. A call while a sync runs
   * begins its own after it (the running one may have begun before its write); the engine's
   * commit loop runs one round at a time, so a commit's sync finds none running.
   */
  sync(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    // After close the file is let go for good: reopening it here would leak the descriptor.
    if (this.closed) return Promise.reject(closedError());
    if (this.syncing) return this.syncing.catch(() => undefined).then(() => this.sync());
    return this.begin();
  }

  /** Waits for syncs under way, then lets go of the file; later commits and syncs fail. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.syncing) await this.syncing.catch(() => undefined);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private begin(): Promise<void> {
    let fd: number;
    try {
      fd = this.open();
    } catch (error) {
      return Promise.reject(this.fail(error));
    }
    // fdatasync, as SQLite uses for the WAL: it also flushes the file size the data needs.
    const run: Promise<void> = fdatasyncAsync(fd).then(
      () => { if (this.syncing === run) this.syncing = undefined; },
      (error: unknown) => {
        if (this.syncing === run) this.syncing = undefined;
        throw this.fail(error);
      },
    );
    this.syncing = run;
    return run;
  }

  private fail(error: unknown): StepwiseError {
    this.failed ??= new StepwiseError('STORE_SYNC_FAILED', `the write-ahead log could not be synced to disk: ${(error as Error).message}`);
    return this.failed;
  }

  private open(): number {
    if (this.fd !== undefined) return this.fd;
    // The WAL exists from the store's first transaction (its migration) until it closes; SQLite
    // truncates it in place (same file) rather than deleting it while a connection is open.
    this.fd = openSync(`${this.realPath}-wal`, 'r');
    // A new file's directory entry must be on disk too, as SQLite makes sure at FULL.
    const dir = openSync(dirname(this.realPath), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    return this.fd;
  }
}

function closedError(): StepwiseError {
  return new StepwiseError('STORE_UNAVAILABLE', 'the store is closed');
}
