import type { Schedule } from './schedule.js';

/**
 * The schedules among modules' exports (or a config file's): every exported value that
 * `schedule()` made, directly or inside an exported array. Functions are not called (call
 * `checkoutSchedules()` yourself and pass its result). Give the result to
 * `new ScheduleRunner({ schedules })`, which upserts them at start.
 */
export function collectSchedules(...moduleExports: Array<Record<string, unknown> | readonly unknown[]>): Schedule[] {
  const found: Schedule[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) for (const item of value) visit(item);
    else if (isSchedule(value) && !found.includes(value)) found.push(value);
  };
  for (const exports of moduleExports) {
    if (Array.isArray(exports)) visit(exports);
    else if (exports && typeof exports === 'object') for (const value of Object.values(exports)) visit(value);
  }
  return found;
}

export function isSchedule(value: unknown): value is Schedule {
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === 'schedule' && typeof (value as { id?: unknown }).id === 'string';
}
