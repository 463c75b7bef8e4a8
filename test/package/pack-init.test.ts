/**
 * The package as a user meets it: `npm pack`, `stepwise init` a project in a temporary directory,
 * install the tarball there without a registry (test/package/install-packed.ts), `npm start` it,
 * start the scaffolded workflow over HTTP and see it SUCCEEDED, then run the project's own tests
 * and type-check it against the packed type declarations.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cleanEnv, cli, ensureBuilt, run, waitExit } from '../cli/cli-helpers.js';
import { installPacked } from './install-packed.js';

let tmp: string;
let tarball: string;
let packedFiles: string[];

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'stepwise-pack-'));
  // --ignore-scripts: `prepare` would compile again; dist/ is fresh (ensureBuilt, or npm test's build).
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT, timeoutMs: 60_000 });
  expect(packed.code, packed.stderr).toBe(0);
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(tmp, info!.filename);
  packedFiles = info!.files.map((f) => f.path);
}, 240_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npm pack', () => {
  it('ships the compiled package, its types, README, LICENSE and docs, and no tests, benches or sources', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'docs/http-api.md']),
    );
    const unwanted = packedFiles.filter((f) => /^(test|bench|examples|src)\/|^dist\/(test|bench|examples)\/|\.map$|\.ts$/.test(f) && !f.endsWith('.d.ts'));
    expect(unwanted).toEqual([]);
  });

  it('ships no JavaScript that names a source map it does not ship', () => {
    const shipped = new Set(packedFiles);
    const dangling = packedFiles.filter((f) => /\.c?js$/.test(f)).flatMap((f) => {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(ROOT, f), 'utf8'))?.[1];
      if (url === undefined || url.startsWith('data:')) return [];
      const map = posix.join(posix.dirname(f), url);
      return shipped.has(map) ? [] : [`${f} -> ${map}`];
    });
    expect(dangling).toEqual([]);
  });
});

describe('stepwise init, then the project on the packed package', () => {
  it('starts, runs the scaffolded workflow to SUCCEEDED over HTTP, and passes its own tests', async () => {
    const app = join(tmp, 'my-app');
    const init = await cli(['init', app]);
    expect(init.code, init.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
    expect(manifest.dependencies).toEqual({ 'stepwise-engine': `^${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}` });
    expect(manifest.scripts).toMatchObject({ start: 'stepwise serve', test: 'vitest run' });

    installPacked(tarball, app, join(ROOT, 'node_modules'));

    // npm start: the config file says port 3000; the environment's PORT=0 overrides it.
    const env = cleanEnv({ PORT: '0' });
    const server = spawn('npm', ['start'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`npm start did not listen:\n${output}`)), 30_000);
        const onData = (d: Buffer) => {
          output += d.toString();
          const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        };
        server.stdout!.on('data', onData);
        server.stderr!.on('data', onData);
        server.on('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
      });
      const start = await fetch(`${url}/v1/workflows/welcome/executions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'ada', input: { name: 'Ada', followUpAfterMs: 0 } }),
      });
      expect(start.status, await start.clone().text()).toBe(201);
      let execution: { status: string; output?: unknown } = { status: 'RUNNING' };
      const deadline = Date.now() + 20_000;
      while (execution.status === 'RUNNING' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        execution = (await (await fetch(`${url}/v1/executions/ada`)).json()) as typeof execution;
      }
      expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { sent: 'How is it going, Ada?', after: 'Welcome, Ada!' } });
      expect(existsSync(join(app, 'data', 'stepwise.db'))).toBe(true);
    } finally {
      // npm runs the server in a shell of its own: signal the whole group this test started.
      process.kill(-server.pid!, 'SIGTERM');
      await waitExit(server);
    }

    const tests = await run('npm', ['test'], { cwd: app, env, timeoutMs: 60_000 });
    expect(tests.code, `${tests.stdout}\n${tests.stderr}`).toBe(0);
    expect(tests.stdout.replace(/\u001b\[[0-9;]*m/g, '')).toMatch(/Tests\s+2 passed/);

    // Against the packed declarations, every one of them checked (not skipped as libraries usually
    // are): a public type that names a package the user does not get would fail here.
    const types = await run('npm', ['run', 'typecheck', '--', '--skipLibCheck', 'false'], { cwd: app, env, timeoutMs: 60_000 });
    expect(types.code, `${types.stdout}\n${types.stderr}`).toBe(0);
  }, 120_000);

  it('refuses a directory that is not empty, changing nothing', async () => {
    const again = await cli(['init', join(tmp, 'my-app')]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^stepwise: DIR_NOT_EMPTY: .*my-app is not empty/);
  });
});
