import { StepwiseError, type ErrorCode } from '../core/errors.js';
import type { HistoryEvent } from '../core/events.js';
import { isValidExecutionId, newExecutionId } from '../core/ids.js';
import { canonicalJson, toJson } from '../core/json.js';
import { isTerminalStatus } from '../core/status.js';
import type { ExecutionSummary } from '../core/store.js';
import { formatTraceparent, parseTraceparent, type ExecutionTrace } from '../core/trace-context.js';
import type { AnyWorkflow, WorkflowDescription } from '../dsl/workflow.js';
import { Claimer } from './claimer.js';
import { deliverChildOutcomes } from './child-door.js';
import { deliverCorrelated, publishCorrelated, type PublishRequest, type Published } from './correlated-door.js';
import { CommitLoop } from './commit-loop.js';
import { EndWaiters, withEnd } from './end-waiters.js';
import { withDefaults, type EngineOptions, type EngineSettings } from './engine-options.js';
import { listExecutions, readExecution, readHistoryPage, type HistoryRequest, type ListRequest } from './execution-reads.js';
import { deferred } from './inputs.js';
import { checkEvent } from './event-input.js';
import { Launcher } from './launcher.js';
import { Ledger } from './ledger.js';
import { findPreviousRuns } from './previous-runs.js';
import { WorkflowRegistry } from './registry.js';
import { TaskDoor, type AnswerResult, type PolledTask } from './task-door.js';
import type { HandlerOutcome } from './inputs.js';

export type { EngineOptions } from './engine-options.js';
export type { Logger } from './logger.js';

/**
 * The durable engine. It drives each execution's machine with pure transitions, commits every
 * step of progress (events, snapshot, work rows) before acting on it, and runs handlers outside
 * any transaction. Work is rows with a due time and a lease; whatever this process holds when it
 * dies is taken over when the lease expires (or at once by the next process on an SQLite file).
 *
 * This class is the public API and the wiring; the work is done by the commit loop (inputs to
 * commits), the claimer (due work, leases), the launcher (handlers) and the ledger (what this
 * process holds), which talk through the callbacks given here.
 */
export class Engine {
  readonly workerId: string;
  private readonly settings: EngineSettings;
  private readonly registry = new WorkflowRegistry();
  private readonly endWaiters = new EndWaiters();
  private readonly ledger: Ledger;
  private readonly loop: CommitLoop;
  private readonly claimer: Claimer;
  private readonly launcher: Launcher;
  private readonly door: TaskDoor;
  private started = false;
  private stopping = false;
  /** Set once the store can no longer make commits durable; `health()` reports it. */
  private storeFailure: StepwiseError | undefined;

  constructor(options: EngineOptions) {
    const settings = withDefaults(options);
    const { store, clock, workerId, leaseMs, logger: log } = settings;
    this.settings = settings;
    this.workerId = workerId;
    this.ledger = new Ledger(settings.concurrency);
    const ledger = this.ledger;
    this.loop = new CommitLoop({
      store, clock, ledger, log, workerId, leaseMs, random: settings.random, faultPoint: settings.faultPoint, observer: settings.observer,
      workflowVersion: (name, version) => this.registry.version(name, version),
      workflowNamed: (name) => this.registry.latestOf(name),
      isStopping: () => this.stopping,
      launch: (live, work) => this.launcher.launch(live, work),
      wakeAt: (at) => this.claimer.wakeAt(at),
      queued: (queues) => this.door.queued(queues),
      ended: (id, commit) => this.endWaiters.ended(id, commit),
      scheduled: (rows) => this.claimer.scheduledHere(rows),
      storeFailed: (error) => {
        if (this.storeFailure) return;
        this.storeFailure = error;
        log.error({ code: error.code, err: error.message }, 'the store can no longer make commits durable: restart the process (it recovers from what is on disk)');
      },
    });
    this.claimer = new Claimer({
      store, clock, ledger, log, workerId, leaseMs, pollIntervalMs: settings.pollIntervalMs,
      deliver: (id, input) => this.loop.enqueue(id, input),
      childrenDue: (rows) => deliverChildOutcomes(rows, { store, deliver: (id, input) => this.loop.enqueue(id, input) }),
      eventsDue: (rows) => deliverCorrelated(rows, { store, deliver: (id, input) => this.loop.enqueue(id, input) }),
      commitSettled: () => this.loop.settled(),
      betweenCommits: (fn) => this.loop.between(fn),
      findPreviousRuns: (claims, reason) => findPreviousRuns(store, claims, reason, log),
    });
    this.launcher = new Launcher({
      clock, ledger, maxOutputBytes: settings.maxOutputBytes, observer: settings.observer, workerId,
      deliver: (id, input) => this.loop.enqueue(id, input),
      slotFreed: () => this.claimer.slotFreed(),
      issueToken: () => this.door.issueToken(),
    });
    this.door = new TaskDoor({ store, clock, ledger, workerId, leaseMs, deliver: (id, input) => this.loop.enqueue(id, input) });
  }

