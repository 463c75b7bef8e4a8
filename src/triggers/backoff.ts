/**
 * Delay before reconnect attempt `attempt` (1 for the first): exponential from 250 ms, capped at
 * 30 s, with full jitter so that many triggers losing one broker do not all come back at once.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(30_000, 250 * 2 ** Math.min(Math.max(0, attempt - 1), 8));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * Delay before a message whose start failed for a passing reason (store busy, engine stopping) is
 * offered again: grows with its delivery count, 1 s to 60 s.
 */
export function redeliveryDelay(deliveryCount: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.min(Math.max(0, deliveryCount - 1), 6));
}
