import type { ErrorCode } from '../core/errors.js';

/**
 * What a running trigger reports, to the runner's listeners (logs, metrics, tests). Listeners are
 * called synchronously and must not throw.
 */
export type TriggerEvent =
  /** Connected, with the stream/queue and consumer in place; messages flow. */
  | { type: 'ready'; trigger: string }
  /** The connection or consumer failed; the trigger reconnects with backoff. */
  | { type: 'disconnected'; trigger: string; error: unknown }
  /** A message led to an execution (new, or existing for a redelivery) and was acknowledged. */
  | { type: 'started'; trigger: string; executionId: string; created: boolean; redelivered: boolean }
  /** A message that can never start went to the dead-letter subject or queue and was acknowledged. */
  | { type: 'dead-lettered'; trigger: string; code: ErrorCode; reason: string }
  /** A start failed for a passing reason: the message was left to be delivered again. */
  | { type: 'retrying'; trigger: string; error: unknown }
  /** Back-pressure: the trigger stopped taking messages, or took them up again. */
  | { type: 'paused'; trigger: string; running: number }
  | { type: 'resumed'; trigger: string; running: number }
  /** The outbound event for an execution's end was published. */
  | { type: 'published'; trigger: string; executionId: string; status: string };

export type TriggerListener = (event: TriggerEvent) => void;
