import { pause } from '../core/pause.js';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { normaliseError, StepErrorCodes, StepwiseError } from '../core/errors.js';
import { toJson } from '../core/json.js';
import { backoffDelay, RETRY_DEFAULTS } from '../core/retry-policy.js';
import type { StepContext } from '../dsl/definition.js';
import { TaskServer, type AnswerVerb, type PolledTask } from './task-server.js';

/** What a worker's handler gets besides its input: a step context, plus the task's token and deadline. */
export interface WorkerTaskContext extends StepContext {
  /** Names this attempt of this step on the server. */
  taskToken: string;
  /** When the step's timeout runs out, in ms since the epoch (the wire's ISO 8601 `deadline`), when the server gives one. */
  deadline?: number;
}

/** Same shape as an in-process handler, so one function can move between the engine and a worker. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- plain JS handlers read fields of the input; pass In to have it checked
export type WorkerHandler<In = any, Out = unknown> = (input: In, ctx: WorkerTaskContext) => Out | Promise<Out>;

/** Structurally the engine's Logger: pino and console-like objects fit. */
export interface WorkerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- plain JS handlers read fields of the input; pass In to have it checked
export interface WorkerOptions<In = any, Out = unknown> {
  /** The Stepwise server, e.g. 'http://127.0.0.1:3000' (a path prefix is kept). */
  url: string;
  /** The server's STEPWISE_TOKEN, sent as a Bearer token. */
  token?: string;
  queue: string;
  handler: WorkerHandler<In, Out>;
  /** Tasks run at once. @default 1 */
  concurrency?: number;
  /** Sends a heartbeat this often while a task runs. @default a third of the task's heartbeatMs, when the server sends one; none otherwise */
  heartbeatMs?: number;
  /** Names this worker in history. @default host:pid:random */
  workerId?: string;
  /** How long one poll may wait on the server for a task, at most 30000. @default 30000 */
  pollWaitMs?: number;
  /** stop() lets running tasks finish this long, then aborts them. @default 10000 */
  shutdownGraceMs?: number;
  /** Backoff while the server cannot be reached. @default { initialDelayMs: 500, maxDelayMs: 30000 } */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** @default warnings and errors to the console */
  logger?: WorkerLogger;
}

interface Outcome {
  verb: Exclude<AnswerVerb, 'heartbeat'>;
  body: unknown;
}

interface Running {
  token: string;
  abort: AbortController;
  /** No answer is due any more: sent, refused as stale, or handed back at stop. */
  settled: boolean;
  /** The handler's result, once it has one. */
  outcome?: Outcome;
  done?: Promise<void>;
}

const MAX_POLL_WAIT_MS = 30_000;
/** stop() waits this long at most for each last answer, so a hung server cannot hold it. */
const HAND_BACK_TIMEOUT_MS = 5_000;
const consoleLogger: WorkerLogger = { info() {}, warn: (o, m) => console.warn(m ?? '', o), error: (o, m) => console.error(m ?? '', o) };

