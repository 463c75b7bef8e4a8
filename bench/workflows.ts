/** The workflows the benchmarks run: no-op chains, a parked wait, a timer probe and a big map. */
import { workflow, type Workflow } from '../src/index.js';
import type { CheckoutInput } from '../examples/checkout/handlers.js';

const noop = async (x: unknown) => x;

/** `n` no-op task steps in a row. */
export function noopChain(name: string, n: number): Workflow<unknown> {
  let seq = workflow<unknown>(name);
  for (let i = 1; i <= n; i++) seq = seq.task(`s${i}`, noop);
  return seq.build();
}

export const noop10 = noopChain('noop10', 10);
export const noop4 = noopChain('noop4', 4);

/** Parks for an hour, then one no-op step (never reached in the benchmark). */
export const parked = workflow<{ n: number }>('parked')
  .wait('park', { durationMs: 3_600_000 })
  .task('after', noop)
  .build();

/** Lateness probe: waits until `dueAt`, then a handler notes how late it runs. */
export const lateness: number[] = [];
export const timerProbe = workflow<{ dueAt: number }>('timerProbe')
  .wait('until', { until: (d) => d.dueAt })
  .task('observe', async (d) => {
    lateness.push(Date.now() - d.dueAt);
    return null;
  })
  .build();

/** A map over `items`, 50 at a time: 4 history events per item (see bench/history.ts). */
export const bigMap = workflow<{ items: number[] }>('bigMap')
  .map('m', { itemsPath: 'items', handler: async (x) => x, concurrency: 50 })
  .build();

export function checkoutInput(i: number): CheckoutInput {
  return {
    orderId: `order-${i}`,
    customer: { id: `cust-${i % 97}`, email: `c${i % 97}@example.com` },
    items: [
      { sku: 'sku-1', qty: 1, price: 19.99 },
      { sku: 'sku-2', qty: 2, price: 5.5 },
    ],
  };
}
