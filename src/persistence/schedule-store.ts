import type Database from 'better-sqlite3';
import type pg from 'pg';
import { StepwiseError } from '../core/errors.js';
import type { ScheduleStore } from '../core/schedule-store.js';
import type { Store } from '../core/store.js';
import { PostgresScheduleStore } from './postgres/schedule-store.js';
import { SqliteScheduleStore } from './sqlite/schedule-store.js';

/**
 * The schedule store beside an open Store, on the same connection (SQLite) or pool and schema
 * (PostgreSQL). Its table is created by `init()`, which the ScheduleRunner calls at start.
 * Close the Store only after the runner has stopped.
 */
export function scheduleStoreFor(store: Store): ScheduleStore {
  const withConnection = store as Store & { connection?: unknown; schema?: unknown };
  if (store.kind === 'sqlite' && withConnection.connection) return new SqliteScheduleStore(withConnection.connection as Database.Database);
  if (store.kind === 'postgres' && withConnection.connection && typeof withConnection.schema === 'string') {
    return new PostgresScheduleStore(withConnection.connection as pg.Pool, withConnection.schema);
  }
  throw new StepwiseError('INVALID_DEFINITION', `schedules need an SQLite or PostgreSQL store, not '${store.kind}'`);
}
