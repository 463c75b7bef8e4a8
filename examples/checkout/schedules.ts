import { schedule, workflow, type Schedule, type StepContext } from '../../src/index.js';

export interface AbandonedCartsInput {
  /** A cart untouched for this long counts as abandoned. */
  olderThanMinutes: number;
  /** Demo data: the carts the sweep finds (a real deployment would query its cart store). */
  carts?: Array<{ cartId: string; email: string; updatedAt: string }>;
}

/** The slot a scheduled execution was started for, read from its id (`<schedule>@<ISO time>`). */
function slotTime(ctx: StepContext): number {
  const at = ctx.executionId.split('@')[1];
  return at ? Date.parse(at) : Date.now();
}

/** Carts last touched before the slot's time minus `olderThanMinutes`. */
export async function findAbandonedCarts(input: AbandonedCartsInput, ctx: StepContext) {
  const cutoff = slotTime(ctx) - input.olderThanMinutes * 60_000;
  return (input.carts ?? []).filter((cart) => Date.parse(cart.updatedAt) < cutoff);
}

/** Sends one reminder per cart; the idempotency key keeps a retried step from mailing twice. */
export async function sendReminders(carts: Array<{ cartId: string; email: string }>, ctx: StepContext) {
  return { reminded: carts.map((cart) => ({ cartId: cart.cartId, reminderId: `rem-${ctx.idempotencyKey}-${cart.cartId}` })) };
}

/** The checkout's housekeeping: find carts abandoned for a while and remind their owners. */
export const abandonedCarts = workflow<AbandonedCartsInput>('abandoned-carts')
  .task('findAbandonedCarts', findAbandonedCarts, { resultPath: 'abandoned', timeoutMs: 10_000 })
  .task('sendReminders', (d: { abandoned: Array<{ cartId: string; email: string }> }, ctx) => sendReminders(d.abandoned, ctx), {
    resultPath: 'reminders',
    retry: [{ errors: ['*'], intervalMs: 500, maxAttempts: 3 }],
  })
  .succeed('done', { output: (d) => d.reminders })
  .build();

/**
 * `abandoned-carts` runs the sweep every minute. A sweep still running when the next minute comes
 * makes that minute's slot skipped; after downtime only the latest missed minute runs.
 */
export function checkoutSchedules(): Schedule[] {
  return [
    schedule({
      id: 'abandoned-carts',
      cron: '* * * * *',
      workflow: 'abandoned-carts',
      input: { olderThanMinutes: 60 },
      overlap: 'skip',
      catchUp: 'latest',
    }),
  ];
}
