/**
 * The draft-07 meta-schema check that `npm run build` precompiles (scripts/build-schema-check.mjs)
 * stands in for ajv's own check when a workflow is built: it must refuse the same schemas with
 * the same message, and a workflow built with it must refuse what it refused before.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Ajv as AjvInstance, ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { AJV_OPTIONS } from '../../src/dsl/ajv-options.js';
import { DefinitionError, workflow } from '../../src/index.js';
import { ROOT } from '../cli/cli-helpers.js';

const require = createRequire(import.meta.url);
const { Ajv } = require('ajv') as { Ajv: new (o: object) => AjvInstance };
const addFormats = (require('ajv-formats') as { default: (a: AjvInstance) => AjvInstance }).default;
type Check = ((schema: unknown) => boolean) & { errors?: ErrorObject[] | null };

const SCHEMAS: unknown[] = [
  { type: 'objekt' }, { type: 'object', required: 'x' }, { minLength: -1 }, { enum: [] },
  { properties: { a: { type: ['string', 'strin'] } } }, { items: [{ type: 'x' }] }, { allOf: [{ not: { type: 3 } }] },
  { dependencies: { a: 5 } }, { $schema: 'http://json-schema.org/draft-07/schema#', type: 'string' },
  { type: 'object', required: ['a'], properties: { a: { type: 'string', format: 'email', pattern: '^x' } }, additionalProperties: false },
];

describe('the precompiled draft-07 meta-schema check', () => {
  it("accepts and refuses what ajv's own check does, with the same message", () => {
    const check = require(join(ROOT, 'dist/src/dsl/draft-07-check.cjs')) as Check;
    const ajv = addFormats(new Ajv(AJV_OPTIONS));
    for (const schema of SCHEMAS) {
      const expected = ajv.validateSchema(schema as object) ? '' : ajv.errorsText();
      const actual = check(schema) ? '' : ajv.errorsText(check.errors);
      expect(actual, JSON.stringify(schema)).toBe(expected);
    }
  });

  it('a workflow refuses a schema the meta-schema refuses, or another dialect it does not know, at build', () => {
    for (const input of [{ type: 'object', required: 'x' }, { $schema: 'http://json-schema.org/draft-06/schema#', type: 'object' }, { $schema: 5 }]) {
      expect(() => workflow('w', { input: input as never }).pass('p').build()).toThrow(DefinitionError);
    }
    expect(() => workflow('w', { input: { $schema: 'http://json-schema.org/draft-07/schema', type: 'object' } }).pass('p').build()).not.toThrow();
  });
});
