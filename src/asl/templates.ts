/**
 * Payload templates (Parameters, ResultSelector, ItemSelector, Pass Result is literal): a field
 * whose name ends in `.$` takes its value from a path or an intrinsic function; other fields are
 * copied, nested objects and arrays processed the same way.
 */
import { AslRuntimeError, States } from './asl-errors.js';
import { evaluateIntrinsic, NONDETERMINISTIC, functionsUsed } from './intrinsics.js';
import { looksLikeIntrinsic, parseIntrinsic } from './intrinsics-parser.js';
import { PathMissing, readPath } from './paths.js';

export function applyTemplate(template: unknown, data: unknown, context: unknown, field: string): unknown {
  if (Array.isArray(template)) return template.map((t) => applyTemplate(t, data, context, field));
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && typeof value === 'string') {
      out[key.slice(0, -2)] = dynamicValue(value, data, context, field, key);
    } else {
      out[key] = applyTemplate(value, data, context, field);
    }
  }
  return out;
}

function dynamicValue(expr: string, data: unknown, context: unknown, field: string, key: string): unknown {
  if (looksLikeIntrinsic(expr)) return evaluateIntrinsic(expr, data, context);
  try {
    return readPath(expr, data, context);
  } catch (error) {
    if (error instanceof PathMissing) {
      throw new AslRuntimeError(States.ParameterPathFailure, `${field} field '${key}': ${error.message}`);
    }
    throw error;
  }
}

/** Whether a template calls a function whose result differs between calls (States.UUID, ...). */
export function templateIsNondeterministic(template: unknown): boolean {
  if (Array.isArray(template)) return template.some(templateIsNondeterministic);
  if (template === null || typeof template !== 'object') return false;
  return Object.entries(template).some(([key, value]) => {
    if (key.endsWith('.$') && typeof value === 'string' && looksLikeIntrinsic(value)) {
      try {
        return functionsUsed(parseIntrinsic(value)).some((n) => NONDETERMINISTIC.has(n));
      } catch {
        return false;
      }
    }
    return templateIsNondeterministic(value);
  });
}
