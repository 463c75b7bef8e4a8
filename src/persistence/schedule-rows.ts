import type { ScheduleRow } from '../core/schedule-store.js';

/** A schedules table row as both adapters read it (times in ms; SQLite booleans are 0/1). */
export interface ScheduleDbRow {
  id: string;
  definition: string;
  paused: number | boolean;
  next_slot_at: number | null;
  last_slot_at: number | null;
  last_execution_id: string | null;
  last_error: string | null;
  fired_count: number;
  skipped_count: number;
  missed_count: number;
  failed_count: number;
  created_at: number;
  updated_at: number;
}

export function toScheduleRow(r: ScheduleDbRow): ScheduleRow {
  return {
    id: r.id,
    definition: JSON.parse(r.definition) as ScheduleRow['definition'],
    paused: r.paused === true || r.paused === 1,
    ...(r.next_slot_at !== null ? { nextSlotAt: Number(r.next_slot_at) } : {}),
    ...(r.last_slot_at !== null ? { lastSlotAt: Number(r.last_slot_at) } : {}),
    ...(r.last_execution_id !== null ? { lastExecutionId: r.last_execution_id } : {}),
    ...(r.last_error !== null ? { lastError: r.last_error } : {}),
    firedCount: Number(r.fired_count),
    skippedCount: Number(r.skipped_count),
    missedCount: Number(r.missed_count),
    failedCount: Number(r.failed_count),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
