/** Checks on JSON values that cross a trust boundary: handler outputs and API inputs. */

export const DEFAULT_MAX_DEPTH = 64;

export type JsonCheck = { ok: true; json: string } | { ok: false; reason: 'not-json' | 'too-large' | 'too-deep'; message: string };

/**
 * Serialises `value` as JSON, refusing what JSON cannot hold faithfully: BigInt, functions,
 * symbols, cycles, non-finite numbers, nesting past `maxDepth`, and results over `maxBytes`.
 * `undefined` at the top becomes null (a handler that returns nothing has an empty output).
 */
export function toJson(value: unknown, limits: { maxBytes: number; maxDepth?: number }): JsonCheck {
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  const problem = findNonJson(value === undefined ? null : value, maxDepth);
  if (problem) return problem;
  const json = JSON.stringify(value === undefined ? null : value);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > limits.maxBytes) {
    return { ok: false, reason: 'too-large', message: `output is ${bytes} bytes, over the limit of ${limits.maxBytes}` };
  }
  return { ok: true, json };
}

function findNonJson(root: unknown, maxDepth: number): Extract<JsonCheck, { ok: false }> | undefined {
  const ancestors = new Set<object>();
  // The path to the value being visited, as keys: its text is built only for an error message
  // (building it for every key cost more than the walk itself on a handler's output).
  const keys: Array<string | number> = [];
  const at = (): string => `$${keys.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('')}`;
  const visit = (value: unknown, depth: number): Extract<JsonCheck, { ok: false }> | undefined => {
    if (depth > maxDepth) return { ok: false, reason: 'too-deep', message: `nested deeper than ${maxDepth} at ${at()}` };
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return undefined;
      case 'number':
        return Number.isFinite(value) ? undefined : { ok: false, reason: 'not-json', message: `${value} at ${at()} is not a finite number` };
      case 'bigint':
      case 'function':
      case 'symbol':
        return { ok: false, reason: 'not-json', message: `a ${typeof value} at ${at()} cannot be stored as JSON` };
      case 'undefined':
        return undefined; // dropped by JSON.stringify inside objects, null inside arrays
      case 'object': {
        if (value === null) return undefined;
        const toJSON = (value as { toJSON?: unknown }).toJSON;
        if (typeof toJSON === 'function') return visit((toJSON as () => unknown).call(value), depth);
        if (ancestors.has(value)) return { ok: false, reason: 'not-json', message: `a cycle at ${at()}` };
        ancestors.add(value);
        try {
          if (Array.isArray(value)) {
            for (let i = 0; i < value.length; i++) {
              keys.push(i);
              const p = visit(value[i], depth + 1);
              if (p) return p;
              keys.pop();
            }
          } else {
            for (const key of Object.keys(value)) {
              keys.push(key);
              const p = visit((value as Record<string, unknown>)[key], depth + 1);
              if (p) return p;
              keys.pop();
            }
          }
        } finally {
          ancestors.delete(value);
        }
        return undefined;
      }
      default:
        return undefined;
    }
  };
  return visit(root, 0);
}

/** The nesting depth of an already-parsed JSON value, stopping early once past `limit`. */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > limit) return true;
    if (v !== null && typeof v === 'object') {
      for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
    }
  }
  return false;
}

/** Stable JSON: object keys sorted, so equal values give equal strings (used for hashing and idempotent starts). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
