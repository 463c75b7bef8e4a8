/**
 * The API's request validators, compiled on a route's first request instead of when the server
 * starts. Compiling every route's schemas with ajv was the largest part of `stepwise serve`'s
 * start-up (docs/performance.md, cold start), and most routes of a running server are never
 * called. ajv itself is loaded by the first compile (src/core/lazy-require.ts).
 *
 * The API's ajv rejects what the schemas do not allow instead of silently dropping or converting
 * it (nothing removed or coerced); `useDefaults` fills the defaults the schemas declare.
 */
import type { Ajv, AnySchema, ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { lazyRequire } from '../core/lazy-require.js';

const ajvModule = lazyRequire<{ Ajv: new (options: object) => Ajv }>('ajv');
const addFormats = lazyRequire<{ default: (ajv: Ajv) => Ajv }>('ajv-formats');

/** What fastify calls: the validator with ajv's `errors` after each call. */
type LazyValidator = ((data: unknown, context?: unknown) => boolean) & { errors?: ValidateFunction['errors']; schemaEnv?: unknown };

/** A validator compiler for `app.setValidatorCompiler` whose validators compile on first use. */
export function lazyValidatorCompiler(): FastifySchemaCompiler<unknown> {
  let ajv: Ajv | undefined;
  const instance = () => (ajv ??= addFormats().default(new (ajvModule().Ajv)({ removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false, strict: false })));
  return ({ schema }) => {
    let compiled: ValidateFunction | undefined;
    const validate: LazyValidator = (data, context) => {
      compiled ??= instance().compile(schema as AnySchema);
      const ok = compiled(data, context as never);
      validate.errors = compiled.errors;
      return ok;
    };
    // fastify passes the parent object to a validator that has `schemaEnv` (an ajv one), so
    // that defaults can be applied to the request part as a whole.
    validate.schemaEnv = true;
    return validate;
  };
}
