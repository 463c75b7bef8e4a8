import { describe, expect, it } from 'vitest';
import { checkoutTriggers } from '../../examples/checkout/triggers.js';

describe("the checkout example's triggers", () => {
  it('defines nothing when no broker or secret is configured', () => {
    expect(checkoutTriggers({})).toEqual({ triggers: [], hooks: [] });
  });

  it('defines the NATS and RabbitMQ triggers and the webhook from the environment', () => {
    const { triggers, hooks } = checkoutTriggers({
      STEPWISE_NATS_URL: 'nats://127.0.0.1:4222',
      STEPWISE_AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
      STEPWISE_HOOK_SECRET: 'a-secret-of-enough-length',
    });
    expect(triggers).toEqual([
      expect.objectContaining({ kind: 'nats', name: 'checkout', workflow: 'checkout', stream: 'ORDERS', subject: 'orders.checkout' }),
      expect.objectContaining({ kind: 'amqp', name: 'checkout', workflow: 'checkout', queue: 'checkout' }),
    ]);
    expect(hooks).toEqual([expect.objectContaining({ kind: 'hook', name: 'checkout', workflow: 'checkout' })]);
  });

  it('refuses a hook secret too short to be one', () => {
    expect(() => checkoutTriggers({ STEPWISE_HOOK_SECRET: 'short' })).toThrow(/secret must be/);
  });
});
