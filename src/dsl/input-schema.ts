/**
 * A workflow's input schema, checked when an execution starts so that every door (HTTP, CLI,
 * code) refuses an input that does not match, naming the first mismatch, instead of failing
 * later inside a handler. Either a JSON Schema (checked with ajv, shown as is in `describe` and
 * the OpenAPI document) or a Standard Schema object (zod, valibot, arktype, ...).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Ajv, AnySchema, ErrorObject, ValidateFunction } from 'ajv';
import { DefinitionError } from '../core/errors.js';
import { lazyRequire } from '../core/lazy-require.js';
import { packageRoot } from '../core/package-root.js';
import { errorPath, validationMessage } from '../core/validation-message.js';
import { AJV_OPTIONS, DRAFT_07 } from './ajv-options.js';

export type { CompiledInputSchema, InputMismatch, InputSchema, JsonSchema, StandardInput, StandardSchemaV1 } from './input-schema-types.js';
import type { CompiledInputSchema, InputMismatch, InputSchema, JsonSchema, StandardResult, StandardSchemaV1 } from './input-schema-types.js';

// Loaded by the first JSON Schema a workflow declares, and only the dialects in use: a process
// whose workflows have no input schema never loads ajv for them (src/core/lazy-require.ts).
type AjvClass = new (options: typeof AJV_OPTIONS & { validateSchema?: boolean }) => Ajv;
const ajvDraft07 = lazyRequire<{ Ajv: AjvClass }>('ajv');
const ajv2019 = lazyRequire<{ Ajv2019: AjvClass }>('ajv/dist/2019.js');
const ajv2020 = lazyRequire<{ Ajv2020: AjvClass }>('ajv/dist/2020.js');
const addFormats = lazyRequire<{ default: (ajv: Ajv) => Ajv }>('ajv-formats');

type MetaCheck = ((schema: unknown) => boolean) & { errors?: ErrorObject[] | null };
let draft07Check: MetaCheck | null | undefined;

/**
 * The draft-07 meta-schema check that `npm run build` precompiles (scripts/build-schema-check.mjs),
 * so the first input schema does not make ajv compile the meta-schema; null when src/ runs
 * without a build or the package is bundled into an application, and ajv checks against the
 * meta-schema itself as usual.
 */
function precompiledDraft07(): MetaCheck | null {
  if (draft07Check !== undefined) return draft07Check;
  let root: string;
  try {
    root = packageRoot();
  } catch {
    // The package bundled into an application: no package.json of ours to find; ajv checks.
    return (draft07Check = null);
  }
  const path = join(root, 'dist/src/dsl/draft-07-check.cjs');
  draft07Check = existsSync(path) ? (createRequire(import.meta.url)(path) as MetaCheck) : null;
  return draft07Check;
}

const validators = new Map<string, Ajv>();

function ajvFor(key: '07' | '2019' | '2020'): Ajv {
  let ajv = validators.get(key);
  if (!ajv) {
    const Dialect = key === '2020' ? ajv2020().Ajv2020 : key === '2019' ? ajv2019().Ajv2019 : ajvDraft07().Ajv;
    // Draft-07 schemas are checked against the meta-schema before compile (checkAgainstMeta).
    ajv = addFormats().default(new Dialect({ ...AJV_OPTIONS, ...(key === '07' && precompiledDraft07() ? { validateSchema: false } : {}) }));
    validators.set(key, ajv);
  }
  return ajv;
}

/**
 * What ajv's compile does first (Ajv#validateSchema, which throws 'schema is invalid: ...'), with
 * the precompiled check for draft-07; the draft-07 ajv is made with validateSchema off only when
 * that check exists, so every schema is checked once, by the same rules and with the same message.
 */
function checkAgainstMeta(ajv: Ajv, key: string, schema: JsonSchema): void {
  const check = key === '07' ? precompiledDraft07() : null;
  if (!check) return;
  const $schema = schema.$schema;
  if ($schema !== undefined && $schema !== DRAFT_07 && $schema !== `${DRAFT_07}#`) {
    void ajv.validateSchema(schema as AnySchema, true); // throws "schema is invalid: ..." itself
    return;
  }
  if (!check(schema)) throw new Error(`schema is invalid: ${ajv.errorsText(check.errors)}`);
}

function isStandardSchema(schema: unknown): schema is StandardSchemaV1 {
  const std = (schema as { '~standard'?: { version?: unknown; validate?: unknown } } | null)?.['~standard'];
  return typeof std === 'object' && std !== null && std.version === 1 && typeof std.validate === 'function';
}

function pointer(path: readonly string[]): string {
  return path.map((p) => `/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function compileJsonSchema(schema: JsonSchema, workflow: string): CompiledInputSchema {
  let validate: ValidateFunction;
  try {
    const dialect = String(schema.$schema ?? '');
    const key = dialect.includes('2020-12') ? '2020' : dialect.includes('2019-09') ? '2019' : '07';
    const ajv = ajvFor(key);
    checkAgainstMeta(ajv, key, schema);
    validate = ajv.compile(schema as AnySchema);
  } catch (err) {
    throw new DefinitionError(`workflow '${workflow}': the input schema is not a valid JSON Schema: ${(err as Error).message}`);
  }
  const jsonSchema = JSON.parse(JSON.stringify(schema)) as JsonSchema;
  return {
    jsonSchema,
    check(value) {
      if (validate(value)) return undefined;
      const errors = validate.errors ?? [];
      const first = errors[0];
      return { path: first ? pointer(errorPath(first)) : '', message: validationMessage('input', errors) };
    },
  };
}

function compileStandardSchema(schema: StandardSchemaV1): CompiledInputSchema {
  const std = schema['~standard'];
  let jsonSchema: JsonSchema = { description: `Checked by ${std.vendor} (Standard Schema).` };
  try {
    const described = std.jsonSchema?.input?.({ target: 'draft-07' });
    if (described && typeof described === 'object') jsonSchema = JSON.parse(JSON.stringify(described)) as JsonSchema;
  } catch {
    // A library that cannot describe this schema as JSON Schema still checks inputs.
  }
  const first = (result: StandardResult): InputMismatch | undefined => {
    const issue = result.issues?.[0];
    if (!issue) return undefined;
    const path = (issue.path ?? []).map((p) => String(typeof p === 'object' && p !== null ? p.key : p));
    return { path: pointer(path), message: `${['input', ...path].join('.')}: ${issue.message}` };
  };
  return {
    jsonSchema,
    check(value) {
      const result = std.validate(value);
      return result instanceof Promise ? result.then(first) : first(result);
    },
  };
}

/** Checks and compiles `schema` when the workflow is built; a bad schema is a DefinitionError. */
export function compileInputSchema(schema: InputSchema, workflow: string): CompiledInputSchema {
  if (isStandardSchema(schema)) return compileStandardSchema(schema);
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new DefinitionError(`workflow '${workflow}': input must be a JSON Schema object or a Standard Schema (zod, valibot, ...)`);
  }
  return compileJsonSchema(schema, workflow);
}
