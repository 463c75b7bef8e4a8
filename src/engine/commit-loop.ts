import type { Clock } from '../core/clock.js';
import type { EngineObserver } from '../core/observer.js';
import { isStoreUnavailable, StepwiseError } from '../core/errors.js';
import { isTerminalStatus } from '../core/status.js';
import type { CommitOutcome, ExecutionCommit, NewWork, Store, WorkItem } from '../core/store.js';
import type { Workflow } from '../dsl/workflow.js';
import { BacklogCache } from './backlog-cache.js';
import { loadBatch, releaseClaims, type LoaderDeps } from './batch-loader.js';
import { CommitWriter } from './commit-writer.js';
import { draftStep } from './draft-step.js';
import { settle, type Draft, type Live, type StepEnv } from './draft.js';
import { settleUnapplied, type Input } from './inputs.js';
import type { Ledger } from './ledger.js';
import type { Logger } from './logger.js';
import { refKey, toRef } from '../core/work-ref.js';

/** Named points of the loop where crash tests kill the process (see EngineOptions.faultPoint). */
export type FaultPoint = (point: 'before-commit' | 'after-commit', info: { events: number; executions: number }) => void;

export interface CommitLoopDeps {
  store: Store;
  clock: Clock;
  ledger: Ledger;
  log: Logger;
  workerId: string;
  leaseMs: number;
  random: () => number;
  faultPoint?: FaultPoint;
  observer?: EngineObserver;
  workflowVersion(name: string, version: string): Workflow | undefined;
  /** The version new executions of a workflow start on (an invoke's child), if registered. */
  workflowNamed(name: string): Workflow | undefined;
  isStopping(): boolean;
  /** Runs a committed launch's handler. */
  launch(live: Live, work: WorkItem): void;
  /** Work was scheduled for `at` (or is backlogged, at now): look for due work then. */
  wakeAt(at: number): void;
  /** Queues that got work to hand out (polls waiting on them wake). */
  queued?(queues: string[]): void;
  /** A commit here ended the execution (the commit that did, with its output or error). */
  ended(executionId: string, commit: ExecutionCommit): void;
  /** Rows a commit here wrote (landed), for the claimer's rerun check. */
  scheduled?(rows: NewWork[]): void;
  /** The store can no longer make a commit durable (STORE_SYNC_FAILED): only a restart helps. */
  storeFailed?(error: StepwiseError): void;
}

const NONE: ReadonlySet<string> = new Set();
const NO_INFO = { events: 0, executions: 0 };

/**
 * Group commit: inputs wait in a per-execution inbox; each round takes all of them, loads the
 * executions, computes one draft per execution, writes every draft in one store call and, once
 * that has landed, applies each draft (settles callers, starts handlers, sets the wake-up).
 * Nothing is acknowledged and no handler starts before its commit lands.
 *
 * One round is under way at a time: the next begins once the last has been applied, and inputs
 * that arrive meanwhile (while its WAL syncs, off the event loop) wait in the inbox for it, so
 * every draft starts from applied state. (Overlapping rounds, the next written while the last
 * syncs, were measured in issue 12 round 3: smaller transactions over HTTP, more CPU per start,
 * no more starts/s; docs/performance.md.)
 */
export class CommitLoop {
  private inbox = new Map<string, Input[]>();
  private flushQueued = false;
  /** The round under way (loading, drafting, writing or applying), if any. */
  private round: Promise<void> | undefined;
  /** Callers of `between` waiting or running: no round begins meanwhile. */
  private paused = 0;
  /** Executions with work in flight here, as of their last commit; dropped when no handler runs. */
  private readonly live = new Map<string, Live>();
  /** Executions waiting for the claim of a backlogged step, as their last commit left them (exclusive stores only). */
  private readonly backlogged: BacklogCache | undefined;
  /** An execution's state held here, if any: a backlogged one is taken out for the round that asks. */
  private readonly cached = (id: string): Live | undefined => {
    const backlogged = this.backlogged?.take(id);
    return this.live.get(id) ?? backlogged;
  };
  /** Executions whose inputs keep failing to apply, with their count of failures in a row. */
  private readonly failing = new Map<string, number>();
  private readonly writer: CommitWriter;
  private readonly loader: LoaderDeps;

