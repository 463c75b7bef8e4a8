import { StepwiseError } from './errors.js';

/** Position in the newest-first execution listing: the last item of the previous page. */
export interface ListPosition {
  startedAt: number;
  id: string;
}

/** Opaque to clients: base64url of `[startedAt, id]`. */
export function encodeListCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.startedAt, position.id])).toString('base64url');
}

/** Decodes a cursor from `encodeListCursor`; anything else is a VALIDATION_FAILED error naming `cursor`. */
export function decodeListCursor(cursor: string): ListPosition {
  try {
    if (cursor.length > 512) throw new Error('too long');
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && Number.isSafeInteger(parsed[0]) && typeof parsed[1] === 'string') {
      return { startedAt: parsed[0] as number, id: parsed[1] };
    }
  } catch {
    // fall through to the one error below
  }
  throw new StepwiseError('VALIDATION_FAILED', 'cursor is not a cursor this server returned', { field: 'cursor' });
}
