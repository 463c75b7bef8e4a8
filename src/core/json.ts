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
  const visit = (value: unknown, path: string, depth: number): Extract<JsonCheck, { ok: false }> | undefined => {
    if (depth > maxDepth) return { ok: false, reason: 'too-deep', message: `nested deeper than ${maxDepth} at ${path}` };
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return undefined;
      case 'number':
        return Number.isFinite(value) ? undefined : { ok: false, reason: 'not-json', message: `${value} at ${path} is not a finite number` };
      case 'bigint':
      case 'function':
      case 'symbol':
        return { ok: false, reason: 'not-json', message: `a ${typeof value} at ${path} cannot be stored as JSON` };
      case 'undefined':
        return undefined; // dropped by JSON.stringify inside objects, null inside arrays
      case 'object': {
        if (value === null) return undefined;
        const toJSON = (value as { toJSON?: unknown }).toJSON;
        if (typeof toJSON === 'function') return visit((toJSON as () => unknown).call(value), path, depth);
        if (ancestors.has(value)) return { ok: false, reason: 'not-json', message: `a cycle at ${path}` };
        ancestors.add(value);
        try {
          if (Array.isArray(value)) {
            for (let i = 0; i < value.length; i++) {
              const p = visit(value[i], `${path}[${i}]`, depth + 1);
              if (p) return p;
            }
          } else {
            for (const key of Object.keys(value)) {
              const p = visit((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
              if (p) return p;
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
  return visit(root, '$', 0);
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
