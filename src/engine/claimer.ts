import type { Clock, TimerHandle } from '../core/clock.js';
import type { NewWork, Store, WorkItem, WorkKind } from '../core/store.js';
import type { Input, Rerun } from './inputs.js';
import type { Ledger } from './ledger.js';
import type { Logger } from './logger.js';
import { HAND_BACK_DELAY_MS, mayHaveRunBefore } from './previous-runs.js';
import { refKey } from '../core/work-ref.js';

/** Timers are applied in a commit, not run: they are claimed in batches of this many, capacity or not. */
const TIMER_CLAIM_BATCH = 512;
/**
 * While timer claims come back full (a burst of firings), handler work is claimed only every this
 * many rounds: the follow-up steps of earlier firings would otherwise share every commit round
 * with the firings still due, and every firing would be later. Never more than this, so handler
 * work due during a long burst is not starved.
 */
const TASK_CLAIM_EVERY_IN_BURST = 4;
/** Row kinds that start a handler here, claimed only up to free capacity. */
const HANDLER_KINDS: WorkKind[] = ['task', 'compensation'];
/** At most this many rows written here are remembered as never run elsewhere (see scheduledHere). */
const WRITTEN_HERE_MAX = 100_000;
/** Row kinds applied in a commit like timers: a lapsed outside wait, a child's start, a stop request, a parent's wait for its child, a correlated event. */
const APPLIED_KINDS: WorkKind[] = ['timer', 'outside', 'start', 'stop', 'child', 'event'];

export interface ClaimerDeps {
  store: Store;
  clock: Clock;
  ledger: Ledger;
  log: Logger;
  workerId: string;
  leaseMs: number;
  /** Longest sleep between looks for due work when nothing wakes the claimer sooner. */
  pollIntervalMs: number;
  /** Hands a claimed row to the commit loop. */
  deliver(executionId: string, input: Input): void;
  /** Hands due `child` rows to the door that reads their children's outcomes (then delivers them). */
  childrenDue(rows: WorkItem[]): Promise<void>;
  /** Hands due 'event' rows to the door that reads their correlated events (then delivers them). */
  eventsDue(rows: WorkItem[]): Promise<void>;
  /** Resolves once the commit under way (if any) has been applied. */
  commitSettled(): Promise<void>;
  /** Runs a claim while no commit is between the store and its apply (CommitLoop.between). */
  betweenCommits<T>(fn: () => Promise<T>): Promise<T>;
  /** Reads whether claimed rows ran before (see previous-runs.ts). */
  findPreviousRuns(claims: WorkItem[], reason: Rerun['reason']): Promise<Map<string, Rerun>>;
}

/**
 * Finds due work in the store and leases it to this process: timers in batches, handler work up
 * to free capacity. It sleeps until the next due time (the wake-up timer, which commits here also
 * set), and renews the lease of every row this process holds.
 */
export class Claimer {
  private started = false;
  private stopped = false;
  private startedAt = 0;
  private claiming = false;
  private claimAgain = false;
  /** Rounds in a row whose timer claim came back full. */
  private burstRounds = 0;
  /** Due handler work was left unclaimed for want of capacity: poll again when a handler finishes. */
  private backlogged = false;
  private wakeTimer: TimerHandle | undefined;
  private wakeTime = Infinity;
  private renewTimer: TimerHandle | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Handler rows this process wrote unleased that a rerun check would otherwise read the history for. */
  private readonly writtenHere = new Set<string>();

  constructor(private readonly deps: ClaimerDeps) {}

  /** True while a claim is under way. */
  get polling(): boolean {
    return this.claiming;
  }

