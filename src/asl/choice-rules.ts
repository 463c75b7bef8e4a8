/**
 * Choice rules: comparison operators (String*, Numeric*, Boolean*, Timestamp*, each with a `Path`
 * form), type tests (IsNull, IsPresent, IsNumeric, IsString, IsBoolean, IsTimestamp) and the
 * And / Or / Not combinators. A comparison against a value of the wrong type is false; a Variable
 * that matches nothing fails the state with States.Runtime (only IsPresent may test absence).
 */
import { AslRuntimeError, States } from './asl-errors.js';
import { PathMissing, readPath, tryReadPath } from './paths.js';

export type ChoiceRule = Record<string, unknown>;

const COMPARISONS = ['Equals', 'LessThan', 'GreaterThan', 'LessThanEquals', 'GreaterThanEquals'] as const;
const KINDS = ['String', 'Numeric', 'Boolean', 'Timestamp'] as const;

/** Every comparison operator name, e.g. 'NumericLessThanEqualsPath'. */
export const COMPARISON_OPERATORS: string[] = KINDS.flatMap((kind) =>
  (kind === 'Boolean' ? ['Equals'] : COMPARISONS).flatMap((c) => [`${kind}${c}`, `${kind}${c}Path`]),
).concat(['StringMatches']);
export const TYPE_TESTS = ['IsNull', 'IsPresent', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'];

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function isTimestamp(v: unknown): v is string {
  return typeof v === 'string' && TIMESTAMP.test(v) && !Number.isNaN(Date.parse(v));
}

/** AWS's StringMatches: `*` matches any run of characters, `\*` a literal star, `\\` a backslash. */
function wildcardMatches(pattern: string, text: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '\\')) re += `\\${pattern[++i]}`;
    else if (c === '*') re += '.*';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(text);
}

function compare(kind: string, op: string, a: unknown, b: unknown): boolean {
  let x: string | number | boolean;
  let y: string | number | boolean;
  if (kind === 'String') {
    if (typeof a !== 'string' || typeof b !== 'string') return false;
    [x, y] = [a, b];
  } else if (kind === 'Numeric') {
    if (typeof a !== 'number' || typeof b !== 'number') return false;
    [x, y] = [a, b];
  } else if (kind === 'Boolean') {
    return typeof a === 'boolean' && a === b;
  } else {
    if (!isTimestamp(a) || !isTimestamp(b)) return false;
    [x, y] = [Date.parse(a), Date.parse(b)];
  }
  switch (op) {
    case 'Equals': return x === y;
    case 'LessThan': return x < y;
    case 'GreaterThan': return x > y;
    case 'LessThanEquals': return x <= y;
    default: return x >= y;
  }
}

/** Whether `rule` holds for `data`; `context` is the `$$` object. */
export function evaluateRule(rule: ChoiceRule, data: unknown, context: unknown): boolean {
  if (Array.isArray(rule.And)) return (rule.And as ChoiceRule[]).every((r) => evaluateRule(r, data, context));
  if (Array.isArray(rule.Or)) return (rule.Or as ChoiceRule[]).some((r) => evaluateRule(r, data, context));
  if (rule.Not && typeof rule.Not === 'object') return !evaluateRule(rule.Not as ChoiceRule, data, context);
  const variable = String(rule.Variable);
  if ('IsPresent' in rule) return tryReadPath(variable, data, context).found === rule.IsPresent;
  const value = read(variable, data, context);
  for (const test of TYPE_TESTS) {
    if (!(test in rule)) continue;
    const expected = rule[test] === true;
    const actual =
      test === 'IsNull' ? value === null
        : test === 'IsNumeric' ? typeof value === 'number'
          : test === 'IsString' ? typeof value === 'string'
            : test === 'IsBoolean' ? typeof value === 'boolean'
              : isTimestamp(value);
    return actual === expected;
  }
  if ('StringMatches' in rule) return typeof value === 'string' && wildcardMatches(String(rule.StringMatches), value);
  const operator = Object.keys(rule).find((k) => COMPARISON_OPERATORS.includes(k))!;
  const m = /^(String|Numeric|Boolean|Timestamp)(Equals|LessThanEquals|GreaterThanEquals|LessThan|GreaterThan)(Path)?$/.exec(operator)!;
  const other = m[3] ? read(String(rule[operator]), data, context) : rule[operator];
  return compare(m[1], m[2], value, other);
}

function read(path: string, data: unknown, context: unknown): unknown {
  try {
    return readPath(path, data, context);
  } catch (error) {
    if (error instanceof PathMissing) throw new AslRuntimeError(States.Runtime, `Invalid path '${path}': the choice state's condition path references an invalid value`);
    throw error;
  }
}

/**
 * The index of the first rule that holds, or -1 when none does. Throws AslRuntimeError when a
 * rule's path matches nothing.
 */
export function pickChoice(rules: ChoiceRule[], data: unknown, context: unknown): number {
  return rules.findIndex((r) => evaluateRule(r, data, context));
}
