/**
 * The types of a workflow's input schema, apart from the code that checks it (input-schema.ts):
 * the history page's browser code reaches them through definition.ts, and must not reach the
 * Node-only loader of ajv.
 */

/** A JSON Schema object (draft-07 by default; draft 2019-09 and 2020-12 when `$schema` says so). */
export type JsonSchema = Record<string, unknown>;

export type StandardIssue = { message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> };
export type StandardResult = { value: unknown; issues?: undefined } | { issues: ReadonlyArray<StandardIssue> };

/** The Standard Schema v1 interface (https://standardschema.dev), as far as Stepwise uses it. */
export interface StandardSchemaV1<Input = unknown> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult | Promise<StandardResult>;
    readonly types?: { readonly input: Input; readonly output: unknown } | undefined;
    /** Standard JSON Schema: present on libraries that can describe themselves as JSON Schema. */
    readonly jsonSchema?: { readonly input?: (options: { target: string }) => Record<string, unknown> };
  };
}

/** The input type a Standard Schema accepts. */
export type StandardInput<S> = S extends StandardSchemaV1<infer I> ? I : unknown;

export type InputSchema = JsonSchema | StandardSchemaV1;

/** The first place an input departs from its schema. */
export interface InputMismatch {
  /** JSON Pointer into the input ('' for the input itself), e.g. '/customer/email'. */
  path: string;
  /** For people, naming the path: "input.customer.email must be string". */
  message: string;
}

export interface CompiledInputSchema {
  /** Undefined when the input matches. A Standard Schema may answer asynchronously. */
  check(value: unknown): InputMismatch | undefined | Promise<InputMismatch | undefined>;
  /** The schema as JSON Schema, for `describe` and the OpenAPI document. */
  readonly jsonSchema: JsonSchema;
}
