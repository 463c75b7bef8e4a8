import { afterEach, describe, expect, it } from 'vitest';
import { abandonedCarts, checkoutSchedules } from '../../examples/checkout/schedules.js';
import { checkout, shipping } from '../../examples/checkout/workflow.js';
import { ExecutionStatus, schedule } from '../../src/index.js';
import { MINUTE, T0, scheduleRig, slotId } from './schedule-harness.js';

const rigs: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

describe("the checkout example's schedule", () => {
  it('runs abandoned-carts every minute, each run succeeding', async () => {
    const r = await scheduleRig({ workflows: [checkout, shipping, abandonedCarts], schedules: checkoutSchedules() });
    rigs.push(r);
    await r.advanceTo(T0 + 2 * MINUTE);
    expect(await r.executionIds()).toEqual([slotId('abandoned-carts', 1), slotId('abandoned-carts', 2)]);
    const run = await r.engine.waitForEnd(slotId('abandoned-carts', 2), 5000);
    expect(run).toMatchObject({ workflow: 'abandoned-carts', status: ExecutionStatus.SUCCEEDED, output: { reminded: [] } });
  });

  it('reminds the owners of carts older than the cutoff at the slot time', async () => {
    const carts = [
      { cartId: 'old', email: 'a@example.com', updatedAt: new Date(T0 - 2 * 60 * MINUTE).toISOString() },
      { cartId: 'fresh', email: 'b@example.com', updatedAt: new Date(T0 - 5 * MINUTE).toISOString() },
    ];
    const sweep = schedule({ id: 'sweep', cron: '* * * * *', workflow: 'abandoned-carts', input: { olderThanMinutes: 60, carts } });
    const r = await scheduleRig({ workflows: [abandonedCarts], schedules: [sweep] });
    rigs.push(r);
    await r.advanceTo(T0 + MINUTE);
    const run = await r.engine.waitForEnd(slotId('sweep', 1), 5000);
    expect(run.output).toEqual({ reminded: [{ cartId: 'old', reminderId: expect.stringMatching(/^rem-.+-old$/) }] });
  });
});
