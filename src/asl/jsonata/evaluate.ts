/**
 * JSONata mode: a string that is wholly `{% expression %}` is evaluated with the `jsonata`
 * package, with `$states` ({ input, result, errorOutput, context }) and the workflow's variables
 * bound; objects and arrays are processed field by field; other values are literal. jsonata's
 * `evaluate` is async and `$now()` differs per call, so this runs only inside handlers, whose
 * results are stored in history and never evaluated again on replay.
 */
import type JsonataModule from 'jsonata';
import { lazyRequire } from '../../core/lazy-require.js';
import { AslRuntimeError, States } from '../asl-errors.js';

type Jsonata = typeof JsonataModule;
/** Loaded by the first JSONata expression, not with the package (src/core/lazy-require.ts). */
const jsonata = lazyRequire<Jsonata>('jsonata');

const EXPRESSION = /^\{%([\s\S]*)%\}$/;
const compiled = new Map<string, ReturnType<Jsonata>>();

export interface JsonataBindings {
  states: { input: unknown; result?: unknown; errorOutput?: unknown; context: unknown };
  variables: Record<string, unknown>;
}

/** The expression inside `{% %}`, or undefined for a literal string. */
export function expressionOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return EXPRESSION.exec(value.trim())?.[1];
}

/** Throws an Error naming the problem when `expression` is not valid JSONata. */
export function checkExpression(expression: string): void {
  compile(expression);
}

function compile(expression: string): ReturnType<Jsonata> {
  let found = compiled.get(expression);
  if (!found) {
    found = jsonata()(expression);
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(expression, found);
  }
  return found;
}

export async function evaluateTemplate(template: unknown, bindings: JsonataBindings, field: string): Promise<unknown> {
  const expression = expressionOf(template);
  if (expression !== undefined) {
    let value: unknown;
    try {
      value = await compile(expression).evaluate({}, { ...bindings.variables, states: bindings.states });
    } catch (error) {
      throw new AslRuntimeError(States.QueryEvaluationError, `${field}: ${(error as Error).message}`);
    }
    // jsonata marks sequences with extra properties; a JSON round trip gives plain data.
    return value === undefined ? null : JSON.parse(JSON.stringify(value));
  }
  if (Array.isArray(template)) return Promise.all(template.map((t) => evaluateTemplate(t, bindings, field)));
  if (template !== null && typeof template === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(template)) out[key] = await evaluateTemplate(value, bindings, field);
    return out;
  }
  return template;
}

/** Every `{% %}` expression in a template, for definition checks. */
export function expressionsIn(template: unknown): string[] {
  const own = expressionOf(template);
  if (own !== undefined) return [own];
  if (Array.isArray(template)) return template.flatMap(expressionsIn);
  if (template !== null && typeof template === 'object') return Object.values(template).flatMap(expressionsIn);
  return [];
}
