/** This package's own package.json, found from this file in src/cli or dist/src/cli. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  name: string;
  version: string;
  devDependencies?: Record<string, string>;
}

let cached: PackageInfo | undefined;

export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as PackageInfo;
      if (pkg.name === 'stepwise-engine') return (cached = pkg);
    }
    dir = dirname(dir);
  }
  throw new Error('cannot find the package.json of stepwise-engine');
}
