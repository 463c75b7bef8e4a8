import type { ErrorCode } from '../core/errors.js';

/** How deep a message or webhook body may nest (the HTTP API allows the same for an input). */
export const MAX_BODY_DEPTH = 64;

export type Decoded = { ok: true; value: unknown } | { ok: false; code: ErrorCode; reason: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a body that arrived as bytes (a broker message, a webhook delivery). Refuses, with the
 * code and a reason to put in a dead letter or an HTTP error: bytes that are not UTF-8 or not
 * JSON; nesting deeper than MAX_BODY_DEPTH (JSON.parse accepts 5,000 levels, after which
 * JSON.stringify overflows the stack); and `__proto__` or `constructor.prototype` keys, which
 * fastify's parser refuses too, so that a user's mapping function cannot be tricked into
 * replacing an object's prototype (`Object.assign({}, body)`).
 */
export function decodeJsonBody(bytes: Uint8Array): Decoded {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { ok: false, code: 'MALFORMED_JSON', reason: 'the body is not UTF-8 text' };
  }
  if (text.trim().length === 0) return { ok: false, code: 'MALFORMED_JSON', reason: 'the body is empty; send a JSON value' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, code: 'MALFORMED_JSON', reason: `the body is not valid JSON (${(error as Error).message})` };
  }
  return checkParsed(value);
}

/** The depth and prototype-key checks alone, for a body a client library already parsed. */
export function checkParsed(value: unknown): Decoded {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (depth > MAX_BODY_DEPTH) return { ok: false, code: 'INPUT_TOO_DEEP', reason: `the body is nested deeper than ${MAX_BODY_DEPTH} levels` };
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const child of v) stack.push([child, depth + 1]);
      continue;
    }
    for (const key of Object.keys(v)) {
      const child = (v as Record<string, unknown>)[key];
      if (key === '__proto__' || (key === 'constructor' && child !== null && typeof child === 'object' && Object.prototype.hasOwnProperty.call(child, 'prototype'))) {
        return { ok: false, code: 'VALIDATION_FAILED', reason: `the body holds a forbidden key '${key}'` };
      }
      stack.push([child, depth + 1]);
    }
  }
  return { ok: true, value };
}
