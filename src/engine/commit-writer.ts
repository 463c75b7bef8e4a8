import pRetry from 'p-retry';
import { isStoreUnavailable } from '../core/errors.js';
import type { CommitOutcome, ExecutionCommit, Store } from '../core/store.js';
import type { Logger } from './logger.js';

/**
 * Writes a batch of commits. A storage fault (busy, locked, disk full, connection lost) wrote
 * nothing: the same batch is retried with exponential backoff until it lands or the engine gives
 * up at shutdown; inputs that arrive meanwhile wait for the next batch, and no handler starts for
 * uncommitted progress. Any other error is thrown to the caller.
 */
export class CommitWriter {
  private readonly giveUp = new AbortController();

  constructor(private readonly store: Store, private readonly log: Logger) {}

  write(commits: ExecutionCommit[]): Promise<CommitOutcome[]> {
    // The happy path is one plain call: p-retry only once the store has failed.
    return this.store.commit(commits).catch((error) => {
      if (!isStoreUnavailable(error)) throw error;
      return this.withBackoff(commits, error);
    });
  }

  /** Shutdown: a batch still backing off is abandoned (nothing of it was written). */
  abandonRetries(): void {
    this.giveUp.abort();
  }

  private withBackoff(commits: ExecutionCommit[], first: unknown): Promise<CommitOutcome[]> {
    this.log.warn({ err: (first as Error).message }, 'store unavailable; backing off');
    return pRetry(() => this.store.commit(commits), {
      retries: Number.POSITIVE_INFINITY, minTimeout: 20, maxTimeout: 2000, signal: this.giveUp.signal,
      shouldRetry: ({ error }) => isStoreUnavailable(error),
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (attemptNumber % 20 === 0) this.log.warn({ err: error.message, attempt: attemptNumber }, 'store still unavailable; backing off');
      },
    });
  }
}
