import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import pRetry from 'p-retry';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { StepwiseError } from '../core/errors.js';
import type { HistoryEvent } from '../core/events.js';
import { isValidExecutionId, newExecutionId } from '../core/ids.js';
import { canonicalJson, toJson } from '../core/json.js';
import { EXECUTION_STATUSES, ExecutionStatus, isTerminalStatus } from '../core/status.js';
import type {
  CommitOutcome, ExecutionCommit, ExecutionSummary, Store, StoredExecution, WorkItem, WorkRef,
} from '../core/store.js';
import { parseStepKey, type WorkflowContext } from '../dsl/machine-types.js';
import type { Workflow, WorkflowDescription } from '../dsl/workflow.js';
import { restore, type Snapshot } from './decide.js';
import { DraftBuilder } from './draft-builder.js';
import { runHandler, type HandlerOutcome } from './handler-runner.js';
import {
  deferred, isEmptyDraft, refKey, summaryOf, toRef, type Draft, type Input, type Live, type Running,
} from './step-types.js';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EngineOptions {
  store: Store;
  clock?: Clock;
  /** Names this process in history (StepStarted data.worker) and in leases. @default host:pid:random */
  workerId?: string;
  /** Handlers running at once in this process. @default 128 */
  concurrency?: number;
  /** How long a claim holds before another worker may take the work over; renewed while a handler runs. @default 30000 */
  leaseMs?: number;
  /**
   * Longest sleep between looks for due work when nothing wakes the engine sooner. @default 1000;
   * unbounded on an exclusive store (SQLite), where every due time comes from this process's own
   * commits, each of which sets the wake-up timer.
   */
  pollIntervalMs?: number;
  /** A handler output over this many bytes fails its step with Stepwise.OutputTooLarge. @default 262144 */
  maxOutputBytes?: number;
  /** An execution input over this many bytes is refused. @default 1048576 */
  maxInputBytes?: number;
  /** Source of randomness for retry jitter (tests pass a seeded one). */
  random?: () => number;
  logger?: Logger;
  /**
   * Called at named points of the step loop; crash tests pass a function that kills the process
   * there (DBOS's debug points, in spirit). 'before-commit': a batch is built, nothing written;
   * 'after-commit': the batch is durable, no handler started for it yet.
   */
  faultPoint?: (point: 'before-commit' | 'after-commit', info: { events: number; executions: number }) => void;
}

const silentLogger: Logger = { info() {}, warn: (o, m) => console.warn(m ?? '', o), error: (o, m) => console.error(m ?? '', o) };
const TIMER_CLAIM_BATCH = 512;
/** Work for a definition version this process lacks is handed back, due again after this. */
const HAND_BACK_DELAY_MS = 60_000;
/** A claim on an exclusive store lasts as long as the process (about 285,000 years). */
const EXCLUSIVE_LEASE_MS = 2 ** 53 / 1000;

/**
 * The durable engine. It drives each execution's machine with pure transitions, commits every
 * step of progress (events, snapshot, work rows) before acting on it, and runs handlers outside
 * any transaction. Work is rows with a due time and a lease; whatever this process holds when it
 * dies is taken over when the lease expires (or at once by the next process on an SQLite file).
 */
export class Engine {
  readonly workerId: string;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly pollIntervalMs: number;
  private readonly maxOutputBytes: number;
  private readonly maxInputBytes: number;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly faultPoint: EngineOptions['faultPoint'];
  private readonly drafts: DraftBuilder;

