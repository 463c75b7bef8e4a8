/** Map and Wait rules shared by the translation and the in-process iteration runner. */
import { AslRuntimeError, States } from './asl-errors.js';
import { readPath, PathMissing } from './paths.js';
import type { AslContext } from './state-io.js';
import { applyTemplate } from './templates.js';
import type { AslState } from './types.js';

export interface MapItem {
  input: unknown;
  map: NonNullable<AslContext['Map']>;
}

/**
 * The inputs of a Map's iterations: the array at ItemsPath (default `$`) of the effective input,
 * each passed through ItemSelector (or the older Parameters) with `$$.Map.Item` set.
 */
export function itemInputs(state: AslState, effective: unknown, context: AslContext): MapItem[] {
  let items: unknown;
  try {
    items = state.ItemsPath === undefined ? effective : readPath(state.ItemsPath, effective, context);
  } catch (error) {
    if (error instanceof PathMissing) throw new AslRuntimeError(States.Runtime, `ItemsPath: ${error.message}`);
    throw error;
  }
  if (!Array.isArray(items)) throw new AslRuntimeError(States.Runtime, `ItemsPath '${state.ItemsPath ?? '$'}' does not select an array`);
  const selector = state.ItemSelector ?? state.Parameters;
  return items.map((value, index) => {
    const map = { Item: { Index: index, Value: value } };
    return { input: selector === undefined ? value : applyTemplate(selector, effective, { ...context, Map: map }, 'ItemSelector'), map };
  });
}

/** Whether failed iterations exceed ToleratedFailureCount or ToleratedFailurePercentage. */
export function toleranceExceeded(state: AslState, failures: number, total: number): boolean {
  if (failures === 0) return false;
  const count = state.ToleratedFailureCount;
  const pct = state.ToleratedFailurePercentage;
  const byCount = count !== undefined && failures > count;
  const byPct = pct !== undefined && (failures / Math.max(1, total)) * 100 > pct;
  // With both set, the Map fails when either threshold is passed.
  return byCount || byPct;
}

/** How long a Wait state waits, in ms from `now`, given its effective input. */
export function waitMs(state: AslState, effective: unknown, now: number): number {
  if (state.Seconds !== undefined) return state.Seconds * 1000;
  if (state.Timestamp !== undefined) return Math.max(0, Date.parse(state.Timestamp) - now);
  if (state.SecondsPath !== undefined) {
    const seconds = readWaitPath(state.SecondsPath, effective);
    if (!Number.isInteger(seconds) || (seconds as number) < 0) throw new AslRuntimeError(States.Runtime, `SecondsPath '${state.SecondsPath}' must select a non-negative integer`);
    return (seconds as number) * 1000;
  }
  const at = readWaitPath(state.TimestampPath!, effective);
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) throw new AslRuntimeError(States.Runtime, `TimestampPath '${state.TimestampPath}' must select an ISO-8601 timestamp`);
  return Math.max(0, Date.parse(at) - now);
}

function readWaitPath(path: string, data: unknown): unknown {
  try {
    return readPath(path, data, undefined);
  } catch (error) {
    if (error instanceof PathMissing) throw new AslRuntimeError(States.Runtime, error.message);
    throw error;
  }
}
