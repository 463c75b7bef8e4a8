import type { FastifyInstance, FastifyRequest } from 'fastify';
import { jsonDepthExceeds } from '../core/json.js';
import { httpError } from './http-errors.js';

/** How deep an execution input may nest (the engine stores nothing deeper). */
export const MAX_INPUT_DEPTH = 64;
/** The body wraps the input in one object, so it may be one level deeper. */
const MAX_BODY_DEPTH = MAX_INPUT_DEPTH + 1;

/**
 * The only body parser: application/json (any parameters, e.g. charset). Every other content type
 * gets 415 from fastify. Depth is checked right after parsing, before anything could stringify or
 * recurse over the value (JSON.parse accepts 5000-deep nesting; JSON.stringify then overflows).
 * An empty body is allowed on routes that take none (e.g. cancel) and is MALFORMED_JSON elsewhere.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  // secure-json-parse underneath: `__proto__` and `constructor.prototype` keys are refused.
  const parseJson = app.getDefaultJsonParser('error', 'error') as unknown as (
    request: FastifyRequest,
    body: string,
    done: (err: Error | null, value?: unknown) => void,
  ) => void;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request: FastifyRequest, body, done) => {
    const text = body as string;
    if (text.trim().length === 0) {
      if (request.routeOptions.schema?.body === undefined) {
        done(null, undefined);
        return;
      }
      done(httpError('MALFORMED_JSON', 'the request body is empty; send a JSON object'), undefined);
      return;
    }
    parseJson(request, text, (err, value) => {
      if (err) {
        done(err, undefined);
        return;
      }
      if (jsonDepthExceeds(value, MAX_BODY_DEPTH)) {
        done(httpError('INPUT_TOO_DEEP', `the request body is nested deeper than ${MAX_INPUT_DEPTH} levels`), undefined);
        return;
      }
      done(null, value);
    });
  });
}
