import { createHash } from 'node:crypto';
import { EXECUTION_ID_PATTERN } from '../core/ids.js';

const idRe = new RegExp(EXECUTION_ID_PATTERN);

/**
 * The id of the child an invoke step starts on an attempt: `<parent id>:<step key>:<attempt>`
 * (a loop's `#` becomes `.`), so every try of the same commit names the same child and the store
 * creates it once. When that does not fit the id charset or length (a long parent id, a schedule
 * slot's `@`), a hash of it: still one id per parent, step and attempt.
 */
export function childIdOf(parentId: string, key: string, attempt: number): string {
  const id = `${parentId}:${key.replace(/[#[\]]/g, '.')}:${attempt}`;
  if (idRe.test(id)) return id;
  return `child-${createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
}
