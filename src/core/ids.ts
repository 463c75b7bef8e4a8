import { v7 as uuidv7 } from 'uuid';

/** Execution ids chosen by callers: 1-128 characters of letters, digits and `._:-`. */
export const EXECUTION_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';
const executionIdRe = new RegExp(EXECUTION_ID_PATTERN);

export function isValidExecutionId(id: string): boolean {
  return executionIdRe.test(id);
}

/** A new execution id: a UUIDv7, so ids sort by creation time. */
export function newExecutionId(): string {
  return uuidv7();
}

/** Names of workflows and states: a letter, then letters, digits, `_` or `-`, at most 64. */
export const NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_-]{0,63}$';
const nameRe = new RegExp(NAME_PATTERN);

export function isValidName(name: string): boolean {
  return nameRe.test(name);
}
