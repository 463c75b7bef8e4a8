/**
 * The directory of this package (stepwise-engine's package.json), found by walking up from this
 * module. The module may run from src/ (TypeScript), from tsc's dist/src/<dir>/, or from a chunk
 * of the esbuild bundle (dist/src/chunks/), so files the package ships are found from its root,
 * never relative to the module's own location.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  name: string;
  version: string;
  devDependencies?: Record<string, string>;
}

let cached: { root: string; info: PackageInfo } | undefined;

function find(): { root: string; info: PackageInfo } {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const info = JSON.parse(readFileSync(candidate, 'utf8')) as PackageInfo;
      if (info.name === 'stepwise-engine') return (cached = { root: dir, info });
    }
    dir = dirname(dir);
  }
  throw new Error('cannot find the package.json of stepwise-engine');
}

/** The package's root directory (where its package.json is). */
export function packageRoot(): string {
  return find().root;
}

/** The package's own package.json. */
export function packageInfo(): PackageInfo {
  return find().info;
}