  // ---- work finished outside the engine (docs/handlers.md) ---------------------------------

  /** A poll of a worker queue: a task (its StepStarted and token committed), or undefined after `waitMs`. */
  pollTask(queue: string, pollerId: string, waitMs: number, gone: AbortSignal): Promise<PolledTask | undefined> {
    return this.door.poll(queue, pollerId, waitMs, gone);
  }

  /** Whether a registered workflow has a step bound to worker queue `queue` (a poll for another is refused). */
  hasQueue(queue: string): boolean {
    return this.registry.hasQueue(queue);
  }

  /** A task's answer, applied once while its token is current. */
  answerTask(token: string, outcome: HandlerOutcome): Promise<AnswerResult> {
    return this.door.answer(token, outcome);
  }

  heartbeatTask(token: string): Promise<AnswerResult> {
    return this.door.heartbeat(token);
  }

  /** A task handed to a poll whose client went away goes back to its queue. */
  releaseTask(token: string): Promise<void> {
    return this.door.release(token);
  }

  // ---- registry ---------------------------------------------------------------------------

  /** Registers workflows; the last registered version of a name is the one new executions use. */
  register(...workflows: AnyWorkflow[]): this {
    for (const wf of workflows) this.registry.register(wf);
    return this;
  }

  listWorkflows(): WorkflowDescription[] {
    return this.registry.describeAll();
  }

  describeWorkflow(name: string): WorkflowDescription {
    return this.registry.latestNamed(name).describe();
  }

  // ---- lifecycle --------------------------------------------------------------------------

  /** Starts the work loop. Unfinished executions resume: their due work is claimed as usual. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.settings.store.exclusive) await this.settings.store.releaseAllLeases();
    this.claimer.start();
  }

  /**
   * Stops taking work, lets running handlers finish for up to `graceMs`, commits their results,
   * then aborts the rest and hands their work back (releases the leases) for another process.
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.claimer.stop();
    const deadline = Date.now() + (options.graceMs ?? 8000);
    while (this.ledger.runningCount > 0 && Date.now() < deadline) await realSleep(10);
    this.ledger.abortAll('the engine is shutting down');
    // Commit what finished. A store that stays unavailable gets until the grace deadline (at least
    // a second); then the commit retry loop (which waits for this abort) is abandoned: nothing of
    // it was written, and its work is still in the store for the next start.
    const drained = this.drain();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([drained, new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.max(1000, deadline - Date.now())); })]);
    clearTimeout(timer);
    this.loop.abandonWrites();
    await drained;
    if (this.started) {
      await this.settings.store.releaseLeases(this.workerId).catch((e) => this.settings.logger.warn({ err: e }, 'could not release leases'));
    }
    this.ledger.forgetLeases();
  }

  /** Resolves once no input is waiting, no commit is under way and no handler runs here. */
  async drain(): Promise<void> {
    for (;;) {
      const round = this.loop.current;
      if (round) await round;
      else if (this.loop.hasQueued) await realSleep(0);
      else if (this.ledger.runningCount > 0 || this.claimer.polling) await realSleep(1);
      else return;
    }
  }

  /**
   * Whether this engine can still commit: not after its store failed to make a commit durable
   * (STORE_SYNC_FAILED), which only a restart clears. `GET /healthz` answers 503 then, so a
   * supervisor restarts the process.
   */
  health(): { ok: true } | { ok: false; code: ErrorCode; message: string } {
    const failure = this.storeFailure;
    return failure ? { ok: false, code: failure.code, message: failure.message } : { ok: true };
  }

