import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { config } from './config.js';

/**
 * `npm run example:remote`: the three processes of the example, side by side, each line of
 * output prefixed with who wrote it. Ctrl-C stops all three (the worker gracefully).
 *
 *   server     stepwise serve examples/remote/workflow.ts   (http://127.0.0.1:3000, page at /)
 *   function   the quote function server                    (FUNCTION_PORT, 4100)
 *   worker     a polling worker for queue 'shipping'
 *
 * Run from the repository root after `npm run build` (the npm script does both).
 */
const here = dirname(fileURLToPath(import.meta.url)); // dist/examples/remote
const root = join(here, '..', '..', '..');
const children: ChildProcess[] = [];

function start(name: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  const prefix = (stream: NodeJS.ReadableStream, out: NodeJS.WriteStream) => {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) out.write(`${name.padEnd(8)} | ${line}\n`);
    });
  };
  prefix(child.stdout!, process.stdout);
  prefix(child.stderr!, process.stderr);
  child.on('exit', (code, signal) => {
    process.stdout.write(`${name.padEnd(8)} | exited (${signal ?? code})\n`);
    // One of the three gone means the example no longer works: stop the others too.
    stopAll();
  });
}

let stopping = false;
function stopAll(): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}

const port = new URL(config.stepwiseUrl).port || '3000';
start('function', [join(here, 'function-server.js')]);
start('server', [join(root, 'dist', 'src', 'cli', 'main.js'), 'serve', join(root, 'examples', 'remote', 'workflow.ts')], { PORT: port });
start('worker', [join(here, 'worker.js')]);

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stopAll);
