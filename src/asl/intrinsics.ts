/**
 * ASL's intrinsic functions, evaluated over a parsed call (intrinsics-parser.ts). A function
 * given the wrong arguments fails the state with States.IntrinsicFailure, as AWS does.
 */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { AslRuntimeError, States } from './asl-errors.js';
import { parseIntrinsic, type IntrinsicArg } from './intrinsics-parser.js';
import { PathMissing, readPath } from './paths.js';

type Fn = (args: unknown[]) => unknown;

/** Functions whose result differs between calls: a state using one runs as a stored step. */
export const NONDETERMINISTIC = new Set(['States.UUID', 'States.MathRandom']);

function fail(name: string, why: string): never {
  throw new AslRuntimeError(States.IntrinsicFailure, `${name}: ${why}`);
}

function arity(name: string, args: unknown[], min: number, max = min): void {
  if (args.length < min || args.length > max) fail(name, `expects ${min === max ? min : `${min} to ${max}`} arguments, got ${args.length}`);
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function arrayArg(name: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) fail(name, 'the first argument must be an array');
  return v;
}

const HASHES: Record<string, string> = { MD5: 'md5', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const MAX_RANGE = 1000;

const FUNCTIONS: Record<string, Fn> = {
  'States.Format': (args) => {
    if (args.length < 1 || typeof args[0] !== 'string') fail('States.Format', 'the first argument must be a template string');
    const values = args.slice(1);
    let next = 0;
    const text = args[0].replace(/\\([{}])|\{\}/g, (whole, escaped: string | undefined) => {
      if (escaped) return escaped;
      if (next >= values.length) fail('States.Format', 'more {} placeholders than arguments');
      const v = values[next++];
      if (v !== null && typeof v === 'object') fail('States.Format', 'arguments must be strings, numbers, booleans or null');
      return String(v);
    });
    if (next !== values.length) fail('States.Format', 'more arguments than {} placeholders');
    return text;
  },
  'States.StringToJson': (args) => {
    arity('States.StringToJson', args, 1);
    if (typeof args[0] !== 'string') fail('States.StringToJson', 'the argument must be a string');
    try {
      return JSON.parse(args[0]);
    } catch {
      return fail('States.StringToJson', 'the argument is not valid JSON');
    }
  },
  'States.JsonToString': (args) => (arity('States.JsonToString', args, 1), JSON.stringify(args[0])),
  'States.Array': (args) => [...args],
  'States.ArrayPartition': (args) => {
    arity('States.ArrayPartition', args, 2);
    const list = arrayArg('States.ArrayPartition', args[0]);
    const size = args[1];
    if (!isInt(size) || size < 1) fail('States.ArrayPartition', 'the chunk size must be a positive integer');
    const out: unknown[][] = [];
    for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
    return out;
  },
  'States.ArrayContains': (args) => (arity('States.ArrayContains', args, 2), arrayArg('States.ArrayContains', args[0]).some((v) => isDeepStrictEqual(v, args[1]))),
  'States.ArrayRange': (args) => {
    arity('States.ArrayRange', args, 3);
    const [start, end, step] = args;
    if (!isInt(start) || !isInt(end) || !isInt(step) || step === 0) fail('States.ArrayRange', 'start, end and a non-zero step must be integers');
    const out: number[] = [];
    for (let v = start; step > 0 ? v <= end : v >= end; v += step) {
      if (out.length >= MAX_RANGE) fail('States.ArrayRange', `the range has more than ${MAX_RANGE} items`);
      out.push(v);
    }
    return out;
  },
  'States.ArrayGetItem': (args) => {
    arity('States.ArrayGetItem', args, 2);
    const list = arrayArg('States.ArrayGetItem', args[0]);
    if (!isInt(args[1]) || args[1] < 0) fail('States.ArrayGetItem', 'the index must be a non-negative integer');
    if (args[1] >= list.length) fail('States.ArrayGetItem', `index ${args[1]} is out of bounds (length ${list.length})`);
    return list[args[1]];
  },
  'States.ArrayLength': (args) => (arity('States.ArrayLength', args, 1), arrayArg('States.ArrayLength', args[0]).length),
  'States.ArrayUnique': (args) => {
    arity('States.ArrayUnique', args, 1);
    const out: unknown[] = [];
    for (const v of arrayArg('States.ArrayUnique', args[0])) if (!out.some((o) => isDeepStrictEqual(o, v))) out.push(v);
    return out;
  },
  'States.MathAdd': (args) => {
    arity('States.MathAdd', args, 2);
    if (!isInt(args[0]) || !isInt(args[1])) fail('States.MathAdd', 'both arguments must be integers');
    return args[0] + args[1];
  },
  'States.MathRandom': (args) => {
    arity('States.MathRandom', args, 2, 3);
    const [start, end] = args;
    if (!isInt(start) || !isInt(end) || end <= start) fail('States.MathRandom', 'start and end must be integers with start < end');
    return randomInt(start, end);
  },
  'States.UUID': (args) => (arity('States.UUID', args, 0), randomUUID()),
  'States.Hash': (args) => {
    arity('States.Hash', args, 2);
    const algorithm = HASHES[String(args[1])];
    if (!algorithm) fail('States.Hash', `the algorithm must be one of ${Object.keys(HASHES).join(', ')}`);
    if (typeof args[0] !== 'string') fail('States.Hash', 'the data must be a string');
    return createHash(algorithm).update(args[0]).digest('hex');
  },
  'States.Base64Encode': (args) => {
    arity('States.Base64Encode', args, 1);
    if (typeof args[0] !== 'string') fail('States.Base64Encode', 'the argument must be a string');
    return Buffer.from(args[0], 'utf8').toString('base64');
  },
  'States.Base64Decode': (args) => {
    arity('States.Base64Decode', args, 1);
    if (typeof args[0] !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(args[0])) fail('States.Base64Decode', 'the argument must be base64 text');
    return Buffer.from(args[0], 'base64').toString('utf8');
  },
  'States.StringSplit': (args) => {
    arity('States.StringSplit', args, 2);
    const [text, delimiters] = args;
    if (typeof text !== 'string' || typeof delimiters !== 'string') fail('States.StringSplit', 'both arguments must be strings');
    // Each character of the second argument is a delimiter; empty pieces are dropped.
    const out: string[] = [];
    let piece = '';
    for (const c of text) {
      if (delimiters.includes(c)) {
        if (piece) out.push(piece);
        piece = '';
      } else piece += c;
    }
    if (piece) out.push(piece);
    return out;
  },
  'States.JsonMerge': (args) => {
    arity('States.JsonMerge', args, 3);
    const [a, b, deep] = args;
    const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
    if (!isObject(a) || !isObject(b)) fail('States.JsonMerge', 'the first two arguments must be objects');
    if (deep !== false) fail('States.JsonMerge', 'only a shallow merge (false) is supported, as on AWS');
    return { ...(a as object), ...(b as object) };
  },
};

export const INTRINSIC_NAMES = Object.keys(FUNCTIONS);

/** Names of the functions a call uses, nested ones included. */
export function functionsUsed(call: IntrinsicArg): string[] {
  if (call.kind !== 'call') return [];
  return [call.name, ...call.args.flatMap(functionsUsed)];
}

/** Throws an Error naming the problem when `text` is not a call to known functions. */
export function checkIntrinsic(text: string): void {
  for (const name of functionsUsed(parseIntrinsic(text))) {
    if (!FUNCTIONS[name]) throw new Error(`unknown intrinsic function '${name}'`);
  }
}

export function evaluateIntrinsic(text: string, data: unknown, context: unknown): unknown {
  return evaluate(parseIntrinsic(text), data, context);
}

function evaluate(arg: IntrinsicArg, data: unknown, context: unknown): unknown {
  if (arg.kind === 'literal') return arg.value;
  if (arg.kind === 'path') {
    try {
      return readPath(arg.path, data, context);
    } catch (error) {
      if (error instanceof PathMissing) throw new AslRuntimeError(States.IntrinsicFailure, error.message);
      throw error;
    }
  }
  const fn = FUNCTIONS[arg.name];
  if (!fn) fail(arg.name, 'unknown intrinsic function');
  return fn(arg.args.map((a) => evaluate(a, data, context)));
}
