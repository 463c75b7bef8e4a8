/**
 * Installs a packed tarball into a project the way npm would lay it out, without a registry:
 * the tarball is unpacked into node_modules/<name>, and every dependency the packed package.json
 * declares (and the project's own devDependencies) is linked from this checkout's node_modules,
 * where `npm ci` already installed and built them (better-sqlite3's native addon included).
 * Only declared dependencies are linked: a package that the code imports but package.json does
 * not declare is missing here, as it would be for a user.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

interface Manifest {
  name: string;
  bin?: string | Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** Links a package's commands into node_modules/.bin; npm also makes the unpacked ones executable. */
function linkBins(project: string, pkgDir: string, makeExecutable: boolean): void {
  const manifest = readManifest(pkgDir);
  const bins = typeof manifest.bin === 'string' ? { [manifest.name.replace(/^@[^/]+\//, '')]: manifest.bin } : manifest.bin ?? {};
  const binDir = join(project, 'node_modules', '.bin');
  mkdirSync(binDir, { recursive: true });
  for (const [name, target] of Object.entries(bins)) {
    const file = join(pkgDir, target);
    if (makeExecutable) chmodSync(file, 0o755);
    const link = join(binDir, name);
    if (!existsSync(link)) symlinkSync(relative(binDir, file), link);
  }
}

/** Unpacks `tarball` as node_modules/<name> of `project` and links its dependencies from `installed`. */
export function installPacked(tarball: string, project: string, installed: string): void {
  const modules = join(project, 'node_modules');
  const staging = join(project, '.packed');
  mkdirSync(staging, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', staging]);
  const packed = readManifest(join(staging, 'package'));
  const target = join(modules, packed.name);
  mkdirSync(dirname(target), { recursive: true });
  execFileSync('mv', [join(staging, 'package'), target]);
  execFileSync('rm', ['-rf', staging]);

  const wanted = { ...packed.dependencies, ...readManifest(project).devDependencies };
  for (const name of Object.keys(wanted)) {
    if (name === packed.name) continue;
    const from = join(installed, name);
    if (!existsSync(from)) throw new Error(`${name} is not installed in ${installed}`);
    const link = join(modules, name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(from, link, 'dir');
    linkBins(project, from, false);
  }
  linkBins(project, target, true);
}