  constructor(private readonly deps: CommitLoopDeps) {
    this.writer = new CommitWriter(deps.store, deps.log);
    if (deps.store.exclusive) this.backlogged = new BacklogCache();
    this.loader = { store: deps.store, clock: deps.clock, ledger: deps.ledger, log: deps.log, workflowVersion: deps.workflowVersion };
  }

  enqueue(id: string, input: Input): void {
    const list = this.inbox.get(id);
    if (list) list.push(input);
    else this.inbox.set(id, [input]);
    this.queueFlush();
  }

  /** True while inputs wait for a round that has not begun. */
  get hasQueued(): boolean {
    return this.inbox.size > 0 || this.flushQueued;
  }

  /** The round under way, if any: resolves once it has been applied. */
  get current(): Promise<void> | undefined {
    return this.round;
  }

  /** The same, resolved at once when no round is under way. */
  settled(): Promise<void> {
    return this.round ?? Promise.resolve();
  }

  /**
   * Runs `fn` while no round is under way, holding new rounds back until it ends. Claims run so:
   * a commit is in the store before it is applied here (its WAL syncs in between), and a claim
   * of a row it wrote, made in that gap, would have its hold undone by the commit's own apply.
   */
  async between<T>(fn: () => Promise<T>): Promise<T> {
    this.paused++;
    try {
      while (this.round) await this.round;
      return await fn();
    } finally {
      if (--this.paused === 0 && this.inbox.size > 0) this.queueFlush();
    }
  }

