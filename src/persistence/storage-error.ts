/**
 * What both adapters do with a database error: a fault that may clear by itself (busy, locked,
 * disk full, connection lost, server restarting) becomes STORE_UNAVAILABLE, which the engine backs
 * off and retries; anything else (a bug, a constraint Stepwise should never break) passes through.
 */
import { StepwiseError } from '../core/errors.js';

/** SQLite result codes (extended codes share the prefix) that mean "try again later", not "bug". */
const SQLITE_TRANSIENT = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_PROTOCOL'];

/**
 * PostgreSQL SQLSTATEs that mean the same: serialization failure and deadlock (40001, 40P01),
 * a statement cancelled or a lock not available (57014, 55P03), the server shutting down or
 * restarting (57P01-57P03); and whole classes: connection exceptions (08), insufficient resources
 * (53), system errors (58).
 */
const PG_TRANSIENT = new Set(['40001', '40P01', '57014', '55P03', '57P01', '57P02', '57P03']);
const PG_TRANSIENT_CLASSES = ['08', '53', '58'];

/** Socket errors Node reports on a connection to a database server. */
const SOCKET_TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** node-postgres reports a dropped or unreachable connection with an Error that has no code. */
const PG_CONNECTION_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable|ECONN|socket/i;

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * True when the connection an error came from cannot be used again (PostgreSQL): the pool must
 * discard it rather than hand it to the next caller.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = codeOf(error);
  if (code !== undefined) return code.startsWith('08') || SOCKET_TRANSIENT.has(code) || ['57P01', '57P02', '57P03'].includes(code);
  return PG_CONNECTION_MESSAGE.test(error.message);
}

export function isStorageFault(error: unknown): boolean {
  const code = codeOf(error);
  if (code === undefined) return isConnectionError(error);
  return (
    SQLITE_TRANSIENT.some((c) => code === c || code.startsWith(`${c}_`)) ||
    PG_TRANSIENT.has(code) ||
    (code.length === 5 && PG_TRANSIENT_CLASSES.includes(code.slice(0, 2))) ||
    SOCKET_TRANSIENT.has(code)
  );
}

/** Wraps a storage fault as STORE_UNAVAILABLE; returns Stepwise's own errors and other errors as they are. */
export function asStorageError(error: unknown): unknown {
  if (error instanceof StepwiseError || !isStorageFault(error)) return error;
  const cause = codeOf(error) ?? 'connection';
  return new StepwiseError('STORE_UNAVAILABLE', `storage fault ${cause}: ${(error as Error).message}`, { cause });
}
