/**
 * Loads a CommonJS package the first time it is needed instead of when the process starts:
 * `stepwise serve` answers its first request sooner when what that request does not use (JSONata,
 * the OpenAPI generator, a schema compiler) stays unloaded. `require` is synchronous, so a lazy
 * load can sit behind a synchronous API (a validator, a serializer); only CommonJS packages
 * can be loaded this way.
 */
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/** A function that loads `specifier` on its first call and returns the same module after. */
export function lazyRequire<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireHere(specifier) as T);
}
