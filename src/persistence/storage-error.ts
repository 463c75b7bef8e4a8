import { StepwiseError } from '../core/errors.js';

/** SQLite result codes (extended codes share the prefix) that mean "try again later", not "bug". */
const SQLITE_TRANSIENT = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_PROTOCOL'];
/** PostgreSQL SQLSTATEs and socket errors that mean the same. */
const OTHER_TRANSIENT = new Set([
  '40001', '40P01', '53100', '53200', '53300', '57P01', '57P02', '57P03', '08000', '08003', '08006',
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT',
]);

export function isStorageFault(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return OTHER_TRANSIENT.has(code) || SQLITE_TRANSIENT.some((c) => code === c || code.startsWith(`${c}_`));
}

/** Wraps a storage fault as STORE_UNAVAILABLE (the engine backs off and retries); returns other errors as they are. */
export function asStorageError(error: unknown): unknown {
  if (!isStorageFault(error)) return error;
  const code = (error as { code: string }).code;
  return new StepwiseError('STORE_UNAVAILABLE', `storage fault ${code}: ${(error as Error).message}`, { cause: code });
}
