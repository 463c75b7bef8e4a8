/**
 * The API's response serializers, compiled on first use instead of when the server starts (as
 * the request validators are, ./lazy-validators.ts): compiling every route's response schemas
 * with fast-json-stringify was a twentieth of `stepwise serve`'s start-up. The compiler is
 * fastify's own default (@fastify/fast-json-stringify-compiler, fastify's dependency, resolved
 * from fastify's package), with the instance's shared schemas, so the output is the same.
 */
import { createRequire } from 'node:module';
import type { FastifySerializerCompiler } from 'fastify';

type RouteSchema = Parameters<FastifySerializerCompiler<unknown>>[0];
type Compile = (route: RouteSchema) => (data: unknown) => string;
type Selector = { SerializerSelector(): (externalSchemas: unknown, serializerOpts: unknown) => Compile };

let selector: Selector | undefined;
function fastifyDefault(): Selector {
  const requireHere = createRequire(import.meta.url);
  return (selector ??= createRequire(requireHere.resolve('fastify'))('@fastify/fast-json-stringify-compiler') as Selector);
}

/** A serializer compiler for `app.setSerializerCompiler` whose serializers compile on first use. */
export function lazySerializerCompiler(externalSchemas: () => unknown): FastifySerializerCompiler<unknown> {
  let compile: Compile | undefined;
  return (route) => {
    let serialize: ((data: unknown) => string) | undefined;
    return (data) => {
      serialize ??= (compile ??= fastifyDefault().SerializerSelector()(externalSchemas(), undefined))(route);
      return serialize(data);
    };
  };
}
