/**
 * `stepwise serve [modules...]`: options from the config file, then the environment, then the
 * flags (src/serve/options.ts lists them all); then `serve()` does the work. This file adds only
 * what a process needs: one-line errors with exit codes, and SIGTERM/SIGINT: stop taking
 * requests, stop the engine (8 s grace), close the store, exit 0.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findConfigFile, loadConfigFile } from '../serve/config-file.js';
import { flagSpecs, mergeOptions, optionsFromEnv, optionsFromFlags, serveHelp, type ServeOptions } from '../serve/options.js';
import { serve, type StepwiseServer } from '../serve/serve.js';
import { ServeError } from '../serve/serve-error.js';

const SHUTDOWN_GRACE_MS = 8000;
/** Whatever happens, the process is gone this long after the first signal. */
const SHUTDOWN_DEADLINE_MS = 9500;

function fail(code: string, message: string): void {
  process.stderr.write(`stepwise: ${code}: ${message.replace(/\s+/g, ' ').trim()}\n`);
}

/** The options for `serve()` from the config file, the environment and the command line. */
export async function serveOptionsFrom(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<ServeOptions | 'help'> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options: { ...flagSpecs(), help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ServeError('USAGE', `${(err as Error).message.split('\n')[0]} (see stepwise serve --help)`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return 'help';
  const configPath = typeof values.config === 'string' ? resolve(cwd, values.config) : findConfigFile(cwd);
  const fromFile = configPath ? await loadConfigFile(configPath) : {};
  // Named as the user wrote them (messages quote them); serve() resolves them against cwd.
  const fromCommandLine = parsed.positionals.length > 0 ? { modules: parsed.positionals } : {};
  return { ...mergeOptions(fromFile, optionsFromEnv(env), optionsFromFlags(values), fromCommandLine), cwd };
}

/** Runs the server until a signal; resolves with an exit code only when start-up fails (or for --help). */
export async function runServe(args: string[], env: NodeJS.ProcessEnv, out: (text: string) => void): Promise<number> {
  let server: StepwiseServer;
  try {
    const options = await serveOptionsFrom(args, env, process.cwd());
    if (options === 'help') {
      out(serveHelp());
      return 0;
    }
    server = await serve(options);
  } catch (err) {
    if (err instanceof ServeError) {
      fail(err.code, err.message);
      return err.exitCode;
    }
    throw err;
  }

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const deadline = setTimeout(() => {
      fail('SHUTDOWN_TIMEOUT', `shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    server.app.log.info({ signal }, 'shutting down');
    const code = await server.close({ graceMs: SHUTDOWN_GRACE_MS }).then(
      () => 0,
      () => 1, // close() logged each failure
    );
    process.exit(code);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  // Never resolves: the process ends in `shutdown`.
  return new Promise<number>(() => undefined);
}
