import type { ExecutionSummary } from '../core/store.js';
import type { RunningSet } from './running-set.js';
import type { TriggerEvent } from './trigger-events.js';
import type { TriggerEngine, TriggerLogger } from './trigger-engine.js';

/** What the runner hands each trigger's broker loop. */
export interface RuntimeContext {
  engine: TriggerEngine;
  log: TriggerLogger;
  emit(event: TriggerEvent): void;
  running: RunningSet;
}

/** One trigger's connection to its broker: started once, stopped once. */
export interface TriggerRuntime {
  /** Starts connecting and consuming in the background (reconnecting with backoff); returns at once. */
  start(): void;
  /** Stops taking messages, lets the ones being handled finish (acked or left for redelivery), disconnects. */
  stop(): Promise<void>;
  /** Publishes the outbound event for an execution's end (the RunningSet's onEnd); throws while disconnected. */
  publishEnded?(execution: ExecutionSummary): Promise<void>;
}

/** Header values must not carry line breaks, and a dead letter's reason need not be an essay. */
export function headerSafe(text: string, max = 500): string {
  const flat = text.replace(/[\r\n\u0000-\u001f]+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
