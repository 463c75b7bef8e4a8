/**
 * The ajv options of input schemas, shared by src/dsl/input-schema.ts and the build script that
 * precompiles the draft-07 meta-schema check (scripts/build-schema-check.mjs): the precompiled
 * check must be what ajv would compile with these options. Strict about the schema itself (an
 * unknown keyword is a typo worth a DefinitionError), never mutating the input (no defaults, no
 * coercion, nothing removed): the check only refuses.
 */
export const AJV_OPTIONS = {
  allErrors: false,
  strict: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  addUsedSchema: false,
  useDefaults: false,
  coerceTypes: false,
  removeAdditional: false,
} as const;

/** The draft-07 meta-schema's id as ajv keys it (an input schema's `$schema` may add a '#'). */
export const DRAFT_07 = 'http://json-schema.org/draft-07/schema';
