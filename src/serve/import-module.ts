/**
 * Imports a user's module (a workflow module or a config file) by path. TypeScript goes through
 * tsx: it runs `.ts` as is (esbuild strips the types, no type check and no build step), resolves
 * the `.js` specifiers TypeScript's NodeNext style writes to their `.ts` sources, and works on
 * Node 20 through `module.register`. Its hooks are registered once, for the whole process (as the
 * `tsx` command does), only when a TypeScript file is first loaded: then a package that both the
 * server and an ES-module project import stays one instance. (tsx's scoped `tsImport` would load
 * every import of the module again, Stepwise included.) Both the ESM and the CommonJS hooks are
 * needed: a `.ts` file in a package without `"type": "module"` is CommonJS to Node.
 */
import { pathToFileURL } from 'node:url';

const TYPESCRIPT = /\.(ts|mts|cts|tsx)$/i;
let tsxRegistered: Promise<void> | undefined;

function registerTsx(): Promise<void> {
  tsxRegistered ??= Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]).then(([esm, cjs]) => {
    esm.register();
    cjs.register();
  });
  return tsxRegistered;
}

/** The module's exports. A CommonJS module compiled from ES syntax shows its exports as they were written. */
export async function importModule(path: string): Promise<Record<string, unknown>> {
  if (TYPESCRIPT.test(path)) await registerTsx();
  const namespace = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  const cjs = namespace.default as Record<string, unknown> | undefined;
  if (typeof cjs === 'object' && cjs !== null && cjs.__esModule === true) {
    const { __esModule: _marker, ...exports } = cjs;
    return exports;
  }
  return namespace;
}
