import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { DefinitionError, StepwiseError, workflow, type StandardSchemaV1, type Workflow } from '../../src/index.js';
import { virtualEngine } from '../helpers/virtual-engine.js';

const orderSchema = {
  type: 'object',
  required: ['orderId', 'customer'],
  properties: {
    orderId: { type: 'string' },
    customer: { type: 'object', required: ['email'], properties: { email: { type: 'string', format: 'email' } } },
    items: { type: 'array', items: { type: 'object', properties: { qty: { type: 'integer', minimum: 1 } } } },
  },
};

const order = workflow<{ orderId: string }>('order', { input: orderSchema }).task('take', async (d) => d.orderId).build();

/** A hand-written Standard Schema (what zod, valibot or arktype hand over): a string with a minimum length. */
function minLength(n: number, opts: { async?: boolean; jsonSchema?: boolean } = {}): StandardSchemaV1<{ name: string }> {
  const validate = (value: unknown) => {
    const name = (value as { name?: unknown } | null)?.name;
    const result = typeof name === 'string' && name.length >= n
      ? { value }
      : { issues: [{ message: `expected a name of at least ${n} characters`, path: [{ key: 'name' }] }] };
    return opts.async ? Promise.resolve(result) : result;
  };
  return {
    '~standard': {
      version: 1, vendor: 'handmade', validate,
      ...(opts.jsonSchema ? { jsonSchema: { input: () => ({ type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: n } } }) } } : {}),
    },
  };
}

async function refusal(promise: Promise<unknown>): Promise<StepwiseError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StepwiseError);
  expect((error as StepwiseError).code).toBe('VALIDATION_FAILED');
  return error as StepwiseError;
}

describe('a workflow checks its input at the door', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('refuses a mismatch with VALIDATION_FAILED naming the first mismatch, and stores nothing', async () => {
    const v = await virtualEngine([order]);
    close = v.close;
    const cases: Array<[unknown, string, string]> = [
      [null, 'input must be object', ''],
      [{ customer: { email: 'a@b.co' } }, 'input.orderId is required', '/orderId'],
      [{ orderId: 'o', customer: {} }, 'input.customer.email is required', '/customer/email'],
      [{ orderId: 'o', customer: { email: 'not an email' } }, 'input.customer.email must match format "email"', '/customer/email'],
      [{ orderId: 'o', customer: { email: 'a@b.co' }, items: [{ qty: 1 }, { qty: 0 }] }, 'input.items.1.qty must be >= 1', '/items/1/qty'],
    ];
    for (const [input, message, path] of cases) {
      const error = await refusal(v.engine.startExecution('order', input));
      expect(error.message).toBe(message);
      expect(error.details).toMatchObject({ field: 'input', path, workflow: 'order' });
    }
    expect((await v.engine.listExecutions()).items).toEqual([]);
  });

  it('starts and runs an input that matches', async () => {
    const v = await virtualEngine([order]);
    close = v.close;
    const id = await v.start('order', { orderId: 'o-1', customer: { email: 'a@b.co' } });
    expect(await v.runToEnd(id)).toMatchObject({ status: 'SUCCEEDED', output: 'o-1' });
  });

  it('accepts a Standard Schema (sync or async), with the path of its first issue', async () => {
    for (const async of [false, true]) {
      const named = workflow(`named${async ? 'Async' : 'Sync'}`, { input: minLength(3, { async }) }).pass('p').build();
      const v = await virtualEngine([named]);
      try {
        const error = await refusal(v.engine.startExecution(named.name, { name: 'ab' }));
        expect(error.message).toBe('input.name: expected a name of at least 3 characters');
        expect(error.details).toMatchObject({ path: '/name' });
        const id = await v.start(named.name, { name: 'abc' });
        expect((await v.runToEnd(id)).status).toBe('SUCCEEDED');
      } finally {
        await v.close();
      }
    }
  });

  it('takes the workflow input type from a Standard Schema', () => {
    // `d.name` compiles only if the handler's input type came from the schema.
    const typed = workflow('typed', { input: minLength(1) }).task('t', async (d) => d.name.length).build();
    expectTypeOf(typed).toEqualTypeOf<Workflow<{ name: string }>>();
  });
});

describe('the schema is part of the description, not of the version', () => {
  it('describe() carries the JSON Schema', () => {
    expect(order.describe().input).toEqual(orderSchema);
    expect(workflow('none').pass('p').build().describe()).not.toHaveProperty('input');
  });

  it('a Standard Schema is described by its own JSON Schema when it offers one, else by a note', () => {
    expect(workflow('a', { input: minLength(2, { jsonSchema: true }) }).pass('p').build().describe().input).toEqual({
      type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 2 } },
    });
    expect(workflow('b', { input: minLength(2) }).pass('p').build().describe().input).toEqual({
      description: 'Checked by handmade (Standard Schema).',
    });
  });

  it('adding a schema does not change the version (running executions are past the door)', () => {
    const plain = workflow<{ orderId: string }>('order').task('take', async (d) => d.orderId).build();
    expect(order.version).toBe(plain.version);
  });

  it('JSON Schema dialects: draft-07 by default, 2020-12 when $schema says so', async () => {
    const modern = workflow('modern', {
      input: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'string' }], items: false },
    }).pass('p').build();
    const v = await virtualEngine([modern]);
    try {
      expect((await refusal(v.engine.startExecution('modern', ['a', 'b']))).details).toMatchObject({ path: '' });
      await v.start('modern', ['a']);
    } finally {
      await v.close();
    }
  });
});

describe('a bad schema is refused when the workflow is built', () => {
  it('names the workflow and the problem', () => {
    for (const input of [{ type: 'objekt' }, { type: 'object', requried: ['x'] }, 42, null]) {
      let error: unknown;
      try {
        workflow('w', { input: input as never }).pass('p').build();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DefinitionError);
      expect((error as Error).message).toMatch(/^workflow 'w': /);
    }
  });
});
