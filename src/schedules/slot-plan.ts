import type { CatchUpPolicy } from './schedule.js';
import type { CronTimes } from './cron.js';

/** Due slots counted one by one at most this many per wake (a per-second cron down for a day has 86,400). */
export const MAX_COUNTED_SLOTS = 10_000;

export interface SlotPlan {
  /** Slots to fire now, oldest first. */
  fire: number[];
  /** Due slots that will not fire (catch-up policy); counted up to MAX_COUNTED_SLOTS. */
  missed: number;
  /** The slot after `now`, which the row moves on to; undefined when the cron never fires again. */
  next: number | undefined;
}

/**
 * Pure: which of the slots from `nextSlotAt` (the row's next slot, due) up to `now` fire. The
 * latest due slot is on time when it is at most `onTimeMs` old: it fires under every policy, and
 * the ones before it were missed. Otherwise every due slot was missed, and `catchUp` decides:
 * none fires nothing, latest the most recent, all the most recent `catchUpLimit`.
 */
export function planSlots(
  cron: CronTimes,
  nextSlotAt: number,
  now: number,
  policy: { catchUp: CatchUpPolicy; catchUpLimit: number; onTimeMs: number },
): SlotPlan {
  const keep = policy.catchUp === 'all' ? policy.catchUpLimit : 1;
  const latest: number[] = [];
  let count = 0;
  for (let slot: number | undefined = nextSlotAt; slot !== undefined && slot <= now; slot = cron.next(slot)) {
    count++;
    latest.push(slot);
    if (latest.length > keep) latest.shift();
    if (count >= MAX_COUNTED_SLOTS) {
      // Too many to walk: take the latest `keep` slots counting back from now instead.
      const back = previousSlots(cron, now, keep, nextSlotAt);
      latest.splice(0, latest.length, ...back);
      break;
    }
  }
  const next = cron.next(now);
  if (count === 0) return { fire: [], missed: 0, next: nextSlotAt };
  const last = latest[latest.length - 1]!;
  const onTime = now - last <= policy.onTimeMs;
  let fire: number[];
  if (onTime) fire = policy.catchUp === 'all' ? latest : [last];
  else if (policy.catchUp === 'none') fire = [];
  else if (policy.catchUp === 'latest') fire = [last];
  else fire = latest;
  return { fire, missed: Math.max(0, count - fire.length), next };
}

/** Up to `count` slots at or before `now` and at or after `floor`, oldest first. */
function previousSlots(cron: CronTimes, now: number, count: number, floor: number): number[] {
  // CronTimes only walks forward: step back in widening windows until enough slots are found.
  let span = 1000;
  for (;;) {
    const from = Math.max(floor - 1, now - span);
    const found: number[] = [];
    for (let slot = cron.next(from); slot !== undefined && slot <= now; slot = cron.next(slot)) {
      found.push(slot);
      if (found.length > count) found.shift();
    }
    if (found.length >= count || from <= floor - 1) return found;
    span *= 4;
  }
}
