/**
 * Imports a user's module (a workflow module or a config file) by path. TypeScript goes through
 * tsx: it runs `.ts` as is (esbuild strips the types, no type check and no build step), resolves
 * the `.js` specifiers TypeScript's NodeNext style writes to their `.ts` sources, and works on
 * Node 20 through `module.register`. It is registered once, for the whole process, only when a
 * TypeScript file is first loaded, so that a package imported by both the server and the user's
 * module stays one instance.
 */
import { pathToFileURL } from 'node:url';

const TYPESCRIPT = /\.(ts|mts|cts|tsx)$/i;
let tsxRegistered: Promise<void> | undefined;

function registerTsx(): Promise<void> {
  tsxRegistered ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return tsxRegistered;
}

export async function importModule(path: string): Promise<Record<string, unknown>> {
  if (TYPESCRIPT.test(path)) await registerTsx();
  return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
}