  start(): void {
    const { store, clock } = this.deps;
    this.started = true;
    this.startedAt = clock.now();
    this.unsubscribe = store.onWorkAvailable?.(() => void this.poll());
    // On an exclusive store a claim holds until the process ends: nothing to renew.
    if (!store.exclusive) this.scheduleRenewal();
    void this.poll();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.wakeTimer) this.deps.clock.clearTimeout(this.wakeTimer);
    if (this.renewTimer) this.deps.clock.clearTimeout(this.renewTimer);
  }

  /** Looks for due work no later than `at`. */
  wakeAt(at: number): void {
    if (this.stopped || !this.started) return;
    if (at >= this.wakeTime) return;
    const { clock } = this.deps;
    if (this.wakeTimer) clock.clearTimeout(this.wakeTimer);
    this.wakeTime = at;
    this.wakeTimer = clock.setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeTime = Infinity;
      void this.poll();
    }, Math.max(0, at - clock.now()));
  }

  /**
   * Rows a commit of this process wrote (and that landed). On an exclusive store a row can have
   * been started before only by an earlier process, so the rows the rerun check would suspect
   * (due within a minute of start-up, see mayHaveRunBefore) but that this process wrote itself
   * need no history read when claimed: a burst of work right after a restart would otherwise
   * read one history per claim. Best effort: a row missed here is checked as before.
   */
  scheduledHere(rows: NewWork[]): void {
    const { store } = this.deps;
    if (!store.exclusive || !this.started) return;
    const window = this.startedAt + HAND_BACK_DELAY_MS;
    for (const w of rows) {
      if (w.leaseOwner !== undefined || w.dueAt >= window || (w.kind !== 'task' && w.kind !== 'compensation')) continue;
      if (this.writtenHere.size >= WRITTEN_HERE_MAX) return;
      this.writtenHere.add(refKey(w));
    }
  }

  /** A handler finished: if due work was left for want of capacity, claim it now. */
  slotFreed(): void {
    if (this.backlogged && this.deps.ledger.freeCapacity() > 0) void this.poll();
  }

  /** Claims due timers, and due handler work up to free capacity; then sleeps until the next due time. */
  async poll(): Promise<void> {
    if (this.stopped || !this.started) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = true;
    let more = false;
    try {
      more = await this.deps.betweenCommits(() => this.claimDue());
    } catch (error) {
      this.deps.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'claiming work failed; retrying');
      this.wakeAt(this.deps.clock.now() + 500);
    } finally {
      this.claiming = false;
    }
    if (more || this.claimAgain) {
      this.claimAgain = false;
      await this.deps.commitSettled();
      setImmediate(() => void this.poll());
    }
  }

  /**
   * Hands the due `child` rows to the child door (which reads the children), or 'event' rows to
   * the correlated door (which reads their events). The rows are held here already, so a later claim will not return them: a failed read is retried until it lands
   * or the engine stops, or their executions would wait for good.
   */
  private deliverChildren(rows: WorkItem[], read = this.deps.childrenDue, what = "reading children's ends"): void {
    if (rows.length === 0) return;
    read(rows).catch((error: unknown) => {
      this.deps.log.warn({ err: error instanceof Error ? error.message : String(error), rows: rows.length }, `${what} failed; retrying`);
      if (!this.stopped) setTimeout(() => this.deliverChildren(rows, read, what), 500).unref?.();
    });
  }

  /** One round of claims; true when a batch came back full (more may be due at once). */
  private async claimDue(): Promise<boolean> {
    const { store, clock, ledger, workerId } = this.deps;
    const now = clock.now();
    const leaseUntil = now + this.deps.leaseMs;
    // Rows applied in a commit, not run: timers, waits on the outside world that lapsed, a child's
    // start, a stop request, a parent's wait for its child.
    const timers = await store.claimWork({ owner: workerId, now, leaseUntil, limit: TIMER_CLAIM_BATCH, kinds: APPLIED_KINDS });
    const childRows: WorkItem[] = [];
    const eventRows: WorkItem[] = [];
    for (const w of this.notTaken(timers)) {
      ledger.hold(w);
      if (w.kind === 'child') childRows.push(w);
      else if (w.kind === 'event') eventRows.push(w);
      else if (w.kind === 'start') this.deps.deliver(w.executionId, { kind: 'begin', work: w });
      else if (w.kind === 'stop') this.deps.deliver(w.executionId, { kind: 'stop', work: w });
      else if (w.kind === 'outside') this.deps.deliver(w.executionId, { kind: 'expired', work: w });
      else this.deps.deliver(w.executionId, { kind: 'timer', work: w });
    }
    this.deliverChildren(childRows);
    this.deliverChildren(eventRows, this.deps.eventsDue, 'reading correlated events');
    const burst = timers.length === TIMER_CLAIM_BATCH;
    this.burstRounds = burst ? this.burstRounds + 1 : 0;
    const deferTasks = burst && this.burstRounds % TASK_CLAIM_EVERY_IN_BURST !== 0;
    const capacity = deferTasks ? 0 : ledger.freeCapacity();
    let tasks: WorkItem[] = [];
    if (capacity > 0) {
      tasks = await store.claimWork({ owner: workerId, now, leaseUntil, limit: capacity, kinds: HANDLER_KINDS });
      const fresh = this.notTaken(tasks);
      for (const w of fresh) {
        ledger.hold(w);
        ledger.reserve(refKey(w));
      }
      const reruns = await this.previousRuns(fresh);
      for (const w of fresh) {
        const rerun = reruns.get(refKey(w));
        this.deps.deliver(w.executionId, rerun ? { kind: 'claimed', work: w, rerun } : { kind: 'claimed', work: w });
      }
    }
    this.backlogged = capacity <= 0 || tasks.length === capacity;
    const more = burst || (capacity > 0 && tasks.length === capacity);
    if (!more) {
      const after = clock.now();
      const next = this.backlogged ? undefined : await store.nextDueAt(after);
      this.wakeAt(Math.max(after + 1, Math.min(next ?? Infinity, after + this.deps.pollIntervalMs)));
    }
    return more;
  }

  /**
   * Drops rows this process already holds or is committing a launch of: they came back because
   * their lease lapsed while their work was in flight here; the claim renewed the lease, and the
   * work is already under way, so it is not queued twice.
   */
  private notTaken(rows: WorkItem[]): WorkItem[] {
    return rows.filter((w) => !this.deps.ledger.isTaken(refKey(w)));
  }

  private previousRuns(claims: WorkItem[]): Promise<Map<string, Rerun>> {
    const { store } = this.deps;
    const suspects = claims.filter((w) => !this.writtenHere.delete(refKey(w)) && mayHaveRunBefore(w, { exclusive: store.exclusive, startedAt: this.startedAt }));
    if (suspects.length === 0) return Promise.resolve(new Map());
    return this.deps.findPreviousRuns(suspects, store.exclusive ? 'process-restarted' : 'lease-expired');
  }

  /** Renews every held lease every third of the lease; a lease lost to another worker aborts its handler. */
  private scheduleRenewal(): void {
    if (this.stopped) return;
    const { clock, ledger, store } = this.deps;
    this.renewTimer = clock.setTimeout(async () => {
      const refs = ledger.heldRefs();
      if (refs.length > 0) {
        try {
          ledger.loseLeases((await store.renewLeases(this.deps.workerId, refs, clock.now() + this.deps.leaseMs)).map(refKey));
        } catch (error) {
          this.deps.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'lease renewal failed');
        }
      }
      this.scheduleRenewal();
    }, Math.max(50, Math.floor(this.deps.leaseMs / 3)));
  }
}
