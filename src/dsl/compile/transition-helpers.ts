import { StepErrorCodes, type StepError } from '../../core/errors.js';
import { toJson } from '../../core/json.js';
import type { ResultPath, StateDef } from '../definition.js';
import type { WorkflowContext } from '../machine-types.js';

/**
 * Pure helpers that run inside the machine's transitions: every one takes plain data and returns
 * plain data (or a StepError), so the same history always folds to the same snapshot.
 */

export type Attempt<T = unknown> = { ok: true; value: T } | { ok: false; error: StepError };

/** Puts a result into the data: replace (undefined), merge under a key (string) or discard (null). */
export function applyResult(data: unknown, resultPath: ResultPath, result: unknown): unknown {
  if (resultPath === undefined) return result ?? null;
  if (resultPath === null) return data;
  const base = data !== null && typeof data === 'object' && !Array.isArray(data) ? data : {};
  return { ...(base as Record<string, unknown>), [resultPath]: result ?? null };
}

/** The faults without the one of state `name` (the same object when there is none). */
export function without(faults: WorkflowContext['faults'], name: string): WorkflowContext['faults'] {
  if (!(name in faults)) return faults;
  const { [name]: _cleared, ...rest } = faults;
  return rest;
}

/** An error as the data and the execution show it: code and message, no engine flags. */
export function publicError(error: StepError): StepError {
  return { code: error.code, message: error.message };
}

/** The value at a dotted path, or undefined where the path leaves objects. */
export function getPath(data: unknown, path: string): unknown {
  let value: unknown = data;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** When a wait state is due: a duration or a timestamp, computed from the data; throws when neither is valid. */
export function dueOf(state: Extract<StateDef, { type: 'wait' }>, data: unknown): { durationMs?: number; until?: number } {
  if (state.durationMs !== undefined) {
    const ms = typeof state.durationMs === 'function' ? state.durationMs(data) : state.durationMs;
    if (typeof ms !== 'number' || !(ms >= 0)) throw new Error(`wait '${state.name}': duration ${String(ms)} is not a number >= 0`);
    return { durationMs: ms };
  }
  const raw = state.until!(data);
  const at = raw instanceof Date ? raw.getTime() : typeof raw === 'string' ? Date.parse(raw) : raw;
  if (typeof at !== 'number' || !Number.isFinite(at)) throw new Error(`wait '${state.name}': ${String(raw)} is not a timestamp`);
  return { until: at };
}

/** Definition functions get a private copy: a mutation must not reach the execution's state. */
export function copyOf(data: unknown): unknown {
  return data === null || typeof data !== 'object' ? data : structuredClone(data);
}

/**
 * Runs a definition function (choice rule, transform, output, wait) on a private copy of the data,
 * and keeps its result only if JSON can hold it: the snapshot is stored as JSON, and a value that
 * changed on the way (a Date, a BigInt) would make a restored execution decide differently.
 */
export function safeJson(fn: (data: unknown) => unknown, data: unknown): Attempt {
  const found = safely(() => fn(copyOf(data)));
  if (!found.ok || found.value === undefined) return found;
  const checked = toJson(found.value, { maxBytes: Number.MAX_SAFE_INTEGER });
  if (!checked.ok) return { ok: false, error: { code: StepErrorCodes.OutputNotJson, message: checked.message, terminal: true } };
  return { ok: true, value: JSON.parse(checked.json) };
}

/** Runs a definition function; what it throws becomes a terminal Stepwise.ExpressionFailed. */
export function safely<T>(fn: () => T): Attempt<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: { code: StepErrorCodes.ExpressionFailed, message, terminal: true } };
  }
}