  /** Shutdown: a batch still backing off from a store outage is abandoned (nothing of it was written). */
  abandonWrites(): void {
    this.writer.abandonRetries();
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => this.flush());
  }

  /** Begins a round with every input waiting, unless a round or a claim is under way. */
  private flush(): void {
    this.flushQueued = false;
    if (this.round || this.paused > 0 || this.inbox.size === 0) return;
    const batch = this.inbox;
    this.inbox = new Map();
    const round: Promise<void> = this.commitBatch(batch)
      .catch((error) => this.deps.log.error({ err: error }, 'commit loop failed'))
      .finally(() => {
        this.round = undefined;
        if (this.inbox.size > 0 && this.paused === 0) this.flush();
      });
    this.round = round;
  }

  /** One round: every execution's inputs since the last round, in one store call. */
  private async commitBatch(batch: Map<string, Input[]>): Promise<void> {
    const { ledger, clock } = this.deps;
    const { ready, failed } = await loadBatch(batch, this.cached, this.loader);
    for (const f of failed) this.requeueLater(f.id, f.inputs, f.error);
    const drafts: Draft[] = [];
    const env: StepEnv = {
      now: 0, freeCapacity: ledger.freeCapacity(), workerId: this.deps.workerId, leaseMs: this.deps.leaseMs, random: this.deps.random,
      stopping: this.deps.isStopping(), workflowNamed: this.deps.workflowNamed,
    };
    for (const { live, inputs } of ready) {
      try {
        env.now = clock.now();
        const draft = draftStep(live, inputs, env);
        env.freeCapacity -= draft.reserve.length;
        if (draft.commit) drafts.push(draft);
        else this.apply(draft, live.lastSeq, NONE);
      } catch (error) {
        this.requeueLater(live.id, inputs, error);
      }
    }
    if (drafts.length === 0) return;
    // While the batch is written, its launches hold capacity: the claimer must not promise it again.
    for (const d of drafts) ledger.beginCommit(d.reserve);
    try {
      await this.write(drafts);
    } finally {
      ledger.endCommit();
    }
  }

  private async write(drafts: Draft[]): Promise<void> {
    const { clock, store, faultPoint, observer } = this.deps;
    // Counted only for whoever listens (crash tests, metrics).
    const info = faultPoint || observer?.commitDone ? { events: drafts.reduce((n, d) => n + d.commit!.events.length, 0), executions: drafts.length } : NO_INFO;
    const draftedAt = clock.now();
    faultPoint?.('before-commit', info);
    let outcomes: CommitOutcome[];
    try {
      outcomes = await this.writer.write(drafts.map((d) => d.commit!));
    } catch (error) {
      if (error instanceof StepwiseError) this.deps.observer?.storeError?.(error.code);
      if (error instanceof StepwiseError && error.code === 'STORE_SYNC_FAILED') {
        // Final: every later commit fails the same way, so retrying would only leave callers
        // waiting for ever. They hear it now; the process must be restarted (docs/errors.md).
        for (const d of drafts) {
          this.live.delete(d.base.id);
          for (const i of d.inputs) settleUnapplied(i, error);
          releaseClaims(d.inputs, this.deps.ledger);
        }
        this.deps.storeFailed?.(error);
        return;
      }
      const stopping = this.deps.isStopping();
      if (drafts.length > 1 && !isStoreUnavailable(error) && !stopping) {
        // Not a storage fault: one commit of the batch cannot be written (a bug, or a value the
        // store refuses). Commit each alone so that one execution cannot stall the others.
        for (const d of drafts) await this.write([d]);
        return;
      }
      for (const d of drafts) {
        this.live.delete(d.base.id);
        if (stopping) this.abandon(d.inputs);
        else this.requeueLater(d.base.id, d.inputs, error);
      }
      return;
    }
    faultPoint?.('after-commit', info);
    observer?.commitDone?.({ events: info.events, executions: info.executions, durationMs: clock.now() - draftedAt });
    const slow = !store.exclusive && clock.now() - draftedAt > this.deps.leaseMs / 3;
    const lost = slow ? await this.confirmLaunches(drafts, outcomes) : NONE;
    drafts.forEach((d, i) => {
      const outcome = outcomes[i];
      try {
        if (outcome.ok) this.apply(d, outcome.lastSeq, lost, outcome.snapshotChars);
        else this.refused(d, outcome);
      } catch (error) {
        // The commit landed; only the follow-up failed (a bug). Forget the cached state so the
        // next input reloads it from the store, and let the others carry on.
        this.live.delete(d.base.id);
        this.deps.log.error({ err: error instanceof Error ? error.message : String(error), executionId: d.base.id }, 'after-commit step failed');
      }
    });
  }

  /**
   * A commit that took a good part of the lease may have landed with the leases of the steps it
   * claimed for this process already lapsed, and another process may have claimed them. Renew
   * them before running anything: a step whose lease cannot be renewed is someone else's now.
   */
  private async confirmLaunches(drafts: Draft[], outcomes: CommitOutcome[]): Promise<ReadonlySet<string>> {
    const refs = drafts.flatMap((d, i) => (outcomes[i].ok ? d.launches.map(toRef) : []));
    if (refs.length === 0) return NONE;
    try {
      return new Set((await this.deps.store.renewLeases(this.deps.workerId, refs, this.deps.clock.now() + this.deps.leaseMs)).map(refKey));
    } catch {
      return new Set(refs.map(refKey)); // cannot tell: run none; their leases expire and they are claimed again
    }
  }

  /** The draft's commit landed (or it had nothing to write): everything it lists happens now. */
  private apply(draft: Draft, lastSeq: number, lost: ReadonlySet<string>, snapshotChars?: number): void {
    const { ledger } = this.deps;
    const id = draft.base.id;
    const live: Live = draft.commit
      ? { ...draft.base, snapshot: draft.snapshot, lastSeq, status: draft.commit.status, ...(draft.transitions !== undefined ? { transitions: draft.transitions } : {}) }
      : draft.base;
    if (draft.commit) this.failing.delete(id);
    if (draft.commit?.schedule && draft.commit.schedule.length > 0) this.deps.scheduled?.(draft.commit.schedule);
    if (draft.commit) {
      this.deps.observer?.committed?.({ workflow: live.wf.name, executionId: id, events: draft.commit.events, trace: live.trace, firstSeq: draft.commit.expectedSeq + 1 });
    }
    for (const k of draft.unhold) ledger.unhold(k);
    for (const k of draft.release) ledger.unreserve(k);
    for (const s of draft.settle) settle(s);
    for (const k of draft.aborts) ledger.abortRunning(k, 'the step was left (cancel or failure elsewhere)');
    const stopping = this.deps.isStopping();
    for (const work of draft.launches) {
      const k = refKey(work);
      if (lost.has(k)) {
        ledger.unreserve(k);
        ledger.unhold(k);
      } else if (stopping) {
        // Shutting down: start nothing new; stop() hands the lease back for the next process.
        ledger.unreserve(k);
        ledger.hold(work);
      } else {
        this.deps.launch(live, work);
      }
    }
    if (draft.wakeAt !== undefined) this.deps.wakeAt(draft.wakeAt);
    if (draft.backlog) this.deps.wakeAt(this.deps.clock.now());
    if (draft.queued.length > 0) this.deps.queued?.(draft.queued);
    if (draft.commit && isTerminalStatus(live.status)) this.deps.ended(id, draft.commit);
    if (ledger.hasRunning(id)) {
      this.live.set(id, live);
    } else {
      this.live.delete(id);
      // A step of it waits for capacity: its claim will find it here instead of reading and restoring it.
      if (draft.backlog && draft.commit && !isTerminalStatus(live.status)) this.backlogged?.keep(live, snapshotChars);
    }
  }

  /** The store refused the draft's commit: nothing of it happened; its inputs are tried again. */
  private refused(draft: Draft, outcome: Exclude<CommitOutcome, { ok: true }>): void {
    const id = draft.base.id;
    this.live.delete(id);
    if (outcome.reason === 'exists') {
      // Another process created the id first: starts hear `undefined` and compare inputs.
      for (const i of draft.inputs) if (i.kind === 'create') i.done.resolve(undefined);
      this.requeue(id, draft.inputs.filter((i) => i.kind !== 'create'));
      return;
    }
    if (outcome.reason === 'lease-lost') {
      // A result whose row someone else holds now is refused in the history; a claim or timer of
      // that row is not ours any more.
      const lost = refKey(outcome.work);
      this.deps.ledger.unhold(lost);
      const retry: Input[] = [];
      for (const i of draft.inputs) {
        if (!('work' in i) || refKey(i.work) !== lost) retry.push(i);
        else if (i.kind === 'result') retry.push({ ...i, leaseLost: true });
        else if (i.kind === 'claimed') this.deps.ledger.unreserve(lost);
        else if (i.kind === 'handout') i.done.resolve(undefined);
        else if (i.kind === 'answer') i.done.resolve(false);
        else if (i.kind === 'await') i.settled();
      }
      this.requeue(id, retry);
      return;
    }
    this.requeue(id, draft.inputs); // conflict: reload and recompute
  }

  private requeue(id: string, inputs: Input[]): void {
    for (const i of inputs) {
      if (i.kind === 'claimed') this.deps.ledger.reserve(refKey(i.work));
      this.enqueue(id, i);
    }
  }

  /**
   * Inputs that could not be applied (the execution cannot be loaded, or its commit fails for a
   * reason other than a storage fault): retried with a per-execution backoff, 1 s doubling to
   * 5 min, and logged each time, so a broken execution neither spins nor goes unnoticed.
   */
  private requeueLater(id: string, inputs: Input[], error: unknown): void {
    if (this.deps.isStopping()) {
      this.abandon(inputs);
      return;
    }
    const failures = (this.failing.get(id) ?? 0) + 1;
    this.failing.set(id, failures);
    const delayMs = Math.min(300_000, 1000 * 2 ** (failures - 1));
    this.deps.log.error({ err: error instanceof Error ? error.message : String(error), executionId: id, failures, retryInMs: delayMs }, 'could not apply inputs to an execution');
    releaseClaims(inputs, this.deps.ledger);
    setTimeout(() => (this.deps.isStopping() ? this.abandon(inputs) : this.requeue(id, inputs)), delayMs).unref?.();
  }

  /** The engine stopped before these inputs could be committed: whoever waits on them hears so. */
  private abandon(inputs: Input[]): void {
    const error = new StepwiseError('ENGINE_STOPPING', 'the engine stopped before this could be committed');
    for (const i of inputs) settleUnapplied(i, error);
    releaseClaims(inputs, this.deps.ledger);
  }
}
