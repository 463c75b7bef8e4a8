/**
 * Finds and loads `stepwise.config.{ts,mts,mjs,js}`: an ES module whose default export holds
 * serve options. Its `modules` are relative to the file's directory.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { checkOptions, type ServeOptions } from './options.js';
import { importModule } from './import-module.js';
import { ServeError } from './serve-error.js';

export const CONFIG_FILES = ['stepwise.config.ts', 'stepwise.config.mts', 'stepwise.config.mjs', 'stepwise.config.js'];

/** The config file in `cwd`, if there is exactly one; two of them is an error (which one counts?). */
export function findConfigFile(cwd: string): string | undefined {
  const found = CONFIG_FILES.filter((name) => existsSync(resolve(cwd, name)));
  if (found.length > 1) throw new ServeError('BAD_CONFIG', `found ${found.join(' and ')} in ${cwd}: keep one`);
  return found[0] === undefined ? undefined : resolve(cwd, found[0]);
}

/** Loads and checks a config file; every problem is a BAD_CONFIG ServeError naming the file. */
export async function loadConfigFile(path: string): Promise<ServeOptions> {
  const name = basename(path);
  if (!existsSync(path)) throw new ServeError('BAD_CONFIG', `config file ${path} does not exist`);
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(path);
  } catch (err) {
    throw new ServeError('BAD_CONFIG', `cannot load ${name}: ${firstLine(err)}`);
  }
  if (mod.default === undefined) throw new ServeError('BAD_CONFIG', `${name} has no default export: export default { modules: [...], ... }`);
  const options = checkOptions(mod.default, name);
  const base = dirname(path);
  return {
    ...options,
    ...(options.modules ? { modules: options.modules.map((m) => (isAbsolute(m) ? m : resolve(base, m))) } : {}),
  };
}

export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? 'unknown error';
}
