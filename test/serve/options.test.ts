/**
 * Where `stepwise serve` takes its options from: the config file, then the environment, then the
 * flags (and modules named on the command line); and how each source says what is wrong.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveOptionsFrom } from '../../src/cli/serve.js';
import { ROOT } from '../cli/cli-helpers.js';
import { SERVE_OPTIONS, serveHelp, type ServeOptions } from '../../src/serve/options.js';
import { ServeError } from '../../src/serve/serve-error.js';

let root: string;
let dirs = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'stepwise-options-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fresh working directory holding the given files. */
function project(files: Record<string, string>): string {
  const dir = join(root, `p${++dirs}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function refusal(promise: Promise<unknown>, code: string): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ServeError);
  expect((error as ServeError).code).toBe(code);
  expect((error as ServeError).exitCode).toBe(2);
  return (error as Error).message;
}

const CONFIG = `export default {
  modules: ['./flows/a.ts', './flows/b.ts'],
  db: './state.db',
  port: 1111,
  host: '127.0.0.2',
  logLevel: 'warn',
  startRateLimit: { max: 5 },
  engine: { concurrency: 4, workerId: 'from-config' },
};`;

describe('serve options: config file < environment < flags', () => {
  it('reads stepwise.config.mjs, with modules relative to it', async () => {
    const cwd = project({ 'stepwise.config.mjs': CONFIG });
    expect(await serveOptionsFrom([], {}, cwd)).toEqual({
      modules: [join(cwd, 'flows/a.ts'), join(cwd, 'flows/b.ts')],
      db: './state.db',
      port: 1111,
      host: '127.0.0.2',
      logLevel: 'warn',
      startRateLimit: { max: 5 },
      engine: { concurrency: 4, workerId: 'from-config' },
      cwd,
    });
  });

  it('lets the environment override the file, and the flags both; nested groups merge key by key', async () => {
    const cwd = project({ 'stepwise.config.mjs': CONFIG });
    const env = { PORT: '2222', STEPWISE_DB: ':memory:', STEPWISE_LEASE_MS: '5000', STEPWISE_START_RATE_WINDOW_MS: '1000', HOST: '' };
    const options = await serveOptionsFrom(['--port', '3333', '--concurrency', '8', './other.ts'], env, cwd);
    expect(options).toMatchObject({
      modules: ['./other.ts'],
      db: ':memory:',
      port: 3333,
      host: '127.0.0.2',
      startRateLimit: { max: 5, timeWindowMs: 1000 },
      engine: { concurrency: 8, workerId: 'from-config', leaseMs: 5000 },
    });
  });

  it('loads a TypeScript config file, or the one --config names', async () => {
    const cwd = project({
      'stepwise.config.ts': "import type { ServeOptions } from '../../no/such/types.js';\nconst port: number = 4444;\nexport default { port } satisfies ServeOptions;",
      'other.mjs': 'export default { port: 5555 };',
    });
    expect(await serveOptionsFrom([], {}, cwd)).toMatchObject({ port: 4444 });
    expect(await serveOptionsFrom(['--config', 'other.mjs'], {}, cwd)).toMatchObject({ port: 5555 });
  });

  it('turns the AWS protocol off with STEPWISE_STEP_FUNCTIONS=0 or --no-step-functions, the flag winning', async () => {
    const cwd = project({ 'stepwise.config.mjs': 'export default { stepFunctions: true };' });
    expect(await serveOptionsFrom([], {}, cwd)).toMatchObject({ stepFunctions: true });
    expect(await serveOptionsFrom([], { STEPWISE_STEP_FUNCTIONS: '0' }, cwd)).toMatchObject({ stepFunctions: false });
    expect(await serveOptionsFrom(['--no-step-functions'], { STEPWISE_STEP_FUNCTIONS: '1' }, cwd)).toMatchObject({ stepFunctions: false });
  });

  it('takes triggers, webhooks, schedules and ASL handlers from the config file', async () => {
    const src = JSON.stringify(join(ROOT, 'src/index.ts'));
    const cwd = project({
      'stepwise.config.ts': `import { natsTrigger, schedule, webhook } from ${src};
export default {
  triggers: [natsTrigger({ name: 'n', workflow: 'w', servers: 'nats://127.0.0.1:4222', stream: 'S', subject: 's.in' })],
  hooks: [webhook({ name: 'h', workflow: 'w', secret: 'a-secret-of-enough-length' })],
  schedules: [schedule({ id: 's', cron: '@hourly', workflow: 'w' })],
  handlers: { charge: async () => 1 },
};`,
    });
    const options = (await serveOptionsFrom([], {}, cwd)) as ServeOptions;
    expect(options.triggers).toEqual([expect.objectContaining({ kind: 'nats', name: 'n' })]);
    expect(options.hooks).toEqual([expect.objectContaining({ kind: 'hook', name: 'h' })]);
    expect(options.schedules).toEqual([expect.objectContaining({ kind: 'schedule', id: 's' })]);
    expect(Object.keys(options.handlers ?? {})).toEqual(['charge']);
    const wrong = project({ 'stepwise.config.mjs': "export default { triggers: [{ kind: 'kafka' }] };" });
    expect(await refusal(serveOptionsFrom([], {}, wrong), 'BAD_CONFIG')).toBe('stepwise.config.mjs: triggers[0] is not one of natsTrigger() or amqpTrigger() definitions');
  });

  it('runs without a config file', async () => {
    const cwd = project({});
    expect(await serveOptionsFrom(['w.ts'], { PORT: '0' }, cwd)).toEqual({ modules: ['w.ts'], port: 0, cwd });
  });
});

describe('serve options: every problem names its source (exit 2)', () => {
  it('a bad config file is BAD_CONFIG, naming the file and the option', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ 'stepwise.config.mjs': 'export default { prot: 1 };' }, /^stepwise\.config\.mjs: unknown option 'prot' \(known: .*port/],
      [{ 'stepwise.config.mjs': "export default { port: '80' };" }, /^stepwise\.config\.mjs: port must be an integer from 0 to 65535, not '80'$/],
      [{ 'stepwise.config.mjs': 'export default { engine: { leaseMs: 1 } };' }, /engine\.leaseMs must be an integer from 500/],
      [{ 'stepwise.config.mjs': 'export default { engine: { lease: 1 } };' }, /unknown option 'engine\.lease'/],
      [{ 'stepwise.config.mjs': "export default { modules: 'a.ts' };" }, /modules must be an array of module paths/],
      [{ 'stepwise.config.mjs': "export default { logLevel: 'loud' };" }, /logLevel must be one of trace, debug/],
      [{ 'stepwise.config.mjs': 'export default [];' }, /the options must be an object, not an array/],
      [{ 'stepwise.config.mjs': 'export const port = 1;' }, /stepwise\.config\.mjs has no default export/],
      [{ 'stepwise.config.mjs': 'export default {' }, /^cannot load stepwise\.config\.mjs: /],
      [{ 'stepwise.config.ts': "throw new Error('config exploded');" }, /^cannot load stepwise\.config\.ts: config exploded$/],
      [{ 'stepwise.config.ts': 'export default {};', 'stepwise.config.js': 'export default {};' }, /found stepwise\.config\.ts and stepwise\.config\.js/],
    ];
    for (const [files, expected] of cases) {
      expect(await refusal(serveOptionsFrom([], {}, project(files)), 'BAD_CONFIG')).toMatch(expected);
    }
    expect(await refusal(serveOptionsFrom(['--config', 'nope.mjs'], {}, project({})), 'BAD_CONFIG')).toMatch(/nope\.mjs does not exist/);
  });

  it('a bad environment variable or flag is USAGE, naming it', async () => {
    const cwd = project({});
    expect(await refusal(serveOptionsFrom([], { PORT: 'eighty' }, cwd), 'USAGE')).toBe("PORT must be an integer from 0 to 65535, not 'eighty'");
    expect(await refusal(serveOptionsFrom(['--port', '70000'], {}, cwd), 'USAGE')).toBe("--port must be an integer from 0 to 65535, not '70000'");
    expect(await refusal(serveOptionsFrom([], { STEPWISE_ALLOW_INSECURE: 'yes' }, cwd), 'USAGE')).toContain('STEPWISE_ALLOW_INSECURE must be 1 or 0');
    expect(await refusal(serveOptionsFrom(['--worker-id', 'a b'], {}, cwd), 'USAGE')).toContain('--worker-id must be 1-128 letters');
    expect(await refusal(serveOptionsFrom(['--token', 'x'], {}, cwd), 'USAGE')).toMatch(/Unknown option '--token'/);
  });
});

describe('stepwise serve --help', () => {
  it('lists every option with its flag, variable, config key and default', () => {
    const help = serveHelp();
    for (const spec of SERVE_OPTIONS) {
      if (spec.flag) expect(help).toContain(`--${spec.flag}`);
      expect(help).toContain(`env ${spec.env}, config ${spec.path.join('.')}, default ${spec.default}`);
    }
    expect(help).toContain('--config <file>');
  });
});
