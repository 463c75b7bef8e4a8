import { StepwiseError } from '../core/errors.js';
import { ExecutionStatus, isTerminalStatus } from '../core/status.js';
import type { ExecutionSummary } from '../core/store.js';
import type { TriggerEngine, TriggerLogger } from './trigger-engine.js';

/** How long one `waitForEnd` call may last before the watcher asks again (and sees a stop). */
const WATCH_CHUNK_MS = 5000;
/** Pause after a failed look at an execution (the store is busy) before looking again. */
const WATCH_RETRY_MS = 1000;

export interface RunningSetOptions {
  /** Back-pressure: no more messages are taken while this many executions run. */
  limit: number;
  engine: TriggerEngine;
  log: TriggerLogger;
  trigger: string;
  /** Called once per execution this set saw end (for the outbound event); retried until it resolves. */
  onEnd?: (execution: ExecutionSummary) => Promise<void>;
}

/**
 * The executions one trigger started that are still running, for back-pressure and for the
 * outbound "ended" event. A message first reserves a place (so messages handled at the same time
 * cannot overshoot the limit), then settles it with the execution it started. Each running
 * execution is watched with the engine's `waitForEnd`, which wakes as soon as this process
 * commits the end and otherwise looks again every 100 ms, so a trigger with a limit of N costs at
 * most N cheap reads every 100 ms. Watching stops only when the execution ends or the set stops.
 */
export class RunningSet {
  private readonly ids = new Set<string>();
  private reserved = 0;
  private waiters: Array<() => void> = [];
  private stopped = false;
  private readonly stopWaits = new Set<() => void>();

  constructor(private readonly options: RunningSetOptions) {}

  /** Executions running plus places reserved. */
  get size(): number {
    return this.ids.size + this.reserved;
  }

  /** How many more messages may start now. */
  get room(): number {
    return Math.max(0, this.options.limit - this.size);
  }

  get running(): number {
    return this.ids.size;
  }

  /** Claims a place for a message about to start; false when the limit is reached. */
  tryReserve(): boolean {
    if (this.stopped || this.room === 0) return false;
    this.reserved++;
    return true;
  }

  /**
   * Frees a reservation. With the execution the message led to: counts it while it runs (once,
   * however many deliveries lead to it) and announces its end; an execution already ended is
   * announced at once (at least once: a redelivery after a crash announces it again).
   */
  settle(execution?: ExecutionSummary): void {
    this.reserved = Math.max(0, this.reserved - 1);
    if (execution) this.follow(execution);
    this.wake();
  }

  /** Counts an execution found running at start-up (started by this trigger before a restart). */
  adopt(execution: ExecutionSummary): void {
    this.follow(execution);
  }

  /** Resolves once a place is free, the set stops, or `signal` (the trigger stopping) aborts. */
  waitForRoom(signal?: AbortSignal): Promise<void> {
    if (this.room > 0 || this.stopped || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }

  stop(): void {
    this.stopped = true;
    this.wake();
    for (const wake of this.stopWaits) wake();
  }

  private follow(execution: ExecutionSummary): void {
    if (!isTerminalStatus(execution.status)) {
      if (this.ids.has(execution.id)) return;
      this.ids.add(execution.id);
      void this.watch(execution.id);
    } else {
      void this.announce(execution);
    }
  }

  private wake(): void {
    if (this.room === 0 && !this.stopped) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }

  private async watch(id: string): Promise<void> {
    while (!this.stopped) {
      let ended: ExecutionSummary;
      try {
        ended = await this.options.engine.waitForEnd(id, WATCH_CHUNK_MS);
      } catch (error) {
        if (error instanceof StepwiseError && error.code === 'WAIT_TIMEOUT') continue;
        if (this.stopped) break;
        this.options.log.warn({ trigger: this.options.trigger, execution: id, err: error }, 'trigger: cannot read a running execution; trying again');
        await this.pause(WATCH_RETRY_MS);
        continue;
      }
      this.ids.delete(id);
      this.wake();
      await this.announce(ended);
      return;
    }
    this.ids.delete(id);
  }

  private async announce(execution: ExecutionSummary): Promise<void> {
    const onEnd = this.options.onEnd;
    if (!onEnd || execution.status === ExecutionStatus.RUNNING) return;
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await onEnd(execution);
        return;
      } catch (error) {
        this.options.log.warn({ trigger: this.options.trigger, execution: execution.id, err: error }, 'trigger: publishing the ended event failed; trying again');
        await this.pause(Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  /** Sleeps, but wakes at once when the set stops. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stopWaits.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stopWaits.add(done);
    });
  }
}