  /**
   * For tests on a virtual clock: resolves when no input waits, no commit or claim is under way,
   * no work is due now, and no handler runs (or handlers still run after `handlerGraceMs` of real
   * time: they wait on the virtual clock, e.g. for their timeout).
   */
  async idle(options: { handlerGraceMs?: number } = {}): Promise<void> {
    const since = Date.now();
    const grace = options.handlerGraceMs ?? Number.POSITIVE_INFINITY;
    const { store, clock } = this.settings;
    const quiet = () => !this.loop.current && !this.loop.hasQueued && !this.claimer.polling;
    for (;;) {
      const round = this.loop.current;
      if (round) {
        await round;
        continue;
      }
      const running = this.ledger.runningCount > 0;
      if (!quiet() || (running && Date.now() - since < grace)) {
        await realSleep(running ? 1 : 0);
        continue;
      }
      const now = clock.now();
      const due = await store.nextDueAt(now);
      if (due !== undefined && due <= now && this.ledger.freeCapacity() > 0) {
        await this.claimer.poll();
        continue;
      }
      await realSleep(0);
      if (quiet()) return;
    }
  }

  // ---- executions -------------------------------------------------------------------------

  /**
   * Starts an execution. With an id that exists: the same workflow and an equal input return the
   * existing execution (`created: false`); anything else is EXECUTION_CONFLICT.
   */
  async startExecution(workflow: string, input: unknown, options: { id?: string; traceparent?: string } = {}): Promise<{ execution: ExecutionSummary; created: boolean }> {
    if (this.stopping) throw new StepwiseError('ENGINE_STOPPING', 'the engine is shutting down');
    const wf = this.registry.latestNamed(workflow);
    const id = options.id ?? newExecutionId();
    if (!isValidExecutionId(id)) {
      throw new StepwiseError('VALIDATION_FAILED', 'id must be 1-128 characters of letters, digits and ._:- starting with a letter or digit', { field: 'id' });
    }
    const checked = toJson(input, { maxBytes: this.settings.maxInputBytes });
    if (!checked.ok) {
      throw new StepwiseError(checked.reason === 'too-deep' ? 'INPUT_TOO_DEEP' : 'VALIDATION_FAILED', `input: ${checked.message}`, { field: 'input' });
    }
    const done = deferred<ExecutionSummary | undefined>();
    const value = JSON.parse(checked.json);
    await wf.checkInput(value);
    const scopes = wf.concurrencyScopes(value);
    const trace = this.traceOf(wf.name, id, options.traceparent);
    this.loop.enqueue(id, { kind: 'create', wf, input: value, done, ...(scopes.length > 0 ? { scopes } : {}), ...(trace ? { trace } : {}) });
    const created = await done.promise;
    if (created) return { execution: created, created: true };
    const execution = await this.getExecution(id);
    if (execution.workflow !== wf.name || canonicalJson(execution.input) !== canonicalJson(value)) {
      throw new StepwiseError('EXECUTION_CONFLICT', `execution '${id}' exists with another ${execution.workflow !== wf.name ? 'workflow' : 'input'}`, { id });
    }
    return { execution, created: false };
  }

  /**
   * A new execution's trace context: its own span's when an observer traces, else the caller's
   * `traceparent` passed on as it is (a malformed one is ignored, as W3C asks).
   */
  private traceOf(workflow: string, executionId: string, traceparent: string | undefined): ExecutionTrace | undefined {
    const parent = parseTraceparent(traceparent);
    const made = this.settings.observer?.executionTrace?.({ workflow, executionId, startedAt: this.settings.clock.now(), ...(parent ? { parent } : {}) });
    return made ?? (parent ? { traceparent: formatTraceparent(parent) } : undefined);
  }

  getExecution(id: string): Promise<ExecutionSummary> {
    return readExecution(this.settings.store, id);
  }

  listExecutions(query: ListRequest = {}): Promise<{ items: ExecutionSummary[]; nextCursor?: string }> {
    return listExecutions(this.settings.store, query);
  }

  /** A page of history; `after` is the previous page's `nextCursor` (a sequence number). */
  getHistory(id: string, query: HistoryRequest = {}): Promise<{ events: HistoryEvent[]; nextCursor?: string }> {
    return readHistoryPage(this.settings.store, id, query);
  }

  /** Requests cancellation: the running step's AbortSignal fires, compensations run, the execution ends CANCELLED. */
  async cancel(id: string): Promise<ExecutionSummary> {
    const current = await this.getExecution(id);
    if (isTerminalStatus(current.status)) throw new StepwiseError('EXECUTION_ENDED', `execution '${id}' has already ended (${current.status})`, { id });
    const done = deferred<void>();
    this.loop.enqueue(id, { kind: 'cancel', done });
    await done.promise;
    return this.getExecution(id);
  }

