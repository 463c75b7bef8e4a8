/**
 * One process owns an SQLite file at a time, and that is enforced: SqliteStore.open takes this
 * lock first and fails with STORE_LOCKED when another live store (in this process or another)
 * holds it.
 *
 * The lock is SQLite's own file lock, taken on a sidecar file `<database>-lock`: a connection to
 * it begins an EXCLUSIVE transaction and keeps it open until the store closes. The operating
 * system holds the lock for the process and drops it when the process ends, however it ends, so a
 * SIGKILLed owner never blocks a restart and there is no pid file to go stale. The lock sits on a
 * sidecar, not on the database itself, so read-only connections to the database (the sqlite3
 * shell, backup tools, tests that inspect a running engine's file) keep working. Nothing is ever
 * written to the sidecar: a crash cannot leave it in a state that blocks the next open.
 *
 * Like every SQLite lock, it needs a local filesystem (POSIX locks are unreliable on NFS), and
 * nothing in the process may open the sidecar except through SQLite (closing any other descriptor
 * of the file would drop the process's POSIX locks on it).
 */
import Database from 'better-sqlite3';
import { StepwiseError } from '../../core/errors.js';

export class OwnerLock {
  private constructor(private readonly db: Database.Database) {}

  /**
   * Takes the lock for the database at `path`, or throws STORE_LOCKED at once if someone holds it.
   * `realPath` is the file's real path (symlinks resolved), so every name of one file shares a lock.
   */
  static acquire(path: string, realPath = path): OwnerLock {
    const lockPath = `${realPath}-lock`;
    const db = new Database(lockPath);
    try {
      db.pragma('busy_timeout = 0');
      db.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      db.close();
      if ((error as { code?: unknown }).code === 'SQLITE_BUSY') {
        throw new StepwiseError(
          'STORE_LOCKED',
          `the SQLite database ${path} is in use by another Stepwise process (it holds ${lockPath}). ` +
            'One process owns an SQLite file at a time: stop the other process first, or use PostgreSQL to run several.',
          { path },
        );
      }
      throw error;
    }
    return new OwnerLock(db);
  }

  release(): void {
    if (this.db.open) this.db.close();
  }
}
