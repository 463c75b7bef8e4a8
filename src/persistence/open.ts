import type { Store } from '../core/store.js';
import type { PostgresStoreOptions } from './postgres/postgres-store.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';

/**
 * Opens the store a location names: a `postgres://` or `postgresql://` URL selects PostgreSQL,
 * anything else is an SQLite file path (or ':memory:'). Settings not given in `options` come
 * from the environment: STEPWISE_SQLITE_SYNC (full|normal), STEPWISE_PG_SCHEMA,
 * STEPWISE_PG_POOL_SIZE.
 */
export async function openStore(
  location: string,
  options: { sqlite?: SqliteStoreOptions; postgres?: PostgresStoreOptions } = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(location)) {
    const { PostgresStore } = await import('./postgres/postgres-store.js');
    const pool = env.STEPWISE_PG_POOL_SIZE ? Number(env.STEPWISE_PG_POOL_SIZE) : undefined;
    return PostgresStore.open(location, {
      ...(env.STEPWISE_PG_SCHEMA ? { schema: env.STEPWISE_PG_SCHEMA } : {}),
      ...(pool && Number.isInteger(pool) && pool > 0 ? { poolSize: pool } : {}),
      ...options.postgres,
    });
  }
  const synchronous = options.sqlite?.synchronous ?? (env.STEPWISE_SQLITE_SYNC === 'normal' ? 'normal' : 'full');
  return SqliteStore.open(location, { ...options.sqlite, synchronous });
}
