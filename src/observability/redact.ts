/**
 * What a Stepwise log line never shows: bearer tokens, cookies, signatures and Authorization
 * values, wherever a handler or the server puts them (top level, or one or two levels down, as
 * in `{ headers: { authorization } }` or `{ req: { headers: { ... } } }`). pino's redaction
 * paths; the censor is '[redacted]'.
 */
const SECRET_KEYS = ['authorization', 'Authorization', 'token', 'accessToken', 'cookie', 'signature', 'stepwise-signature', 'x-hub-signature-256', 'secret', 'password'];

/** `prefix.key`, or `prefix["key"]` for a key that is not an identifier. */
const at = (prefix: string, key: string) => (/^[A-Za-z_]\w*$/.test(key) ? (prefix ? `${prefix}.${key}` : key) : `${prefix}["${key}"]`);

export const REDACT_PATHS: readonly string[] = [
  ...SECRET_KEYS.map((k) => at('', k)),
  ...SECRET_KEYS.map((k) => at('*', k)),
  ...SECRET_KEYS.map((k) => at('*.*', k)),
  'res.headers["set-cookie"]',
];

export const REDACT_CENSOR = '[redacted]';