/**
 * A polling worker (docs/handlers.md#polling-workers): long-polls one queue, runs each task's
 * handler (up to `concurrency` at once) and answers it, heartbeating meanwhile. A server that is
 * down is waited out with backoff. stop() takes no new tasks, lets running ones finish for the
 * grace time, then aborts them and hands them back as failed (Stepwise.WorkerStopped).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- plain JS handlers read fields of the input; pass In to have it checked
export class Worker<In = any, Out = unknown> {
  readonly workerId: string;
  private readonly server: TaskServer;
  private readonly queue: string;
  private readonly handler: WorkerHandler<In, Out>;
  private readonly concurrency: number;
  private readonly pollWaitMs: number;
  private readonly graceMs: number;
  private readonly backoff: typeof RETRY_DEFAULTS;
  private readonly log: WorkerLogger;
  private readonly running = new Set<Running>();
  /** Aborts the poll and backoff sleeps when stop() begins. */
  private readonly stopping = new AbortController();
  /** Aborts answer retries when the grace time is over. */
  private readonly forced = new AbortController();
  private slotFreed: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private polling: Promise<StepwiseError | undefined> | undefined;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: WorkerOptions<In, Out>) {
    const invalid = (message: string) => new StepwiseError('VALIDATION_FAILED', `new Worker(): ${message}`);
    if (typeof options?.url !== 'string' || !URL.canParse(options.url)) throw invalid('url must be an absolute URL');
    if (typeof options.queue !== 'string' || options.queue.length === 0) throw invalid('queue must be a non-empty string');
    if (typeof options.handler !== 'function') throw invalid('handler must be a function');
    this.concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw invalid('concurrency must be an integer >= 1');
    this.pollWaitMs = options.pollWaitMs ?? MAX_POLL_WAIT_MS;
    if (!(this.pollWaitMs >= 0 && this.pollWaitMs <= MAX_POLL_WAIT_MS)) throw invalid(`pollWaitMs must be between 0 and ${MAX_POLL_WAIT_MS}`);
    if (options.heartbeatMs !== undefined && !(options.heartbeatMs > 0)) throw invalid('heartbeatMs must be > 0');
    this.graceMs = options.shutdownGraceMs ?? 10_000;
    this.server = new TaskServer(options.url, options.token);
    this.queue = options.queue;
    this.handler = options.handler;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.backoff = { ...RETRY_DEFAULTS, intervalMs: options.reconnect?.initialDelayMs ?? 500, maxDelayMs: options.reconnect?.maxDelayMs ?? 30_000, backoffRate: 2, jitter: 'full' };
    this.log = options.logger ?? consoleLogger;
  }

  /** Polls and runs tasks until stop(); resolves once stopped. Rejects when the server refuses the token. */
  run(): Promise<void> {
    this.loop ??= (async () => {
      this.polling = this.pollLoop();
      const fatal = await this.polling;
      await this.stop();
      if (fatal) throw fatal;
    })();
    return this.loop;
  }

  /** Takes no new tasks; running ones get `graceMs` to finish, then are aborted and handed back. */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.stopped ??= this.shutdown(options.graceMs ?? this.graceMs);
    return this.stopped;
  }

  /** Resolves when stopping, or with the error that makes polling pointless (a refused token). */
  private async pollLoop(): Promise<StepwiseError | undefined> {
    let failures = 0;
    while (!this.stopping.signal.aborted) {
      await this.freeSlot();
      if (this.stopping.signal.aborted) break;
      const result = await this.server.poll(this.queue, { workerId: this.workerId, waitMs: this.pollWaitMs }, this.stopping.signal);
      // A task that arrived as stop() began is started anyway: the server handed it to us, and it gets the grace time.
      if (this.stopping.signal.aborted && result.kind !== 'task') break;
      if (result.kind === 'task' || result.kind === 'empty') {
        if (failures > 0) this.log.info({ queue: this.queue }, 'worker: the server answers again');
        failures = 0;
        if (result.kind === 'task') this.start(result.task);
        continue;
      }
      if (result.kind === 'refused' && (result.status === 401 || result.status === 403)) {
        const fatal = new StepwiseError('UNAUTHORIZED', `the server refused this worker's token (${result.status} ${result.code}: ${result.message})`);
        this.log.error({ queue: this.queue, code: result.code }, `worker: ${fatal.message}; stopping`);
        return fatal;
      }
      failures += 1;
      const delayMs = backoffDelay(this.backoff, failures + 1, Math.random(), Math.max(this.backoff.intervalMs, result.kind === 'unavailable' ? result.retryAfterMs ?? 0 : 0));
      const detail = result.kind === 'unavailable' ? result.reason : `${result.status} ${result.code}: ${result.message}`;
      const log = failures === 1 || result.kind === 'refused' ? this.log.warn : this.log.info;
      log.call(this.log, { queue: this.queue, failures, delayMs }, `worker: cannot poll (${detail}); retrying in ${delayMs} ms`);
      await pause(delayMs, this.stopping.signal);
    }
    return undefined;
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.stopping.abort();
    this.slotFreed?.();
    await this.polling; // the poll under way ends at once; a task it brought gets the grace time too
    const all = () => Promise.all([...this.running].flatMap((r) => (r.done ? [r.done] : [])));
    if (this.running.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([all(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    this.forced.abort();
    await Promise.all([...this.running].map((r) => this.handBack(r)));
  }

  /** After the grace time: abort the handler and answer once, with its result if it has one. */
  private async handBack(task: Running): Promise<void> {
    if (task.settled) return;
    task.settled = true;
    const stopped = Object.assign(new Error(`worker ${this.workerId} stopped before the task finished`), { code: StepErrorCodes.WorkerStopped });
    task.abort.abort(stopped);
    const outcome = task.outcome ?? failure(StepErrorCodes.WorkerStopped, stopped.message);
    const result = await this.server.answer(task.token, outcome.verb, outcome.body, AbortSignal.timeout(HAND_BACK_TIMEOUT_MS));
    if (result.kind !== 'accepted') this.log.warn({ queue: this.queue, result }, 'worker: could not hand a task back at stop; the server will time it out');
    this.running.delete(task);
  }

  private start(task: PolledTask): void {
    const running: Running = { token: task.taskToken, abort: new AbortController(), settled: false };
    this.running.add(running);
    running.done = this.execute(running, task).catch((error: unknown) => {
      this.log.error({ queue: this.queue, err: error }, 'worker: a task ended in an unexpected error');
    }).finally(() => {
      this.running.delete(running);
      this.slotFreed?.();
    });
  }

  private async execute(running: Running, task: PolledTask): Promise<void> {
    const { context } = task;
    const ctx: WorkerTaskContext = {
      workflow: context.workflow, executionId: context.executionId, step: context.step, attempt: context.attempt,
      idempotencyKey: context.idempotencyKey, signal: running.abort.signal, taskToken: task.taskToken,
      ...(context.deadline !== null && Number.isFinite(Date.parse(context.deadline)) ? { deadline: Date.parse(context.deadline) } : {}),
      ...(context.index !== undefined ? { index: context.index } : {}),
      ...(context.traceparent !== undefined ? { traceparent: context.traceparent } : {}),
    };
    const every = this.options.heartbeatMs ?? (context.heartbeatMs ? Math.max(50, Math.floor(context.heartbeatMs / 3)) : undefined);
    let beating = false;
    const heartbeat = every === undefined ? undefined : setInterval(() => {
      if (beating || running.settled) return;
      beating = true;
      void this.heartbeat(running).finally(() => (beating = false));
    }, every);
    try {
      running.outcome = success(await this.handler(task.input as In, ctx));
    } catch (error) {
      const e = normaliseError(error);
      running.outcome = failure(e.code, e.message, e.terminal);
    } finally {
      clearInterval(heartbeat);
    }
    await this.deliver(running, running.outcome);
  }

  private async heartbeat(running: Running): Promise<void> {
    const result = await this.server.answer(running.token, 'heartbeat', {}, this.forced.signal);
    if (result.kind === 'stale' && !running.settled) {
      running.settled = true;
      running.abort.abort(Object.assign(new Error(`the server no longer expects this task (${result.code})`), { code: result.code }));
      this.log.warn({ queue: this.queue, code: result.code }, `worker: a heartbeat was refused (${result.status} ${result.code}); the task was aborted and dropped`);
    }
  }

  /** Answers until the server takes it, calls it stale, refuses it, or the grace time is over. */
  private async deliver(running: Running, first: Outcome): Promise<void> {
    let outcome = first;
    for (let attempt = 1; !running.settled; attempt++) {
      const result = await this.server.answer(running.token, outcome.verb, outcome.body, this.forced.signal);
      if (running.settled) return;
      switch (result.kind) {
        case 'accepted':
          running.settled = true;
          return;
        case 'stale':
          running.settled = true;
          this.log.warn({ queue: this.queue, code: result.code }, `worker: the server no longer expects this task (${result.status} ${result.code}); its answer was dropped`);
          return;
        case 'refused':
          if (result.status === 413 && outcome.verb === 'succeed') {
            outcome = failure(StepErrorCodes.OutputTooLarge, `the handler's output is over the server's size limit (${result.message})`);
            attempt = 0;
            continue;
          }
          running.settled = true;
          this.log.error({ queue: this.queue, code: result.code }, `worker: the server refused the answer (${result.status} ${result.code}: ${result.message}); dropped`);
          return;
        case 'unavailable':
          if (this.forced.signal.aborted) return; // handBack makes the last try
          await pause(backoffDelay(this.backoff, attempt + 1, Math.random(), this.backoff.intervalMs), this.forced.signal);
      }
    }
  }

  private freeSlot(): Promise<void> {
    if (this.running.size < this.concurrency || this.stopping.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.slotFreed = () => {
        this.slotFreed = undefined;
        resolve();
      };
    });
  }
}

/** The answer for a handler's output; what JSON cannot hold fails here, as it would in the engine. */
function success(output: unknown): Outcome {
  const checked = toJson(output, { maxBytes: Number.POSITIVE_INFINITY });
  if (!checked.ok) return failure(StepErrorCodes.OutputNotJson, `handler output refused: ${checked.message}`);
  return { verb: 'succeed', body: { output: output === undefined ? null : output } };
}

function failure(name: string, message: string, terminal?: boolean): Outcome {
  // `terminal` sits beside `error`, where the fail route's schema has it (docs/handlers.md#the-wire-format).
  return { verb: 'fail', body: { error: { name, message }, ...(terminal ? { terminal: true } : {}) } };
}

