import { v7 as uuidv7 } from 'uuid';

/** Execution ids chosen by callers: 1-128 characters of letters, digits and `._:-`. */
export const EXECUTION_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';
const executionIdRe = new RegExp(EXECUTION_ID_PATTERN);

/**
 * A schedule slot's execution id: `<schedule id>@<slot time, ISO 8601 UTC with milliseconds>`,
 * e.g. `abandoned-carts@2026-01-01T00:01:00.000Z`. Only schedules make these: `@` is not allowed
 * in ids callers choose, so no API client can take a slot's id before its schedule does.
 */
export const SCHEDULE_SLOT_ID_PATTERN = '^[A-Za-z][A-Za-z0-9_-]{0,63}@\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$';
const slotIdRe = new RegExp(SCHEDULE_SLOT_ID_PATTERN);

/** An id an execution may have: one a caller chose (EXECUTION_ID_PATTERN) or a schedule slot's. */
export function isValidExecutionId(id: string): boolean {
  return executionIdRe.test(id) || slotIdRe.test(id);
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
