/**
 * Merges reads of single rows asked for in the same turn of the event loop into one query for
 * all of them. Callers of waitForEnd read their execution as their starts are settled, a whole
 * commit batch of them at once: one query (one socket write, one statement on the server)
 * instead of one each. A lone read waits only for the end of the current turn.
 */
import { isStoreUnavailable } from '../../core/errors.js';

interface Waiter<V> {
  resolve(value: V | undefined): void;
  reject(error: unknown): void;
}

export class ReadCoalescer<K, V> {
  private pending: Map<K, Array<Waiter<V>>> | undefined;

  constructor(
    private readonly readMany: (keys: K[]) => Promise<Map<K, V>>,
    /** A turn asking for more keys than this sends them in several queries. */
    private readonly maxKeys = 500,
  ) {}

  read(key: K): Promise<V | undefined> {
    return new Promise<V | undefined>((resolve, reject) => {
      if (!this.pending) {
        this.pending = new Map();
        setImmediate(() => this.flush());
      }
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (this.pending.size >= this.maxKeys) this.flush();
    });
  }

  private flush(): void {
    const batch = this.pending;
    if (!batch) return;
    this.pending = undefined;
    this.readMany([...batch.keys()]).then(
      (found) => {
        for (const [key, waiters] of batch) for (const w of waiters) w.resolve(found.get(key));
      },
      (error: unknown) => {
        if (batch.size === 1 || isStoreUnavailable(error)) {
          for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
          return;
        }
        // Not the store being away: one row may be what fails (one that cannot be decoded, say).
        // Each key alone, so that one bad row fails only its own readers.
        for (const [key, waiters] of batch) {
          this.readMany([key]).then(
            (found) => { for (const w of waiters) w.resolve(found.get(key)); },
            (own: unknown) => { for (const w of waiters) w.reject(own); },
          );
        }
      },
    );
  }
}