  /**
   * Delivers event `name` to an execution: kept in its mailbox (in order) until a waitForEvent
   * state for it takes it, durably once this resolves. An `id` seen before changes nothing
   * (`created: false`). EXECUTION_NOT_FOUND, EXECUTION_ENDED, or VALIDATION_FAILED for a payload
   * over the input limits.
   */
  async sendEvent(executionId: string, name: string, payload: unknown, options: { id?: string } = {}): Promise<{ id: string; created: boolean }> {
    if (this.stopping) throw new StepwiseError('ENGINE_STOPPING', 'the engine is shutting down');
    const input = checkEvent(name, payload, options.id, this.settings.maxInputBytes);
    const current = await this.getExecution(executionId);
    if (isTerminalStatus(current.status)) throw new StepwiseError('EXECUTION_ENDED', `execution '${executionId}' has already ended (${current.status})`, { id: executionId });
    const done = deferred<'accepted' | 'duplicate'>();
    this.loop.enqueue(executionId, { kind: 'event', ...input, done });
    return { id: input.id, created: (await done.promise) === 'accepted' };
  }

  /**
   * Publishes a correlated event: delivered to every execution waiting in a waitForEvent state for
   * `name` whose `key` is this key, and kept for `correlatedEventRetentionMs` for executions that
   * reach such a wait later. Durable once this resolves. The same `id` again while the event is
   * kept changes nothing (`created: false`); an execution gets an event at most once.
   */
  async publishEvent(event: PublishRequest): Promise<Published> {
    if (this.stopping) throw new StepwiseError('ENGINE_STOPPING', 'the engine is shutting down');
    const { store, clock, correlatedEventRetentionMs: retentionMs, maxInputBytes } = this.settings;
    return publishCorrelated(event, { store, clock, retentionMs, maxInputBytes, wake: (at) => this.claimer.wakeAt(at) });
  }

  /**
   * Resumes a FAILED execution from the state that failed, with the data it had there; steps that
   * completed do not run again. EXECUTION_NOT_FAILED unless it is FAILED; EXECUTION_COMPENSATED
   * when its compensations ran.
   */
  async redrive(id: string): Promise<{ execution: ExecutionSummary; count: number }> {
    if (this.stopping) throw new StepwiseError('ENGINE_STOPPING', 'the engine is shutting down');
    const current = await this.getExecution(id);
    if (current.status !== 'FAILED') {
      throw new StepwiseError('EXECUTION_NOT_FAILED', `execution '${id}' is ${current.status}; only a FAILED execution can be redriven`, { id, status: current.status });
    }
    const done = deferred<number>();
    // A limited workflow's redrive waits its turn in the scopes its input gave it at the start.
    const scopes = this.registry.version(current.workflow, current.version)?.concurrencyScopes(current.input) ?? [];
    this.loop.enqueue(id, { kind: 'redrive', done, ...(scopes.length > 0 ? { scopes } : {}) });
    const count = await done.promise;
    return { execution: await this.getExecution(id), count };
  }

  /**
   * Resolves with the execution once it has ended (or rejects after `timeoutMs`). One read when
   * a commit here ends it (the end comes with the commit); the store is read again only after a
   * wait of 100 ms doubling to 1 s, for an end committed by another process.
   */
  async waitForEnd(id: string, timeoutMs = 60_000): Promise<ExecutionSummary> {
    const deadline = Date.now() + timeoutMs;
    let waitMs = END_RECHECK_FIRST_MS;
    for (;;) {
      const watch = this.endWaiters.watch(id, Math.max(0, Math.min(waitMs, deadline - Date.now())));
      let execution: ExecutionSummary;
      try {
        execution = await this.getExecution(id);
      } catch (error) {
        watch.cancel();
        throw error;
      }
      if (isTerminalStatus(execution.status)) {
        watch.cancel();
        return execution;
      }
      if (Date.now() >= deadline) {
        watch.cancel();
        throw new StepwiseError('WAIT_TIMEOUT', `execution '${id}' did not end within ${timeoutMs} ms`, { id });
      }
      const end = await watch.ended;
      if (end) return withEnd(execution, end);
      waitMs = Math.min(waitMs * 2, END_RECHECK_MAX_MS);
    }
  }
}

/** waitForEnd reads the store again after this long without an end committed here, doubling up to the max. */
const END_RECHECK_FIRST_MS = 100;
const END_RECHECK_MAX_MS = 1000;

function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
