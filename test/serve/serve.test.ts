/**
 * `serve()` in this process: a running handle, the refusals that keep it safe, workflow modules
 * (and every way one can be wrong), and workflows built by another copy of the package.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, ServeError, TerminalError, Workflow, openStore, serve, webhook, workflow, type StepwiseServer } from '../../src/index.js';
import { ROOT, ensureBuilt } from '../cli/cli-helpers.js';

const hello = workflow<{ name: string }>('hello', {
  input: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
}).task('greet', async (d) => `hello ${d.name}`).build();

const QUIET = { logLevel: 'silent', port: 0, db: ':memory:' } as const;
const SRC_INDEX = join(ROOT, 'src/index.ts');
const DIST_INDEX = join(ROOT, 'dist/src/index.js');

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'stepwise-serve-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes a module into the temp directory and returns its path. */
function module(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

async function refused(promise: Promise<unknown>, code: string): Promise<string> {
  const error = await promise.then(
    (server) => {
      void (server as StepwiseServer).close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error, 'serve() should have refused').toBeInstanceOf(ServeError);
  expect((error as ServeError).code).toBe(code);
  return (error as ServeError).message;
}

async function post(server: StepwiseServer, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('serve()', () => {
  it('returns a running handle: url, engine, store, app, and an idempotent close()', async () => {
    const server = await serve({ ...QUIET, workflows: [hello] });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.engine).toBeInstanceOf(Engine);
      const started = await post(server, '/v1/workflows/hello/executions', { id: 'h-1', input: { name: 'Ada' } });
      expect(started.status).toBe(201);
      expect(await server.engine.waitForEnd('h-1', 10_000)).toMatchObject({ status: 'SUCCEEDED', output: 'hello Ada' });
      expect((await server.store.getExecution('h-1'))?.status).toBe('SUCCEEDED');
      expect((await post(server, '/v1/workflows/hello/executions', { input: null })).body.error.code).toBe('VALIDATION_FAILED');
    } finally {
      await server.close();
      await server.close();
    }
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('serves the webhooks it is given, and refuses to start when one names an unknown workflow', async () => {
    const hook = (workflow: string) => webhook({ name: 'greetings', workflow, secret: 'a-webhook-secret-of-some-length-0123456789' });
    const server = await serve({ ...QUIET, workflows: [hello], hooks: [hook('hello')] });
    try {
      const unsigned = await post(server, '/v1/hooks/greetings', { name: 'Ada' });
      expect(unsigned).toMatchObject({ status: 401, body: { error: { code: 'SIGNATURE_INVALID' } } });
    } finally {
      await server.close();
    }
    expect(await refused(serve({ ...QUIET, workflows: [hello], hooks: [hook('nope')] }), 'BAD_CONFIG')).toContain("webhook 'greetings' starts workflow 'nope', which is not served");
  });

  it('leaves a store it was given open', async () => {
    const store = await openStore(':memory:');
    const server = await serve({ ...QUIET, workflows: [hello], store });
    await server.close();
    expect(await store.listExecutions({ limit: 1 })).toEqual({ items: [] });
    await store.close();
  });

  it('refuses to listen beyond loopback without a token, before opening anything', async () => {
    const message = await refused(serve({ ...QUIET, workflows: [hello], host: '0.0.0.0', db: join(tmp, 'never', 'x.db') }), 'INSECURE');
    expect(message).toContain('0.0.0.0');
    const withToken = await serve({ ...QUIET, workflows: [hello], host: '0.0.0.0', token: 'secret' });
    try {
      const port = new URL(withToken.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/v1/workflows`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${port}/v1/workflows`, { headers: { authorization: 'Bearer secret' } })).status).toBe(200);
    } finally {
      await withToken.close();
    }
  });

  it('refuses bad options and an empty set of workflows', async () => {
    expect(await refused(serve({ ...QUIET, workflows: [hello], prot: 1 } as never), 'BAD_CONFIG')).toMatch(/^serve\(\): unknown option 'prot'/);
    expect(await refused(serve({ ...QUIET, workflows: [hello], port: 70_000 }), 'BAD_CONFIG')).toContain('port must be an integer from 0 to 65535');
    expect(await refused(serve({ ...QUIET, workflows: [hello], engine: { concurency: 2 } } as never), 'BAD_CONFIG')).toContain("'engine.concurency'");
    expect(await refused(serve({ ...QUIET, workflows: [workflow('x').pass('p') as never] }), 'BAD_CONFIG')).toContain('.build()');
    expect(await refused(serve({ ...QUIET }), 'USAGE')).toContain('no workflows to serve');
  });

  it('reports a taken port as ADDRESS_IN_USE and releases the store it opened', async () => {
    const first = await serve({ ...QUIET, workflows: [hello] });
    const db = join(tmp, 'in-use.db');
    try {
      await refused(serve({ ...QUIET, workflows: [hello], port: Number(new URL(first.url).port), db }), 'ADDRESS_IN_USE');
    } finally {
      await first.close();
    }
    const again = await serve({ ...QUIET, workflows: [hello], db });
    await again.close();
  });

  it('reports a store it cannot open as STORE_UNAVAILABLE', async () => {
    const file = module('not-a-dir', 'x');
    expect(await refused(serve({ ...QUIET, workflows: [hello], db: join(file, 'sub', 'x.db') }), 'STORE_UNAVAILABLE')).toContain('cannot create the directory');
  });
});

describe('serve() with workflow modules', () => {
  it('registers every exported workflow, the default array first, in order', async () => {
    const path = module(
      'several.ts',
      `import { workflow } from ${JSON.stringify(SRC_INDEX)};
       const v1 = workflow('order', { version: 'v1' }).pass('p').build();
       const v2 = workflow('order', { version: 'v2' }).pass('p').succeed('done').build();
       export const other = workflow('other').pass('p').build();
       export const notAWorkflow = 42;
       export default [v1, v2];`,
    );
    const server = await serve({ ...QUIET, modules: [path] });
    try {
      const names = server.engine.listWorkflows().map((w) => `${w.name}@${w.version}`);
      expect(names).toEqual(['order@v2', expect.stringMatching(/^other@/)]);
      const started = await post(server, '/v1/workflows/order/executions', { input: {} });
      expect(started.body.version).toBe('v2');
    } finally {
      await server.close();
    }
  });

  it('names the module and the problem for every way a module can be wrong (BAD_MODULE)', async () => {
    mkdirSync(join(tmp, 'a-directory'), { recursive: true });
    const cases: Array<[string, RegExp]> = [
      [join(tmp, 'missing.ts'), /cannot find workflow module .*missing\.ts/],
      [join(tmp, 'a-directory'), /is not a file/],
      [module('syntax.ts', 'export const = ;'), /cannot load workflow module .*syntax\.ts/],
      [module('throws.mjs', "throw new Error('boom at load');"), /cannot load workflow module .*throws\.mjs: boom at load/],
      [module('empty.mjs', 'export const answer = 42;'), /empty\.mjs exports no workflow/],
      [
        module('unbuilt.ts', `import { workflow } from ${JSON.stringify(SRC_INDEX)}; export const draft = workflow('d').pass('p');`),
        /draft is not built \(did you forget \.build\(\)\?\)/,
      ],
      [module('bad-default.mjs', 'export default [1];'), /item 0 of the default export is not a built workflow/],
      [
        module('bad-definition.ts', `import { workflow } from ${JSON.stringify(SRC_INDEX)}; export const w = workflow('w').task('a', async () => 1, { next: 'nowhere' }).build();`),
        /bad-definition\.ts: state 'a' goes to unknown state 'nowhere'/,
      ],
      [
        module(
          'two-versions.ts',
          `import { workflow } from ${JSON.stringify(SRC_INDEX)};
           export const a = workflow('same', { version: '1' }).pass('p').build();
           export const b = workflow('same', { version: '2' }).pass('p').build();`,
        ),
        /two versions of workflow 'same'.*default array ordered oldest first/,
      ],
    ];
    for (const [path, expected] of cases) {
      expect(await refused(serve({ ...QUIET, modules: [path] }), 'BAD_MODULE')).toMatch(expected);
    }
  });
});

describe('workflows built by another copy of the package', () => {
  let server: StepwiseServer;
  beforeAll(async () => {
    // The module builds its workflows with the compiled package (dist) while this test serves
    // them with the sources: two copies, two Workflow classes, two TerminalError classes.
    await ensureBuilt();
    const path = module(
      'other-copy.mjs',
      `import { workflow, TerminalError } from ${JSON.stringify(DIST_INDEX)};
       export const strict = workflow('strict', { input: { type: 'object', required: ['n'] } })
         .task('refuse', async () => { throw new TerminalError('NoWay', 'terminal across copies'); }, {
           retry: [{ errors: ['*'], intervalMs: 1, maxAttempts: 5 }],
         })
         .build();`,
    );
    server = await serve({ ...QUIET, modules: [path] });
  }, 240_000);
  afterAll(async () => server?.close());

  it('are recognised and served (though instanceof cannot see them)', async () => {
    const other = (await import(DIST_INDEX)) as typeof import('../../src/index.js');
    expect(other.Workflow).not.toBe(Workflow);
    expect(other.TerminalError).not.toBe(TerminalError);
    expect(Object.getPrototypeOf(other.workflow('w').pass('p').build())).not.toBe(Workflow.prototype);
    expect(server.engine.listWorkflows().map((w) => w.name)).toEqual(['strict']);
  });

  it("keep their errors' meaning: a schema mismatch is a 400, a TerminalError is never retried", async () => {
    const bad = await post(server, '/v1/workflows/strict/executions', { input: {} });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toEqual({ code: 'VALIDATION_FAILED', message: 'input.n is required' });

    const started = await post(server, '/v1/workflows/strict/executions', { id: 'copy-1', input: { n: 1 } });
    expect(started.status).toBe(201);
    const ended = await server.engine.waitForEnd('copy-1', 10_000);
    expect(ended.error).toEqual({ code: 'NoWay', message: 'terminal across copies' });
    const history = await server.engine.getHistory('copy-1', { limit: 100 });
    expect(history.events.filter((e) => e.type === 'StepFailed')).toHaveLength(1);
    expect(history.events.filter((e) => e.type === 'RetryScheduled')).toHaveLength(0);
  });
});
