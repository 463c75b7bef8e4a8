import { readLimited } from '../handlers/http-answer.js';

/**
 * The worker side of the task routes (docs/handlers.md#polling-workers): one long poll for a task,
 * one answer for it. Every outcome comes back as data saying what the worker should do next, so
 * that the worker's loop reads as policy and this file as protocol.
 */

/** The `context` of a polled task, as the server sends it. */
export interface WireTaskContext {
  executionId: string;
  workflow: string;
  step: string;
  attempt: number;
  idempotencyKey: string;
  /** When the step's timeout runs out (ISO 8601), or null. */
  deadline: string | null;
  /** The task's heartbeat timeout, when it has one: a heartbeat must arrive within this. */
  heartbeatMs?: number;
  /** The item's position, for a map iteration. */
  index?: number;
  /** The execution's W3C trace context, when it has one: the worker's own spans can join its trace. */
  traceparent?: string;
}

export interface PolledTask {
  taskToken: string;
  input: unknown;
  context: WireTaskContext;
}

/** What the server said, reduced to what the caller must decide on. */
export type PollResult =
  | { kind: 'task'; task: PolledTask }
  /** Nothing arrived within waitMs: poll again. */
  | { kind: 'empty' }
  /** Down, overloaded or unreachable: back off and poll again. */
  | { kind: 'unavailable'; reason: string; retryAfterMs?: number }
  /** A 4xx: the request itself is wrong (token, queue name, body). */
  | { kind: 'refused'; status: number; code: string; message: string };

export type AnswerResult =
  | { kind: 'accepted' }
  /** 404 or 409: the token no longer names a current attempt (retried, cancelled, timed out, answered). */
  | { kind: 'stale'; status: number; code: string; message: string }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'refused'; status: number; code: string; message: string };

export type AnswerVerb = 'succeed' | 'fail' | 'heartbeat';

/** A poll's own timeout is its waitMs plus this, for the server's answer to travel. */
const POLL_SLACK_MS = 10_000;
const ANSWER_TIMEOUT_MS = 30_000;
/** A task's input is bounded by the server; this only keeps a broken server from filling memory. */
const MAX_TASK_BYTES = 64 * 1024 * 1024;
const MAX_ERROR_BYTES = 64 * 1024;

export class TaskServer {
  private readonly base: URL;

  constructor(url: string, private readonly token?: string) {
    this.base = new URL(url.endsWith('/') ? url : `${url}/`);
  }

  /** Long-polls `queue` for up to `waitMs`; `signal` ends the poll early (the worker is stopping). */
  async poll(queue: string, body: { workerId: string; waitMs: number }, signal: AbortSignal): Promise<PollResult> {
    const target = new URL(`v1/queues/${encodeURIComponent(queue)}/poll`, this.base);
    const sent = await this.post(target, body, body.waitMs + POLL_SLACK_MS, signal);
    if (!sent.ok) return { kind: 'unavailable', reason: sent.reason };
    const response = sent.response;
    if (response.status === 204) {
      await response.body?.cancel().catch(() => {});
      return { kind: 'empty' };
    }
    if (response.status === 200) {
      const task = parseTask(await readJson(response, MAX_TASK_BYTES).catch(() => undefined));
      return task ? { kind: 'task', task } : { kind: 'unavailable', reason: 'the server answered 200 without a well-formed task' };
    }
    return this.failure(response);
  }

  /** Posts a task's answer or heartbeat. */
  async answer(taskToken: string, verb: AnswerVerb, body: unknown, signal?: AbortSignal): Promise<AnswerResult> {
    const target = new URL(`v1/tasks/${encodeURIComponent(taskToken)}/${verb}`, this.base);
    const sent = await this.post(target, body, ANSWER_TIMEOUT_MS, signal);
    if (!sent.ok) return { kind: 'unavailable', reason: sent.reason };
    const response = sent.response;
    if (response.status >= 200 && response.status <= 299) {
      await response.body?.cancel().catch(() => {});
      return { kind: 'accepted' };
    }
    const failure = await this.failure(response);
    if (failure.kind === 'refused' && (failure.status === 404 || failure.status === 409)) return { ...failure, kind: 'stale' };
    return failure;
  }

  private async post(target: URL, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<{ ok: true; response: Response } | { ok: false; reason: string }> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const forward = () => controller.abort(signal?.reason);
    if (signal?.aborted) forward();
    else signal?.addEventListener('abort', forward, { once: true });
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
      if (this.token) headers.authorization = `Bearer ${this.token}`;
      const response = await fetch(target, { method: 'POST', headers, body: JSON.stringify(body), signal: controller.signal, redirect: 'manual' });
      return { ok: true, response };
    } catch (error) {
      return { ok: false, reason: networkReason(error, controller.signal) };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forward);
    }
  }

  /** A non-2xx answer: 408, 429 and 5xx mean "later"; another 4xx names what is wrong. */
  private async failure(response: Response): Promise<Extract<PollResult, { kind: 'unavailable' | 'refused' }>> {
    const { status } = response;
    const body = await readJson(response, MAX_ERROR_BYTES).catch(() => undefined);
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code = typeof error?.code === 'string' ? error.code : `HTTP_${status}`;
    const message = typeof error?.message === 'string' ? error.message : `the server answered ${status}`;
    if (status === 408 || status === 429 || status >= 500) {
      const retryAfter = Number(response.headers.get('retry-after'));
      return { kind: 'unavailable', reason: `${code}: ${message}`, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
    }
    return { kind: 'refused', status, code, message };
  }
}

async function readJson(response: Response, maxBytes: number): Promise<unknown> {
  const body = await readLimited(response, maxBytes);
  if (body === undefined) throw new Error(`the body is over ${maxBytes} bytes`);
  return JSON.parse(body.toString('utf8'));
}

function parseTask(value: unknown): PolledTask | undefined {
  const task = value as Partial<PolledTask> | null | undefined;
  if (typeof task !== 'object' || task === null) return undefined;
  if (typeof task.taskToken !== 'string' || task.taskToken.length === 0) return undefined;
  const c = task.context as Partial<WireTaskContext> | undefined;
  if (typeof c !== 'object' || c === null) return undefined;
  if (typeof c.executionId !== 'string' || typeof c.step !== 'string' || typeof c.idempotencyKey !== 'string') return undefined;
  return {
    taskToken: task.taskToken,
    input: task.input ?? null,
    context: {
      executionId: c.executionId,
      workflow: typeof c.workflow === 'string' ? c.workflow : '',
      step: c.step,
      attempt: typeof c.attempt === 'number' ? c.attempt : 1,
      idempotencyKey: c.idempotencyKey,
      deadline: typeof c.deadline === 'string' ? c.deadline : null,
      ...(typeof c.heartbeatMs === 'number' && c.heartbeatMs > 0 ? { heartbeatMs: c.heartbeatMs } : {}),
      ...(typeof c.index === 'number' ? { index: c.index } : {}),
      ...(typeof c.traceparent === 'string' ? { traceparent: c.traceparent } : {}),
    },
  };
}

function networkReason(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) return signal.reason instanceof Error ? signal.reason.message : 'aborted';
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : (error as Error)?.message;
  return `cannot reach the server: ${detail ?? String(error)}`;
}
