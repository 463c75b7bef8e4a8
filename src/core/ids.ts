import { randomFillSync } from 'node:crypto';

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
  return uuidV7();
}

// UUIDv7 as the `uuid` package makes it (RFC 9562: 48-bit ms time, then a 31-bit counter seeded
// at random each ms, then random bits), from a pool of random bytes filled 256 ids at a time:
// `uuid` asks WebCrypto for 16 bytes per id, about a tenth of an HTTP start's CPU beside the rest.
const pool = new Uint8Array(4096);
let poolAt = pool.length;
let lastMs = -Infinity;
let seq = 0;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function uuidV7(): string {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const r = pool.subarray(poolAt, (poolAt += 16));
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    seq = (r[6] & 0x7f) * 0x1000000 + (r[7] << 16) + (r[8] << 8) + r[9];
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) lastMs++; // the counter ran over: borrow the next ms, as `uuid` does
  }
  const ms = lastMs;
  const h = (n: number) => HEX[n & 0xff];
  return `${h(ms / 0x10000000000)}${h(ms / 0x100000000)}${h(ms / 0x1000000)}${h(ms / 0x10000)}-${h(ms / 0x100)}${h(ms)}-` +
    `${h(0x70 | ((seq >>> 28) & 0x0f))}${h(seq >>> 20)}-${h(0x80 | ((seq >>> 14) & 0x3f))}${h(seq >>> 6)}-` +
    `${h(((seq << 2) & 0xff) | (r[10] & 0x03))}${h(r[11])}${h(r[12])}${h(r[13])}${h(r[14])}${h(r[15])}`;
}

/** Names of workflows and states: a letter, then letters, digits, `_` or `-`, at most 64. */
export const NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_-]{0,63}$';
const nameRe = new RegExp(NAME_PATTERN);

export function isValidName(name: string): boolean {
  return nameRe.test(name);
}
