/**
 * `stepwise init [dir]`: scaffolds a project that depends on stepwise-engine (see
 * init-templates.ts). Refuses a directory that exists and is not empty, so nothing is overwritten.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { CliError, ExitCode } from './client.js';
import { projectFiles } from './init-templates.js';
import { packageInfo } from '../core/package-root.js';

/** An npm package name from a directory name: lower case, URL-safe, not starting with . or _. */
export function packageNameFor(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+/, '')
    .slice(0, 214);
  return name.length > 0 ? name : 'stepwise-app';
}

function bareVersion(range: string | undefined, fallback: string): string {
  return range?.replace(/^[^\d]*/, '') || fallback;
}

/** Writes the project; returns the files written, relative to `dir`. */
export function scaffold(dir: string): string[] {
  const target = resolve(dir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new CliError('DIR_NOT_EMPTY', `${dir} exists and is not a directory`, ExitCode.USAGE);
    if (readdirSync(target).length > 0) {
      throw new CliError('DIR_NOT_EMPTY', `${dir} is not empty; init writes only into a new or empty directory`, ExitCode.USAGE);
    }
  }
  const pkg = packageInfo();
  const dev = pkg.devDependencies ?? {};
  const files = projectFiles({
    name: packageNameFor(target),
    version: pkg.version,
    dev: {
      vitest: bareVersion(dev.vitest, '4.1.12'),
      typescript: bareVersion(dev.typescript, '5.9.3'),
      typesNode: bareVersion(dev['@types/node'], '20.19.25'),
    },
  });
  for (const [path, text] of Object.entries(files)) {
    const full = join(target, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text, { flag: 'wx' });
  }
  return Object.keys(files);
}

export function initMessage(dir: string, files: string[]): string {
  const shown = relative(process.cwd(), resolve(dir)) || '.';
  return [
    `Created a Stepwise project in ${shown}:`,
    ...files.map((f) => `  ${f}`),
    '',
    'Next:',
    ...(shown === '.' ? [] : [`  cd ${shown}`]),
    '  npm install',
    '  npm start      # http://127.0.0.1:3000',
    '  npm test',
  ].join('\n');
}
