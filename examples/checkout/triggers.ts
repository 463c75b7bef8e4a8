import { amqpTrigger, natsTrigger, webhook, type QueueTrigger, type Webhook } from '../../src/index.js';

/**
 * The checkout's event-driven starts, each active only when its environment variable is set:
 * - STEPWISE_NATS_URL: a JetStream trigger on subject `orders.checkout` (stream ORDERS, created
 *   when missing);
 * - STEPWISE_AMQP_URL: a RabbitMQ trigger on queue `checkout`;
 * - STEPWISE_HOOK_SECRET: the webhook `checkout`, POST /v1/hooks/checkout, signed GitHub-style
 *   (X-Hub-Signature-256) with the delivery id in X-Delivery-Id.
 * The queue triggers key executions by the cart's `orderId`, so an order sent twice starts once.
 */
export function checkoutTriggers(env: NodeJS.ProcessEnv = process.env): { triggers: QueueTrigger[]; hooks: Webhook[] } {
  const triggers: QueueTrigger[] = [];
  if (env.STEPWISE_NATS_URL) {
    triggers.push(natsTrigger({
      name: 'checkout',
      workflow: 'checkout',
      servers: env.STEPWISE_NATS_URL,
      stream: 'ORDERS',
      subject: 'orders.checkout',
      createStream: true,
      executionId: { field: 'orderId' },
    }));
  }
  if (env.STEPWISE_AMQP_URL) {
    triggers.push(amqpTrigger({ name: 'checkout', workflow: 'checkout', url: env.STEPWISE_AMQP_URL, queue: 'checkout', executionId: { field: 'orderId' } }));
  }
  const hooks = env.STEPWISE_HOOK_SECRET
    ? [webhook({ name: 'checkout', workflow: 'checkout', secret: env.STEPWISE_HOOK_SECRET, deliveryId: { header: 'x-delivery-id' } })]
    : [];
  return { triggers, hooks };
}
