/**
 * JSONPath in ASL: reading paths (InputPath, OutputPath, `.$` fields, Variable, ItemsPath, ...)
 * through jsonpath-plus, and writing reference paths (ResultPath), which jsonpath-plus cannot do.
 * A path starting with `$$` reads the context object instead of the data.
 */
import { JSONPath } from 'jsonpath-plus';
import { AslRuntimeError, States } from './asl-errors.js';

/** Thrown by `readPath` when nothing matches a definite path. */
export class PathMissing extends Error {
  constructor(readonly path: string) {
    super(`the JSONPath '${path}' matches nothing in the input`);
  }
}

/** A path with no wildcard, filter, slice, union or recursive descent selects at most one value. */
function isDefinite(path: string): boolean {
  return !/\*|\.\.|\?\(|:|,/.test(path.replace(/'[^']*'|"[^"]*"/g, ''));
}

/**
 * The value at `path` in `data` (or in `context` for `$$` paths). A definite path gives its one
 * value or throws PathMissing; an indefinite one gives the list of matches (possibly empty).
 */
export function readPath(path: string, data: unknown, context: unknown): unknown {
  const [root, expr] = path.startsWith('$$') ? [context, path.slice(1)] : [data, path];
  if (expr === '$') return root;
  if (root === null || typeof root !== 'object') throw new PathMissing(path);
  const found = JSONPath({ path: expr, json: root as object, wrap: true, eval: 'safe' }) as unknown[];
  if (isDefinite(expr)) {
    if (!Array.isArray(found) || found.length === 0) throw new PathMissing(path);
    return found[0];
  }
  return found ?? [];
}

/** Like readPath, but a missing value is `undefined` instead of an error (IsPresent, Choice). */
export function tryReadPath(path: string, data: unknown, context: unknown): { found: boolean; value?: unknown } {
  try {
    return { found: true, value: readPath(path, data, context) };
  } catch (error) {
    if (error instanceof PathMissing) return { found: false };
    throw error;
  }
}

/** InputPath / OutputPath: `null` gives `{}`; a missing path fails the state with States.Runtime. */
export function selectPath(path: string | null | undefined, data: unknown, field: string): unknown {
  if (path === undefined || path === '$') return data;
  if (path === null) return {};
  try {
    return readPath(path, data, undefined);
  } catch (error) {
    if (error instanceof PathMissing) throw new AslRuntimeError(States.Runtime, `${field}: ${error.message}`);
    throw error;
  }
}

type Segment = string | number;

/** Splits a reference path (`$.a.b`, `$['a b'][0]`) into keys; throws on anything else. */
export function parseReferencePath(path: string): Segment[] {
  if (!path.startsWith('$')) throw new Error(`'${path}' does not start with '$'`);
  const out: Segment[] = [];
  let i = 1;
  while (i < path.length) {
    if (path[i] === '.') {
      const m = /^[^.[\]]+/.exec(path.slice(i + 1));
      if (!m || /[*?@,:()]/.test(m[0])) throw new Error(`'${path}' is not a reference path (at '${path.slice(i)}')`);
      out.push(m[0]);
      i += 1 + m[0].length;
    } else if (path[i] === '[') {
      const rest = path.slice(i);
      const idx = /^\[(\d+)\]/.exec(rest);
      const quoted = /^\[(['"])((?:\\.|(?!\1).)*)\1\]/.exec(rest);
      if (idx) {
        out.push(Number(idx[1]));
        i += idx[0].length;
      } else if (quoted) {
        out.push(quoted[2].replace(/\\(.)/g, '$1'));
        i += quoted[0].length;
      } else {
        throw new Error(`'${path}' is not a reference path (at '${rest}')`);
      }
    } else {
      throw new Error(`'${path}' is not a reference path (at '${path.slice(i)}')`);
    }
  }
  return out;
}

/**
 * ResultPath: `$` replaces the input with the result, `null` keeps the input, a reference path
 * sets the result inside a copy of the input (creating missing objects). Setting a field inside a
 * value that is not an object fails with States.ResultPathMatchFailure, as AWS does.
 */
export function applyResultPath(input: unknown, resultPath: string | null | undefined, result: unknown): unknown {
  if (resultPath === null) return input;
  if (resultPath === undefined || resultPath === '$') return result;
  const segments = parseReferencePath(resultPath);
  const root = structuredClone(input);
  if (root === null || typeof root !== 'object') {
    throw new AslRuntimeError(States.ResultPathMatchFailure, `ResultPath '${resultPath}' cannot be applied: the input is not an object`);
  }
  let node = root as Record<string | number, unknown>;
  segments.forEach((key, i) => {
    if (i === segments.length - 1) {
      node[key] = result;
      return;
    }
    const child = node[key];
    if (child === undefined) node[key] = typeof segments[i + 1] === 'number' ? [] : {};
    else if (child === null || typeof child !== 'object') {
      throw new AslRuntimeError(States.ResultPathMatchFailure, `ResultPath '${resultPath}' cannot be applied: '${String(key)}' is not an object`);
    }
    node = node[key] as Record<string | number, unknown>;
  });
  return root;
}
