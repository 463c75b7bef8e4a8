import type { Store } from '../core/store.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';

/**
 * Opens the store a location names: a `postgres://` or `postgresql://` URL selects PostgreSQL,
 * anything else is an SQLite file path (or ':memory:').
 */
export async function openStore(location: string, options: { sqlite?: SqliteStoreOptions } = {}): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(location)) {
    const { PostgresStore } = await import('./postgres/postgres-store.js');
    return PostgresStore.open(location);
  }
  const synchronous = options.sqlite?.synchronous ?? (process.env.STEPWISE_SQLITE_SYNC === 'normal' ? 'normal' : 'full');
  return SqliteStore.open(location, { ...options.sqlite, synchronous });
}