  private readonly versions = new Map<string, Map<string, Workflow>>();
  private readonly latest = new Map<string, Workflow>();
  private readonly live = new Map<string, Live>();
  private readonly running = new Map<string, Running>();
  /**
   * Every work row this process holds a lease on: claimed, running, or with a result waiting to
   * commit. All of them are renewed, not only running handlers: a lease that lapsed while a result
   * waited for its commit would let another claim re-run a completed step.
   */
  private readonly held = new Map<string, WorkRef>();
  /** How many handlers run per execution: an execution stays in memory while it has any. */
  private readonly runningPer = new Map<string, number>();
  private inbox = new Map<string, Input[]>();
  /**
   * Capacity promised to work not yet running: claims waiting for their StepStarted commit and
   * launches waiting for theirs. A set of work keys, so a release that happens on two paths
   * (a failed commit, then a requeue) cannot count twice.
   */
  private readonly reservations = new Set<string>();
  /** Executions whose inputs keep failing to apply, with their count of failures in a row. */
  private readonly failing = new Map<string, number>();
  private get reserved(): number {
    return this.reservations.size;
  }
  private flushQueued = false;
  private flushing: Promise<void> | undefined;
  private polling = false;
  /** Due handler work was left unclaimed for want of capacity: poll again when a handler finishes. */
  private backlogged = false;
  private pollAgain = false;
  private wakeTimer: TimerHandle | undefined;
  private wakeTime = Infinity;
  private renewTimer: TimerHandle | undefined;
  private started = false;
  private stopping = false;
  private readonly stopController = new AbortController();
  private readonly waiters = new Map<string, Array<(s: ExecutionStatus) => void>>();
  private unsubscribe: (() => void) | undefined;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.concurrency = options.concurrency ?? 128;
    this.pollIntervalMs = options.pollIntervalMs ?? (this.store.exclusive ? Number.POSITIVE_INFINITY : 1000);
    // On an exclusive store no other process can take work over, so a claim holds until this
    // process ends (the next one voids every lease at start-up) and needs no renewal.
    this.leaseMs = this.store.exclusive ? EXCLUSIVE_LEASE_MS : options.leaseMs ?? 30_000;
    this.maxOutputBytes = options.maxOutputBytes ?? 256 * 1024;
    this.maxInputBytes = options.maxInputBytes ?? 1024 * 1024;
    this.random = options.random ?? Math.random;
    this.log = options.logger ?? silentLogger;
    this.faultPoint = options.faultPoint;
    this.drafts = new DraftBuilder({
      workerId: this.workerId,
      leaseMs: this.leaseMs,
      random: this.random,
      canRunNow: () => !this.stopping && this.running.size + this.reserved < this.concurrency,
      isStopping: () => this.stopping,
      reservations: this.reservations,
    });
  }

  // ---- registry ---------------------------------------------------------------------------

  /** Registers workflows; the last registered version of a name is the one new executions use. */
  register(...workflows: Workflow<any>[]): this {
    for (const wf of workflows) {
      const byVersion = this.versions.get(wf.name) ?? new Map<string, Workflow>();
      byVersion.set(wf.version, wf);
      this.versions.set(wf.name, byVersion);
      this.latest.set(wf.name, wf);
    }
    return this;
  }

  listWorkflows(): WorkflowDescription[] {
    return [...this.latest.values()].map((wf) => wf.describe());
  }

  describeWorkflow(name: string): WorkflowDescription {
    return this.workflowNamed(name).describe();
  }

  private workflowNamed(name: string): Workflow {
    const wf = this.latest.get(name);
    if (!wf) throw new StepwiseError('WORKFLOW_NOT_FOUND', `no workflow named '${name}' is registered`, { workflow: name });
    return wf;
  }

  // ---- lifecycle --------------------------------------------------------------------------

  /** Starts the work loop. Unfinished executions resume: their due work is claimed as usual. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.store.exclusive) await this.store.releaseAllLeases();
    this.unsubscribe = this.store.onWorkAvailable?.(() => this.poll());
    if (!this.store.exclusive) this.scheduleRenewal();
    void this.poll();
  }

  /**
   * Stops taking work, lets running handlers finish for up to `graceMs`, commits their results,
   * then aborts the rest and hands their work back (releases the leases) for another process.
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.unsubscribe?.();
    if (this.wakeTimer) this.clock.clearTimeout(this.wakeTimer);
    if (this.renewTimer) this.clock.clearTimeout(this.renewTimer);
    const deadline = Date.now() + (options.graceMs ?? 8000);
    while (this.running.size > 0 && Date.now() < deadline) await realSleep(10);
    for (const r of this.running.values()) {
      r.discard = true;
      r.abort.abort(new Error('the engine is shutting down'));
    }
    this.running.clear();
    this.runningPer.clear();
    // Commit what finished. A store that stays unavailable gets until the grace deadline (at least
    // a second); then the commit retry loop (which waits for this abort) is abandoned: nothing of
    // it was written, and its work is still in the store for the next start.
    const drained = this.drain();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([drained, new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.max(1000, deadline - Date.now())); })]);
    clearTimeout(timer);
    this.stopController.abort();
    await drained;
    if (this.started) await this.store.releaseLeases(this.workerId).catch((e) => this.log.warn({ err: e }, 'could not release leases'));
    this.held.clear();
  }

  /** Resolves once no input is waiting, no commit is under way and no handler runs here. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.flushing) await this.flushing;
      else if (this.inbox.size > 0 || this.flushQueued) await realSleep(0);
      else if (this.running.size > 0 || this.polling) await realSleep(1);
      else return;
    }
  }

  /**
   * For tests on a virtual clock: resolves when no input waits, no commit or claim is under way,
   * no work is due now, and no handler runs (or handlers still run after `handlerGraceMs` of real
   * time: they wait on the virtual clock, e.g. for their timeout).
   */
  async idle(options: { handlerGraceMs?: number } = {}): Promise<void> {
    const since = Date.now();
    const grace = options.handlerGraceMs ?? Number.POSITIVE_INFINITY;
    for (;;) {
      if (this.flushing) {
        await this.flushing;
        continue;
      }
      if (this.inbox.size > 0 || this.flushQueued || this.polling || (this.running.size > 0 && Date.now() - since < grace)) {
        await realSleep(this.running.size > 0 ? 1 : 0);
        continue;
      }
      const now = this.clock.now();
      const due = await this.store.nextDueAt(now);
      if (due !== undefined && due <= now && this.running.size + this.reserved < this.concurrency) {
        await this.poll();
        continue;
      }
      await realSleep(0);
      if (this.inbox.size === 0 && !this.flushing && !this.flushQueued && !this.polling) return;
    }
  }

  // ---- executions -------------------------------------------------------------------------

  /**
   * Starts an execution. With an id that exists: the same workflow and an equal input return the
   * existing execution (`created: false`); anything else is EXECUTION_CONFLICT.
   */
  async startExecution(workflow: string, input: unknown, options: { id?: string } = {}): Promise<{ execution: ExecutionSummary; created: boolean }> {
    if (this.stopping) throw new StepwiseError('ENGINE_STOPPING', 'the engine is shutting down');
    const wf = this.workflowNamed(workflow);
    const id = options.id ?? newExecutionId();
    if (!isValidExecutionId(id)) {
      throw new StepwiseError('VALIDATION_FAILED', 'id must be 1-128 characters of letters, digits and ._:- starting with a letter or digit', { field: 'id' });
    }
    const checked = toJson(input, { maxBytes: this.maxInputBytes });
    if (!checked.ok) {
      throw new StepwiseError(checked.reason === 'too-deep' ? 'INPUT_TOO_DEEP' : 'VALIDATION_FAILED', `input: ${checked.message}`, { field: 'input' });
    }
    const done = deferred<ExecutionSummary | undefined>();
    const value = JSON.parse(checked.json);
    await wf.checkInput(value);
    this.enqueue(id, { kind: 'create', wf, input: value, done });
    const created = await done.promise;
    if (created) return { execution: created, created: true };
    const execution = await this.getExecution(id);
    if (execution.workflow !== wf.name || canonicalJson(execution.input) !== canonicalJson(value)) {
      throw new StepwiseError('EXECUTION_CONFLICT', `execution '${id}' exists with another ${execution.workflow !== wf.name ? 'workflow' : 'input'}`, { id });
    }
    return { execution, created: false };
  }

  async getExecution(id: string): Promise<ExecutionSummary> {
    const stored = await this.store.getExecution(id);
    if (!stored) throw new StepwiseError('EXECUTION_NOT_FOUND', `no execution has id '${id}'`, { id });
    const { snapshot: _s, lastSeq: _l, ...summary } = stored;
    return summary;
  }

  async listExecutions(query: { workflow?: string; status?: string; limit?: number; cursor?: string } = {}): Promise<{ items: ExecutionSummary[]; nextCursor?: string }> {
    if (query.status !== undefined && !EXECUTION_STATUSES.includes(query.status as ExecutionStatus)) {
      throw new StepwiseError('VALIDATION_FAILED', `status must be one of ${EXECUTION_STATUSES.join(', ')}`, { field: 'status' });
    }
    const limit = query.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new StepwiseError('VALIDATION_FAILED', 'limit must be an integer from 1 to 500', { field: 'limit' });
    return this.store.listExecutions({ workflow: query.workflow, status: query.status as ExecutionStatus | undefined, limit, cursor: query.cursor });
  }

  /** A page of history; `after` is the previous page's `nextCursor` (a sequence number). */
  async getHistory(id: string, query: { after?: string; limit?: number } = {}): Promise<{ events: HistoryEvent[]; nextCursor?: string }> {
    const limit = query.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new StepwiseError('VALIDATION_FAILED', 'limit must be an integer from 1 to 1000', { field: 'limit' });
    let after = 0;
    if (query.after !== undefined && query.after !== '') {
      if (!/^\d{1,15}$/.test(query.after)) throw new StepwiseError('VALIDATION_FAILED', 'after must be a cursor this server returned', { field: 'after' });
      after = Number(query.after);
    }
    const events = await this.store.readHistory(id, after, limit + 1);
    if (events.length === 0 && !(await this.store.getExecution(id))) {
      throw new StepwiseError('EXECUTION_NOT_FOUND', `no execution has id '${id}'`, { id });
    }
    const page = events.slice(0, limit);
    return events.length > limit ? { events: page, nextCursor: String(page[page.length - 1].seq) } : { events: page };
  }

  /** Requests cancellation: the running step's AbortSignal fires, compensations run, the execution ends CANCELLED. */
  async cancel(id: string): Promise<ExecutionSummary> {
    const current = await this.getExecution(id);
    if (isTerminalStatus(current.status)) throw new StepwiseError('EXECUTION_ENDED', `execution '${id}' has already ended (${current.status})`, { id });
    const done = deferred<void>();
    this.enqueue(id, { kind: 'cancel', done });
    await done.promise;
    return this.getExecution(id);
  }

  /** Resolves with the execution once it has ended (or rejects after `timeoutMs`). */
  async waitForEnd(id: string, timeoutMs = 60_000): Promise<ExecutionSummary> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const execution = await this.getExecution(id);
      if (isTerminalStatus(execution.status)) return execution;
      if (Date.now() >= deadline) throw new StepwiseError('WAIT_TIMEOUT', `execution '${id}' did not end within ${timeoutMs} ms`, { id });
      await new Promise<void>((resolve) => {
        const list = this.waiters.get(id) ?? [];
        const wake = () => { clearTimeout(t); resolve(); };
        const t = setTimeout(() => { this.waiters.set(id, (this.waiters.get(id) ?? []).filter((w) => w !== wake)); resolve(); }, 100);
        list.push(wake);
        this.waiters.set(id, list);
      });
    }
  }

  // ---- the step loop ----------------------------------------------------------------------

  private enqueue(id: string, input: Input): void {
    const list = this.inbox.get(id);
    if (list) list.push(input);
    else this.inbox.set(id, [input]);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => void this.flush());
    }
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    if (this.flushing) {
      await this.flushing;
      if (this.inbox.size > 0 && !this.flushQueued && !this.flushing) return this.flush();
      return;
    }
    if (this.inbox.size === 0) return;
    const run = async () => {
      while (this.inbox.size > 0) {
        const batch = this.inbox;
        this.inbox = new Map();
        await this.commitBatch(batch);
      }
    };
    this.flushing = run().catch((error) => this.log.error({ err: error }, 'commit loop failed')).finally(() => { this.flushing = undefined; });
    await this.flushing;
  }

  /** Group commit: every execution's inputs since the last commit, in one store transaction. */
  private async commitBatch(batch: Map<string, Input[]>, built?: Draft): Promise<void> {
    const drafts: Draft[] = built ? [built] : [];
    for (const [id, inputs] of built ? [] : batch) {
      try {
        const live = await this.liveFor(id, inputs);
        if (!live) continue;
        const draft = this.drafts.build(live, inputs, this.clock.now());
        if (!isEmptyDraft(draft)) drafts.push(draft);
        else {
          this.resolveDeferreds(draft);
          if (!this.runningPer.has(id)) this.live.delete(id);
        }
      } catch (error) {
        this.requeueLater(id, inputs, error);
      }
    }
    if (drafts.length === 0) return;
    const info = { events: drafts.reduce((n, d) => n + d.commit.events.length, 0), executions: drafts.length };
    const draftedAt = this.clock.now();
    this.faultPoint?.('before-commit', info);
    let outcomes: CommitOutcome[];
    const commits = drafts.map((d) => d.commit);
    try {
      outcomes = await this.store.commit(commits).catch((error) => {
        if (!isStoreUnavailable(error)) throw error;
        return this.commitWithBackoff(commits, error);
      });
    } catch (error) {
      if (drafts.length > 1 && !isStoreUnavailable(error) && !this.stopping) {
        // Not a storage fault: one commit of the batch cannot be written (a bug, or a value the
        // store refuses). Commit each alone so that one execution cannot stall the others.
        for (const d of drafts) await this.commitBatch(new Map([[d.live.id, d.inputs]]), d);
        return;
      }
      for (const d of drafts) {
        this.releaseReservations(d);
        this.live.delete(d.live.id);
        if (!this.stopping) this.requeueLater(d.live.id, d.inputs, error);
        else this.abandon(d.inputs);
      }
      return;
    }
    this.faultPoint?.('after-commit', info);
    if (!this.store.exclusive && this.clock.now() - draftedAt > this.leaseMs / 3) await this.confirmLaunches(drafts, outcomes);
    drafts.forEach((d, i) => {
      try {
        this.afterCommit(d, outcomes[i]);
      } catch (error) {
        // The commit landed; only the follow-up failed (a bug). Forget the cached state so the
        // next input reloads it from the store, and let the others carry on.
        this.live.delete(d.live.id);
        this.log.error({ err: error instanceof Error ? error.message : String(error), executionId: d.live.id }, 'after-commit step failed');
      }
    });
  }

  /**
   * A commit that took a good part of the lease may have landed with the leases of the steps it
   * claimed for this process already lapsed, and another process may have claimed them. Renew
   * them before running anything: a step whose lease cannot be renewed is someone else's now.
   */
  private async confirmLaunches(drafts: Draft[], outcomes: CommitOutcome[]): Promise<void> {
    const refs = drafts.flatMap((d, i) => (outcomes[i].ok ? [...d.launches.values()].map(toRef) : []));
    if (refs.length === 0) return;
    let lost: Set<string>;
    try {
      lost = new Set((await this.store.renewLeases(this.workerId, refs, this.clock.now() + this.leaseMs)).map(refKey));
    } catch {
      lost = new Set(refs.map(refKey)); // cannot tell: run none; their leases expire and they are claimed again
    }
    for (const d of drafts) {
      for (const k of [...d.launches.keys()]) {
        if (!lost.has(k)) continue;
        d.launches.delete(k);
        this.reservations.delete(k);
        this.held.delete(k);
      }
    }
  }

  /**
   * A storage fault (busy, locked, disk full, connection lost): nothing was written. Retry the
   * same batch with exponential backoff until it lands or the engine stops; inputs that arrive
   * meanwhile wait for the next batch, and no handler starts for uncommitted progress.
   */
  private commitWithBackoff(commits: ExecutionCommit[], first: unknown): Promise<CommitOutcome[]> {
    this.log.warn({ err: (first as Error).message }, 'store unavailable; backing off');
    return pRetry(() => this.store.commit(commits), {
      retries: Number.POSITIVE_INFINITY, minTimeout: 20, maxTimeout: 2000, signal: this.stopController.signal,
      shouldRetry: ({ error }) => isStoreUnavailable(error),
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (attemptNumber % 20 === 0) this.log.warn({ err: error.message, attempt: attemptNumber }, 'store still unavailable; backing off');
      },
    });
  }

  private async liveFor(id: string, inputs: Input[]): Promise<Live | undefined> {
    const cached = this.live.get(id);
    if (cached) return cached;
    const create = inputs.find((i): i is Extract<Input, { kind: 'create' }> => i.kind === 'create');
    const stored = await this.store.getExecution(id);
    if (!stored && create) {
      // A new execution: the draft's create commit fills in the snapshot.
      return { id, wf: create.wf, snapshot: undefined as unknown as Snapshot, lastSeq: 0, status: ExecutionStatus.RUNNING };
    }
    if (!stored) {
      // Work rows that outlived their execution: nothing to run; give back what they hold here.
      for (const i of inputs) {
        if (i.kind === 'cancel') i.done.reject(new StepwiseError('EXECUTION_NOT_FOUND', `no execution has id '${id}'`));
        if ('work' in i) this.held.delete(refKey(i.work));
      }
      this.releaseClaims(inputs);
      return undefined;
    }
    const wf = this.versions.get(stored.workflow)?.get(stored.version);
    if (!wf) {
      this.log.warn({ executionId: id, workflow: stored.workflow, version: stored.version }, 'definition version not registered here; leaving the work for a process that has it');
      for (const i of inputs) {
        if (i.kind === 'cancel') i.done.reject(new StepwiseError('INTERNAL', `workflow '${stored.workflow}' version ${stored.version} is not registered in this process`));
        else if (i.kind === 'create') i.done.resolve(undefined); // the id exists: the caller compares inputs
      }
      this.releaseClaims(inputs);
      this.handBack(stored, inputs);
      return undefined;
    }
    const live: Live = { id, wf, snapshot: restore(wf, stored.snapshot), lastSeq: stored.lastSeq, status: stored.status };
    this.live.set(id, live);
    return live;
  }

  /**
   * Gives claimed work this process cannot run (its definition version is not registered here)
   * back to the store, unleased and due in a minute, for a process that has the version.
   */
  private handBack(stored: StoredExecution, inputs: Input[]): void {
    const rows = inputs.flatMap((i) => ('work' in i && i.kind !== 'result' ? [i.work] : []));
    if (rows.length === 0) return;
    const dueAt = this.clock.now() + HAND_BACK_DELAY_MS;
    const commit: ExecutionCommit = {
      executionId: stored.id, expectedSeq: stored.lastSeq, events: [], snapshot: stored.snapshot, status: stored.status,
      schedule: rows.map((w) => ({ executionId: w.executionId, kind: w.kind, key: w.key, attempt: w.attempt, dueAt })),
    };
    this.store.commit([commit]).then(
      ([outcome]) => {
        if (outcome?.ok) for (const w of rows) this.held.delete(refKey(w));
        else this.log.warn({ executionId: stored.id, outcome }, 'could not hand work back; it stays leased here until this process stops');
      },
      (error) => this.log.warn({ err: (error as Error).message, executionId: stored.id }, 'could not hand work back; it stays leased here until this process stops'),
    );
  }

  private afterCommit(draft: Draft, outcome: CommitOutcome): void {
    const live = draft.live;
    if (!outcome.ok) {
      this.releaseReservations(draft);
      this.live.delete(live.id);
      if (outcome.reason === 'exists') {
        for (const i of draft.inputs) if (i.kind === 'create') i.done.resolve(undefined);
        return;
      }
      if (outcome.reason === 'lease-lost') {
        const lost = refKey(outcome.work);
        this.held.delete(lost);
        const retry = draft.inputs.map((i) => ('work' in i && refKey(i.work) === lost && i.kind === 'result' ? { ...i, leaseLost: true } : i))
          .filter((i) => !('work' in i && refKey(i.work) === lost && i.kind !== 'result'));
        this.requeue(live.id, retry);
        return;
      }
      this.requeue(live.id, draft.inputs); // conflict: reload and recompute
      return;
    }
    live.snapshot = draft.snapshot;
    live.lastSeq = outcome.lastSeq;
    live.status = draft.commit.status;
    for (const ref of draft.commit.consume ?? []) this.held.delete(refKey(ref));
    for (const k of draft.drop.keys()) this.held.delete(k);
    for (const [k, work] of draft.launches) this.held.set(k, toRef(work));
    this.failing.delete(live.id);
    if (draft.commit.create) this.live.set(live.id, live);
    this.resolveDeferreds(draft);
    for (const k of draft.aborts) {
      const r = this.running.get(k);
      if (r) {
        r.discard = true;
        r.abort.abort(new Error('the step was left (cancel or failure elsewhere)'));
        this.untrack(k);
      }
    }
    for (const [k, work] of draft.launches) {
      this.reservations.delete(k);
      // Shutting down: start nothing new; stop() hands the lease back for the next process.
      if (!this.stopping) this.launch(live, k, { ...work, leaseOwner: this.workerId } as WorkItem);
    }
    if (draft.wakeAt !== undefined) this.wakeAt(draft.wakeAt);
    if (draft.backlog) this.wakeAt(this.clock.now());
    if (isTerminalStatus(live.status)) {
      for (const wake of this.waiters.get(live.id) ?? []) wake(live.status);
      this.waiters.delete(live.id);
    }
    if (!this.runningPer.has(live.id)) this.live.delete(live.id);
  }

  private track(k: string, running: Running): void {
    this.running.set(k, running);
    const id = running.work.executionId;
    this.runningPer.set(id, (this.runningPer.get(id) ?? 0) + 1);
  }

  private untrack(k: string): void {
    const running = this.running.get(k);
    if (!running) return;
    this.running.delete(k);
    const id = running.work.executionId;
    const left = (this.runningPer.get(id) ?? 1) - 1;
    if (left > 0) this.runningPer.set(id, left);
    else this.runningPer.delete(id);
  }

  /** After a commit landed (or had nothing to write): tell the callers waiting on it. */
  private resolveDeferreds(draft: Draft): void {
    for (const i of draft.inputs) {
      if (i.kind === 'cancel') i.done.resolve();
      else if (i.kind === 'create') i.done.resolve(i === draft.creator ? summaryOf(draft) : undefined);
    }
  }

  private releaseReservations(draft: Draft): void {
    for (const k of draft.launches.keys()) this.reservations.delete(k);
    draft.launches.clear();
  }

  private releaseClaims(inputs: Input[]): void {
    for (const i of inputs) if (i.kind === 'claimed') this.reservations.delete(refKey(i.work));
  }

  /** The engine stopped before these inputs could be committed: whoever waits on them hears so. */
  private abandon(inputs: Input[]): void {
    const error = new StepwiseError('ENGINE_STOPPING', 'the engine stopped before this could be committed');
    for (const i of inputs) if (i.kind === 'create' || i.kind === 'cancel') i.done.reject(error);
  }

  private requeue(id: string, inputs: Input[]): void {
    for (const i of inputs) {
      if (i.kind === 'claimed') this.reservations.add(refKey(i.work));
      this.enqueue(id, i);
    }
  }

  /**
   * Inputs that could not be applied (the execution cannot be loaded, or its commit fails for a
   * reason other than a storage fault): retried with a per-execution backoff, 1 s doubling to
   * 5 min, and logged each time, so a broken execution neither spins nor goes unnoticed.
   */
  private requeueLater(id: string, inputs: Input[], error: unknown): void {
    if (this.stopping) {
      this.abandon(inputs);
      return;
    }
    const failures = (this.failing.get(id) ?? 0) + 1;
    this.failing.set(id, failures);
    const delayMs = Math.min(300_000, 1000 * 2 ** (failures - 1));
    this.log.error({ err: error instanceof Error ? error.message : String(error), executionId: id, failures, retryInMs: delayMs }, 'could not apply inputs to an execution');
    this.releaseClaims(inputs);
    setTimeout(() => (this.stopping ? this.abandon(inputs) : this.requeue(id, inputs)), delayMs).unref?.();
  }

  /** Runs a committed, leased step's handler; its outcome comes back as an input. */
  private launch(live: Live, k: string, work: WorkItem): void {
    const { step, index } = parseStepKey(work.key);
    const runtime = live.wf.step(step);
    const abort = new AbortController();
    const running: Running = { work, abort };
    this.track(k, running);
    const context: WorkflowContext = live.snapshot.context;
    let handler = runtime?.handler;
    let timeoutMs = runtime?.timeoutMs ?? 1000;
    let input: unknown;
    let stepName = step;
    if (work.kind === 'compensation') {
      const comp = runtime?.compensation;
      const done = context.completed.find((c) => c.key === work.key);
      handler = comp?.handler;
      timeoutMs = comp?.timeoutMs ?? timeoutMs;
      stepName = comp?.name ?? step;
      input = done ? { input: done.input, output: done.output } : null;
    } else if (index !== undefined) {
      input = context.maps[step]?.items[index] ?? null;
    } else {
      input = context.data[live.wf.index.get(step)?.scope ?? ''] ?? null;
    }
    const finish = (outcome: HandlerOutcome) => {
      if (running.discard || this.running.get(k) !== running) return;
      this.untrack(k);
      this.enqueue(work.executionId, { kind: 'result', work, outcome, leaseLost: running.leaseLost });
    };
    if (!handler) {
      finish({ ok: false, error: { code: 'Stepwise.HandlerMissing', message: `no handler for '${stepName}'`, terminal: true } });
      return;
    }
    const ctx = {
      workflow: live.wf.name, executionId: work.executionId, step: stepName, attempt: work.attempt,
      idempotencyKey: `${work.executionId}:${work.key}${work.kind === 'compensation' ? ':compensate' : ''}`,
      ...(index !== undefined ? { index } : {}),
    };
    void runHandler({ handler, input, ctx, timeoutMs, maxOutputBytes: this.maxOutputBytes, clock: this.clock, abort }).then((outcome) => {
      finish(outcome);
      if (this.running.size + this.reserved < this.concurrency && this.backlogged) void this.poll();
    });
  }

  // ---- claiming due work ------------------------------------------------------------------

  private wakeAt(at: number): void {
    if (this.stopping || !this.started) return;
    if (at >= this.wakeTime) return;
    if (this.wakeTimer) this.clock.clearTimeout(this.wakeTimer);
    this.wakeTime = at;
    this.wakeTimer = this.clock.setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeTime = Infinity;
      void this.poll();
    }, Math.max(0, at - this.clock.now()));
  }

  /** Claims due timers, and due handler work up to free capacity; then sleeps until the next due time. */
  private async poll(): Promise<void> {
    if (this.stopping || !this.started) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    let more = false;
    try {
      const now = this.clock.now();
      const leaseUntil = now + this.leaseMs;
      const timers = await this.store.claimWork({ owner: this.workerId, now, leaseUntil, limit: TIMER_CLAIM_BATCH, kinds: ['timer'] });
      // A row this process already holds (or is committing a launch of) came back because its
      // lease lapsed while its work was in flight here: the claim renewed it; the work is already
      // under way, so it is not queued twice.
      for (const w of timers) {
        if (this.held.has(refKey(w)) || this.reservations.has(refKey(w))) continue;
        this.held.set(refKey(w), toRef(w));
        this.enqueue(w.executionId, { kind: 'timer', work: w });
      }
      const capacity = this.concurrency - this.running.size - this.reserved;
      let tasks: WorkItem[] = [];
      if (capacity > 0) {
        tasks = await this.store.claimWork({ owner: this.workerId, now, leaseUntil, limit: capacity, kinds: ['task', 'compensation'] });
        for (const w of tasks) {
          if (this.held.has(refKey(w)) || this.reservations.has(refKey(w))) continue;
          this.held.set(refKey(w), toRef(w));
          this.reservations.add(refKey(w));
          this.enqueue(w.executionId, { kind: 'claimed', work: w });
        }
      }
      this.backlogged = capacity <= 0 || tasks.length === capacity;
      more = timers.length === TIMER_CLAIM_BATCH || (capacity > 0 && tasks.length === capacity);
      if (!more) {
        const after = this.clock.now();
        const next = this.backlogged ? undefined : await this.store.nextDueAt(after);
        this.wakeAt(Math.max(after + 1, Math.min(next ?? Infinity, after + this.pollIntervalMs)));
      }
    } catch (error) {
      this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'claiming work failed; retrying');
      this.wakeAt(this.clock.now() + 500);
    } finally {
      this.polling = false;
    }
    if (more || this.pollAgain) {
      this.pollAgain = false;
      if (this.flushing) await this.flushing;
      setImmediate(() => void this.poll());
    }
  }

  /** Renews the leases of running handlers; a lease lost to another worker aborts its handler. */
  private scheduleRenewal(): void {
    if (this.stopping) return;
    this.renewTimer = this.clock.setTimeout(async () => {
      const refs = [...this.held.values()];
      if (refs.length > 0) {
        try {
          const lost = new Set((await this.store.renewLeases(this.workerId, refs, this.clock.now() + this.leaseMs)).map(refKey));
          for (const k of lost) this.held.delete(k);
          for (const [k, r] of this.running) {
            if (lost.has(k)) {
              r.leaseLost = true;
              r.abort.abort(new Error('lease lost: another worker took this step over'));
            }
          }
        } catch (error) {
          this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'lease renewal failed');
        }
      }
      this.scheduleRenewal();
    }, Math.max(50, Math.floor(this.leaseMs / 3)));
  }
}

function isStoreUnavailable(error: unknown): boolean {
  return error instanceof StepwiseError && error.code === 'STORE_UNAVAILABLE';
}

function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
