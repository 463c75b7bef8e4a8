/**
 * `stepwise serve` as a user runs it: the compiled CLI serving a TypeScript module (through tsx)
 * that builds its workflows with the package's sources, so the server (dist) and the module (src)
 * use two copies of Stepwise; options from a stepwise.config.ts; and the start-up refusals.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cli, ensureBuilt, spawnServe, waitExit, type RunResult } from './cli-helpers.js';

const SRC_INDEX = join(ROOT, 'src/index.js');

function expectRefusal(r: RunResult, exitCode: number, code: string, text: RegExp): void {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(exitCode);
  expect(r.stderr).toMatch(/^stepwise: [A-Z_]+: [^\n]+\n$/);
  expect(r.stderr.startsWith(`stepwise: ${code}: `), r.stderr).toBe(true);
  expect(r.stderr).toMatch(text);
}

let tmp: string;
let dirs = 0;
beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'stepwise-serve-cli-'));
}, 240_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function project(files: Record<string, string>): string {
  const dir = join(tmp, `p${++dirs}`);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const WORKFLOWS = `import { workflow, TerminalError } from ${JSON.stringify(SRC_INDEX)};

interface Greeting { name: string }

export const greet = workflow<Greeting>('greet', {
  input: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
}).task('say', async (d) => \`hi \${d.name}\`).build();

export const refuse = workflow('refuse')
  .task('no', async () => { throw new TerminalError('NoWay', 'never retried'); }, { retry: [{ errors: ['*'], intervalMs: 1, maxAttempts: 4 }] })
  .build();
`;

describe('stepwise serve <module.ts>', () => {
  it('serves a TypeScript module with options from stepwise.config.ts, the environment overriding it', async () => {
    const cwd = project({
      'flows/workflows.ts': WORKFLOWS,
      'stepwise.config.ts': "export default { modules: ['./flows/workflows.ts'], port: 1, db: './state/stepwise.db', logLevel: 'info' as const };",
    });
    const server = await spawnServe({ PORT: '0' }, [], cwd);
    try {
      const post = (name: string, body: unknown) =>
        fetch(`${server.url}/v1/workflows/${name}/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const names = ((await (await fetch(`${server.url}/v1/workflows`)).json()) as { workflows: Array<{ name: string }> }).workflows.map((w) => w.name);
      expect(names.sort()).toEqual(['greet', 'refuse']);

      const refused = await post('greet', { input: { nom: 'x' } });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'input.name is required' } });

      expect((await post('greet', { id: 'g-1', input: { name: 'Ada' } })).status).toBe(201);
      expect((await post('refuse', { id: 'r-1', input: {} })).status).toBe(201);
      const greeted = await cli(['start', 'greet', '--id', 'g-1', '--input', '{"name":"Ada"}', '--wait', '--url', server.url]);
      expect(JSON.parse(greeted.stdout)).toMatchObject({ status: 'SUCCEEDED', output: 'hi Ada' });
      const failed = await cli(['start', 'refuse', '--id', 'r-1', '--input', '{}', '--wait', '--url', server.url]);
      expect(failed.code).toBe(5);
      const history = await cli(['history', 'r-1', '--json', '--url', server.url]);
      const types = (JSON.parse(history.stdout) as { events: Array<{ type: string }> }).events.map((e) => e.type);
      // The module's TerminalError (from the sources) is terminal to the server (the compiled package).
      expect(types.filter((t) => t === 'StepFailed')).toHaveLength(1);
      expect(types).not.toContain('RetryScheduled');
    } finally {
      server.child.kill('SIGTERM');
      expect((await waitExit(server.child)).code).toBe(0);
    }
  }, 60_000);

  it('refuses a module that is missing or exports no workflow, and a bad config: one line, exit 2', async () => {
    const cwd = project({ 'nothing.ts': 'export const answer: number = 42;\n' });
    expectRefusal(await cli(['serve', 'missing.ts'], { cwd, env: { PORT: '0' } }), 2, 'BAD_MODULE', /cannot find workflow module missing\.ts/);
    expectRefusal(await cli(['serve', 'nothing.ts'], { cwd, env: { PORT: '0' } }), 2, 'BAD_MODULE', /nothing\.ts exports no workflow/);
    expectRefusal(await cli(['serve'], { cwd, env: { PORT: '0' } }), 2, 'USAGE', /no workflows to serve/);
    const badConfig = project({ 'stepwise.config.mjs': 'export default { port: -5 };' });
    expectRefusal(await cli(['serve'], { cwd: badConfig }), 2, 'BAD_CONFIG', /stepwise\.config\.mjs: port must be an integer/);
  }, 60_000);
});
