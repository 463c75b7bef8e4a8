/**
 * The files `stepwise init` writes: a project that depends on stepwise-engine, with one
 * TypeScript workflow, its test on the virtual clock, and a config file that `npm start` serves.
 */

export interface TemplateInput {
  /** The new package's name. */
  name: string;
  /** The stepwise-engine version to depend on. */
  version: string;
  /** Versions of the dev tools, as this package was built with them. */
  dev: { vitest: string; typescript: string; typesNode: string };
}

export function packageJson(t: TemplateInput): string {
  const pkg = {
    name: t.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { start: 'stepwise serve', test: 'vitest run', typecheck: 'tsc --noEmit' },
    dependencies: { 'stepwise-engine': `^${t.version}` },
    devDependencies: { '@types/node': `^${t.dev.typesNode}`, typescript: `^${t.dev.typescript}`, vitest: `^${t.dev.vitest}` },
    allowScripts: { 'better-sqlite3': true, esbuild: true },
    engines: { node: '>=20' },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

export const CONFIG = `import { defineConfig } from 'stepwise-engine';

// \`npm start\` (stepwise serve) reads this file. The environment (PORT, STEPWISE_DB, ...) and the
// command line override it: see \`npx stepwise serve --help\`.
export default defineConfig({
  modules: ['./src/workflows.ts'],
  db: './data/stepwise.db',
  port: 3000,
});
`;

export const WORKFLOWS = `import { workflow } from 'stepwise-engine';

export interface WelcomeInput {
  name: string;
  /** How long to wait before the follow-up. @default one day */
  followUpAfterMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Greets a new user, waits (a durable timer: it survives restarts), then follows up.
 * The input schema is checked at the door: a start without a name is refused with 400.
 */
export const welcome = workflow<WelcomeInput>('welcome', {
  input: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1 },
      followUpAfterMs: { type: 'integer', minimum: 0 },
    },
  },
})
  .task('greet', async (input, ctx) => {
    // ctx.idempotencyKey stays the same when this step is retried: pass it to the APIs you call.
    return { message: \`Welcome, \${input.name}!\`, key: ctx.idempotencyKey };
  }, { resultPath: 'greeting', retry: [{ errors: ['ECONNRESET'], maxAttempts: 3 }] })
  .wait('pause', { durationMs: (data) => data.followUpAfterMs ?? DAY_MS })
  .task('followUp', async (data) => ({ sent: \`How is it going, \${data.name}?\`, after: data.greeting.message }))
  .build();
`;

export const TEST = `import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine, VirtualClock, openStore, type Store } from 'stepwise-engine';
import { welcome } from '../src/workflows.js';

describe('welcome', () => {
  let clock: VirtualClock;
  let store: Store;
  let engine: Engine;

  beforeEach(async () => {
    // A virtual clock: the day-long pause passes when the test says so, not in a day.
    clock = new VirtualClock();
    store = await openStore(':memory:');
    engine = new Engine({ store, clock }).register(welcome);
    await engine.start();
  });

  afterEach(async () => {
    await engine.stop();
    await store.close();
  });

  it('greets, waits a day, then follows up', async () => {
    const { execution } = await engine.startExecution('welcome', { name: 'Ada' });
    await engine.idle();
    expect((await engine.getExecution(execution.id)).status).toBe('RUNNING');
    expect(clock.nextTimerAt()! - clock.now()).toBe(24 * 60 * 60 * 1000);

    await clock.advance(24 * 60 * 60 * 1000);
    const done = await engine.waitForEnd(execution.id, 5000);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toEqual({ sent: 'How is it going, Ada?', after: 'Welcome, Ada!' });
  });

  it('refuses an input without a name', async () => {
    await expect(engine.startExecution('welcome', { nom: 'Ada' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'input.name is required',
    });
  });
});
`;

export const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
    },
    include: ['src', 'test', 'stepwise.config.ts'],
  },
  null,
  2,
)}\n`;

export const GITIGNORE = 'node_modules/\ndata/\n';

export function readme(t: TemplateInput): string {
  return `# ${t.name}

Durable workflows with [stepwise-engine](https://www.npmjs.com/package/stepwise-engine).

\`\`\`sh
npm install
npm start        # serves src/workflows.ts on http://127.0.0.1:3000 (history page at /)
npm test         # runs test/ with vitest, on a virtual clock
\`\`\`

Start an execution (\`followUpAfterMs\` shortens the day-long pause):

\`\`\`sh
curl -s -X POST http://127.0.0.1:3000/v1/workflows/welcome/executions \\
  -H 'content-type: application/json' -d '{"id":"ada","input":{"name":"Ada","followUpAfterMs":2000}}'
curl -s http://127.0.0.1:3000/v1/executions/ada
npx stepwise history ada
\`\`\`

- \`src/workflows.ts\`: the workflow. Export every built workflow from the modules listed in
  \`stepwise.config.ts\`; each exported workflow is served.
- \`stepwise.config.ts\`: modules, database, port, token (\`npx stepwise serve --help\` lists every option).
- \`test/workflows.test.ts\`: runs the workflow on an in-memory store and a virtual clock.
`;
}

/** Every file, by path relative to the project directory. */
export function projectFiles(t: TemplateInput): Record<string, string> {
  return {
    'package.json': packageJson(t),
    'stepwise.config.ts': CONFIG,
    'src/workflows.ts': WORKFLOWS,
    'test/workflows.test.ts': TEST,
    'tsconfig.json': TSCONFIG,
    '.gitignore': GITIGNORE,
    'README.md': readme(t),
  };
}
