import type { WorkItem, WorkRef } from '../core/store.js';
import type { StepAbort } from './handler-runner.js';
import { refKey, toRef } from '../core/work-ref.js';

/** A handler running in this process. */
export interface Running {
  work: WorkItem;
  abort: StepAbort;
  /** Set when its outcome must not be applied: the engine is handing the work back, or the step was left. */
  discard?: boolean;
  /** Set when renewal found another worker holds the row now: its outcome is refused, not applied. */
  leaseLost?: boolean;
}

/**
 * What this process has taken on, and the one place that counts it: the rows it holds leases
 * on, the capacity it has promised, and the handlers it runs. The claimer, the commit loop and
 * the launcher each change it only through these methods, so "how much can this process take"
 * and "which rows must be renewed" have one answer.
 */
export class Ledger {
  /**
   * Every work row this process holds a lease on: claimed, running, or with a result waiting to
   * commit. All of them are renewed, not only running handlers: a lease that lapsed while a result
   * waited for its commit would let another claim re-run a completed step.
   */
  private readonly held = new Map<string, WorkRef>();
  /**
   * Capacity promised to claims waiting for their StepStarted commit. A set of work keys, so a
   * release that happens on two paths (a failed commit, then a requeue) cannot count twice.
   */
  private readonly reserved = new Set<string>();
  /** Launches of the batch being committed that no claim reserved: capacity promised until it lands. */
  private readonly committing = new Set<string>();
  private readonly running = new Map<string, Running>();
  /** How many handlers run per execution: an execution stays in memory while it has any. */
  private readonly runningPer = new Map<string, number>();

  constructor(private readonly concurrency: number) {}

  /** Handlers this process may still start: concurrency minus running, reserved and committing. */
  freeCapacity(): number {
    return this.concurrency - this.running.size - this.reserved.size - this.committing.size;
  }

  get runningCount(): number {
    return this.running.size;
  }

  hasRunning(executionId: string): boolean {
    return this.runningPer.has(executionId);
  }

  /**
   * Whether this process already holds the row, or is committing its launch. A claim that
   * returns such a row came back because its lease lapsed while its work was in flight here: the
   * claim renewed it; the work is already under way, so it is not queued twice.
   */
  isTaken(key: string): boolean {
    return this.held.has(key) || this.reserved.has(key) || this.committing.has(key);
  }

  // ---- leases ---------------------------------------------------------------------------------

  hold(work: WorkRef): void {
    this.held.set(refKey(work), toRef(work));
  }

  unhold(key: string): void {
    this.held.delete(key);
  }

  heldRefs(): WorkRef[] {
    return [...this.held.values()];
  }

  /** Leases renewal found held by someone else: forgotten, and their handlers aborted as lease-lost. */
  loseLeases(keys: Iterable<string>): void {
    for (const k of keys) {
      this.held.delete(k);
      const r = this.running.get(k);
      if (r) {
        r.leaseLost = true;
        r.abort.abort(new Error('lease lost: another worker took this step over'));
      }
    }
  }

  /** At the end of stop(): every lease was handed back to the store. */
  forgetLeases(): void {
    this.held.clear();
  }

  // ---- capacity -------------------------------------------------------------------------------

  reserve(key: string): void {
    this.reserved.add(key);
  }

  unreserve(key: string): void {
    this.reserved.delete(key);
  }

  /** A batch with these launches is being written: their capacity is taken until it lands. */
  beginCommit(keys: Iterable<string>): void {
    for (const k of keys) this.committing.add(k);
  }

  /** The batch has been written or refused; whatever of it did not start no longer counts. */
  endCommit(): void {
    this.committing.clear();
  }

  // ---- handlers -------------------------------------------------------------------------------

  /** A committed launch starts: its row is held and its capacity moves to running. */
  startRunning(key: string, running: Running): void {
    this.reserved.delete(key);
    this.committing.delete(key);
    this.held.set(key, toRef(running.work));
    this.running.set(key, running);
    const id = running.work.executionId;
    this.runningPer.set(id, (this.runningPer.get(id) ?? 0) + 1);
  }

  /** A handler settled. False when its outcome must be ignored (aborted and discarded, or replaced). */
  finishRunning(key: string, running: Running): boolean {
    if (running.discard || this.running.get(key) !== running) return false;
    this.untrack(key);
    return true;
  }

  /** The machine left the step: its handler is aborted and its outcome discarded. */
  abortRunning(key: string, reason: string): void {
    const r = this.running.get(key);
    if (!r) return;
    r.discard = true;
    r.abort.abort(new Error(reason));
    this.untrack(key);
  }

  /** At shutdown: every handler still running is aborted; its lease is handed back afterwards. */
  abortAll(reason: string): void {
    for (const k of [...this.running.keys()]) this.abortRunning(k, reason);
  }

  private untrack(key: string): void {
    const running = this.running.get(key);
    if (!running) return;
    this.running.delete(key);
    const id = running.work.executionId;
    const left = (this.runningPer.get(id) ?? 1) - 1;
    if (left > 0) this.runningPer.set(id, left);
    else this.runningPer.delete(id);
  }
}
