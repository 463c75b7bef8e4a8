/**
 * The door for work finished outside the engine (docs/handlers.md): polls take a worker step's
 * attempt from its queue, and answers and heartbeats come back with the task token. Each is one
 * input through the commit loop, so an answer applies once, and only while its token is current.
 */
import type { Clock } from '../core/clock.js';
import type { Store } from '../core/store.js';
import { refKey } from '../core/work-ref.js';
import { deferred, type Deferred, type HandedTask, type HandlerOutcome, type Input } from './inputs.js';
import type { Ledger } from './ledger.js';
import { hashTaskToken, isTaskToken, newTaskToken } from './task-tokens.js';

export interface TaskDoorDeps {
  store: Store;
  clock: Clock;
  ledger: Ledger;
  workerId: string;
  leaseMs: number;
  deliver(executionId: string, input: Input): void;
}

export interface PolledTask extends HandedTask {
  taskToken: string;
}

export type AnswerResult = 'applied' | 'not-current' | 'malformed';

/** How often a waiting poll looks at the store again when nothing woke it (work due later, other processes). */
const POLL_RECHECK_MS = 250;

export class TaskDoor {
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Callback tokens handed out here whose wait is not committed yet: an early answer waits for it. */
  private readonly pending = new Map<string, Deferred<void>>();

  constructor(private readonly deps: TaskDoorDeps) {}

  /** Wakes the polls waiting on these queues (in process; other processes recheck on their own). */
  queued(queues: string[]): void {
    for (const q of queues) for (const wake of this.waiters.get(q) ?? []) wake();
  }

  /** Wakes every waiting poll (new work may have been committed by another process). */
  wakeAll(): void {
    for (const set of this.waiters.values()) for (const wake of set) wake();
  }

  /**
   * Waits up to `waitMs` for a task of `queue`; the task's StepStarted and token are committed
   * before it is returned. `gone` aborts the wait (the client went away), dropping the waiter.
   */
  async poll(queue: string, pollerId: string, waitMs: number, gone: AbortSignal): Promise<PolledTask | undefined> {
    const { clock } = this.deps;
    const until = clock.now() + waitMs;
    while (!gone.aborted) {
      const task = await this.takeOne(queue, pollerId);
      if (task) return task;
      const left = until - clock.now();
      if (left <= 0) return undefined;
      await this.sleep(queue, Math.min(left, POLL_RECHECK_MS), gone);
    }
    return undefined;
  }

  /** The poll's client went away before hearing of the task: it goes back to its queue. */
  async release(token: string): Promise<void> {
    await this.answer(token, 'requeue');
  }

  async answer(token: string, outcome: HandlerOutcome | 'requeue'): Promise<AnswerResult> {
    if (!isTaskToken(token)) return 'malformed';
    const hash = hashTaskToken(token);
    const { store, clock, ledger, workerId, leaseMs } = this.deps;
    let work = await store.claimByToken(hash, workerId, clock.now(), clock.now() + leaseMs);
    if (!work && this.pending.has(hash)) {
      // A callback answered before its function returned: wait for the wait to be committed.
      await this.pending.get(hash)!.promise;
      work = await store.claimByToken(hash, workerId, clock.now(), clock.now() + leaseMs);
    }
    if (!work) return 'not-current';
    ledger.hold(work);
    const done = deferred<boolean>();
    this.deps.deliver(work.executionId, { kind: 'answer', work, outcome, done });
    const applied = await done.promise;
    if (!applied) ledger.unhold(refKey(work));
    return applied ? 'applied' : 'not-current';
  }

  async heartbeat(token: string): Promise<AnswerResult> {
    if (!isTaskToken(token)) return 'malformed';
    return (await this.deps.store.extendByToken(hashTaskToken(token), this.deps.clock.now())) ? 'applied' : 'not-current';
  }

  /** A token for a callback step, held as pending until its wait is committed (or dropped). */
  issueToken(): { token: string; hash: string; settled(): void } {
    const token = newTaskToken();
    const hash = hashTaskToken(token);
    const d = deferred<void>();
    this.pending.set(hash, d);
    return { token, hash, settled: () => { this.pending.delete(hash); d.resolve(); } };
  }

  private async takeOne(queue: string, pollerId: string): Promise<PolledTask | undefined> {
    const { store, clock, workerId, leaseMs } = this.deps;
    for (;;) {
      const now = clock.now();
      const [work] = await store.claimWork({ owner: workerId, now, leaseUntil: now + leaseMs, limit: 1, kinds: ['queued'], queue });
      if (!work) return undefined;
      const taskToken = newTaskToken();
      const done = deferred<HandedTask | undefined>();
      this.deps.deliver(work.executionId, { kind: 'handout', work, workerId: pollerId, tokenHash: hashTaskToken(taskToken), done });
      const task = await done.promise;
      if (task) return { taskToken, ...task };
      // The step no longer wanted it (cancelled meanwhile): look for another.
    }
  }

  private sleep(queue: string, ms: number, gone: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      let set = this.waiters.get(queue);
      if (!set) this.waiters.set(queue, (set = new Set()));
      const waiters = set;
      const timer = setTimeout(finish, ms);
      function finish(): void {
        clearTimeout(timer);
        waiters.delete(finish);
        gone.removeEventListener('abort', finish);
        resolve();
      }
      waiters.add(finish);
      gone.addEventListener('abort', finish, { once: true });
    }).then(() => {
      if (this.waiters.get(queue)?.size === 0) this.waiters.delete(queue);
    });
  }
}
