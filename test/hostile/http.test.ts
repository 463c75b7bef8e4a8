/**
 * Hostile HTTP input, table-driven: every row is a bad request that must get its documented 4xx
 * and catalog code as `{ error: { code, message } }` (docs/http-api.md, "Errors"), never a 5xx and
 * never a stack trace. After the table the server is still healthy and the stored data is exactly
 * what it was before it. A few rows go over a real socket, where app.inject() cannot express the
 * request (a lying Content-Length, control characters in the request line, request smuggling).
 *
 * Not repeated here: "the server refuses to listen beyond loopback without a token" is a property
 * of `stepwise serve` (src/cli/serve.ts) and is covered by test/cli/cli.test.ts ("serve" → "refuses
 * a non-loopback HOST without a token: exit 1, one line", and "listens beyond loopback with a
 * token and requires it").
 */
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkout, shipping } from '../../examples/checkout/workflow.js';
import { buildServer } from '../../src/api/server.js';
import { Engine, SqliteStore, TerminalError, openStore, worker, workflow } from '../../src/index.js';
import { cart, json, nested } from '../api/harness.js';
import { Metrics } from '../../src/observability/metrics.js';
import { eventually } from '../fixtures/brokers.js';

const START = '/v1/workflows/checkout/executions';
const JSON_CT = { 'content-type': 'application/json' };
const BODY_LIMIT = 1024 * 1024;

interface Row {
  name: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'TRACE' | 'OPTIONS' | 'HEAD';
  url: string;
  headers?: Record<string, string>;
  payload?: string | Buffer;
  status: number;
  code: string;
}

/** Ids of the executions seeded before the table runs (all ended, so nothing changes on its own). */
const SEEDED = { ok: 'seed-ok', failed: 'seed-failed', noop: 'seed-noop', remote: 'seed-remote' };
const SEED_INPUT = cart();

/** A JSON text nesting objects `depth` levels: {"a":{"a":...1...}}. */
function nestedObjects(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** A start request with a JSON body (given as text, sent verbatim). */
function start(name: string, body: string, status: number, code: string, headers: Record<string, string> = JSON_CT): Row {
  return { name, method: 'POST', url: START, headers, payload: body, status, code };
}

function post(name: string, url: string, payload: string, status: number, code: string, headers: Record<string, string> = JSON_CT): Row {
  return { name, method: 'POST', url, headers, payload, status, code };
}

/** The queue of the seeded worker step, and a token of the right shape that was never issued. */
const QUEUE = 'hostile-q';
const UNKNOWN_TOKEN = `tsk_${'A'.repeat(32)}`;

/** The event route on a seeded, ended execution. */
const EVENTS = `/v1/executions/${SEEDED.ok}/events/review`;
const PUBLISH = '/v1/events';

/** A POST to the event or redrive routes with a JSON body (given as text, sent verbatim). */
function event(name: string, url: string, body: string, status: number, code: string, headers: Record<string, string> = JSON_CT): Row {
  return { name, method: 'POST', url, headers, payload: body, status, code };
}

function get(name: string, url: string, status: number, code: string): Row {
  return { name, method: 'GET', url, status, code };
}

const VALID_BODY = '{"input":1}';
const LONG = 'a'.repeat(10_000);

const rows: Row[] = [
  // ---- malformed JSON on the start route ------------------------------------------------
  start('unclosed object', '{', 400, 'MALFORMED_JSON'),
  start('truncated after key', '{"input":', 400, 'MALFORMED_JSON'),
  start('truncated after value', '{"input":1', 400, 'MALFORMED_JSON'),
  start('trailing comma', '{"input":1,}', 400, 'MALFORMED_JSON'),
  start('single quotes', "{'input':1}", 400, 'MALFORMED_JSON'),
  start('unquoted key', '{input:1}', 400, 'MALFORMED_JSON'),
  start('NaN literal', '{"input":NaN}', 400, 'MALFORMED_JSON'),
  start('Infinity literal', '{"input":Infinity}', 400, 'MALFORMED_JSON'),
  start('undefined literal', '{"input":undefined}', 400, 'MALFORMED_JSON'),
  start('extra closing brace', '{"input":1}}', 400, 'MALFORMED_JSON'),
  start('trailing garbage', '{"input":1} garbage', 400, 'MALFORMED_JSON'),
  start('two documents', '{"input":1}{"input":2}', 400, 'MALFORMED_JSON'),
  start('raw control character in a string', '{"input":"a\u0001b"}', 400, 'MALFORMED_JSON'),
  start('raw newline in a string', '{"input":"a\nb"}', 400, 'MALFORMED_JSON'),
  start('bad escape', '{"input":"\\x41"}', 400, 'MALFORMED_JSON'),
  start('leading zero', '{"input":01}', 400, 'MALFORMED_JSON'),
  start('comment', '/* c */ {"input":1}', 400, 'MALFORMED_JSON'),
  start('lone quote', '"', 400, 'MALFORMED_JSON'),
  start('NUL body', '\u0000', 400, 'MALFORMED_JSON'),
  start('empty body', '', 400, 'MALFORMED_JSON'),
  start('whitespace body', '  \n\t ', 400, 'MALFORMED_JSON'),
  start('100,000 unbalanced brackets', '['.repeat(100_000), 400, 'MALFORMED_JSON'),
  start('invalid UTF-8 JSON framing (UTF-16LE body)', '', 400, 'MALFORMED_JSON'), // payload replaced below
  start('UTF-7 body declared charset=utf-7', '+AHsAIg-input+ACI-:1+AH0-', 400, 'MALFORMED_JSON', { 'content-type': 'application/json; charset=utf-7' }),

  // ---- JSON that is not the documented object -------------------------------------------
  start('null body', 'null', 400, 'VALIDATION_FAILED'),
  start('array body', '[]', 400, 'VALIDATION_FAILED'),
  start('array of bodies', '[{"input":1}]', 400, 'VALIDATION_FAILED'),
  start('string body', '"input"', 400, 'VALIDATION_FAILED'),
  start('number body', '123', 400, 'VALIDATION_FAILED'),
  start('boolean body', 'true', 400, 'VALIDATION_FAILED'),
  start('empty object (input missing)', '{}', 400, 'VALIDATION_FAILED'),
  start('only an id', '{"id":"x1"}', 400, 'VALIDATION_FAILED'),
  start('unknown field', '{"input":1,"extra":2}', 400, 'VALIDATION_FAILED'),
  start('differently cased field', '{"input":1,"Input":2}', 400, 'VALIDATION_FAILED'),
  start('unknown field only', '{"inputs":1}', 400, 'VALIDATION_FAILED'),
  start('id is a number', '{"input":1,"id":123}', 400, 'VALIDATION_FAILED'),
  start('id is null', '{"input":1,"id":null}', 400, 'VALIDATION_FAILED'),
  start('id is a boolean', '{"input":1,"id":true}', 400, 'VALIDATION_FAILED'),
  start('id is an array', '{"input":1,"id":["a"]}', 400, 'VALIDATION_FAILED'),
  start('id is an object', '{"input":1,"id":{"a":1}}', 400, 'VALIDATION_FAILED'),
  start('input is 1e400 (Infinity after parsing)', '{"input":1e400}', 400, 'VALIDATION_FAILED'),
  start('input is -1e400 inside an object', '{"input":{"n":-1e400}}', 400, 'VALIDATION_FAILED'),

  // ---- hostile ids in the start body ----------------------------------------------------
  ...(
    [
      ['empty', ''],
      ['129 characters', 'a'.repeat(129)],
      ['10,000 characters', LONG],
      ['path traversal ../x', '../x'],
      ['path separator a/b', 'a/b'],
      ['backslash', 'a\\\\b'],
      ['encoded separator a%2Fb', 'a%2Fb'],
      ['SQL injection', "' OR 1=1 --"],
      ['SQL statement', 'a;DROP TABLE executions'],
      ['NUL', 'a\\u0000b'],
      ['newline', 'a\\nb'],
      ['tab', 'a\\tb'],
      ['escape sequence', '\\u001b[31mred'],
      ['unicode letter', 'caf\u00e9'],
      ['emoji', '\ud83d\ude00'],
      ['right-to-left override', 'a\u202eb'],
      ['leading dash', '-x'],
      ['leading dot', '.x'],
      ['space', 'a b'],
      ['HTML', '<script>alert(1)</script>'],
    ] as const
  ).map(([what, id]) => start(`id: ${what}`, `{"input":1,"id":"${id}"}`, 400, 'VALIDATION_FAILED')),

  // ---- deeply nested JSON -------------------------------------------------------------
  start('input 65 levels deep (one past the limit)', `{"input":${nested(65)}}`, 400, 'INPUT_TOO_DEEP'),
  start('input 100 levels of arrays', `{"input":${nested(100)}}`, 400, 'INPUT_TOO_DEEP'),
  start('input 100 levels of objects', `{"input":${nestedObjects(100)}}`, 400, 'INPUT_TOO_DEEP'),
  start('input 100,000 levels of arrays', `{"input":${nested(100_000)}}`, 400, 'INPUT_TOO_DEEP'),
  start('input 100,000 levels of objects', `{"input":${nestedObjects(100_000)}}`, 400, 'INPUT_TOO_DEEP'),
  start('id nested 100 levels', `{"input":1,"id":${nested(100)}}`, 400, 'INPUT_TOO_DEEP'),
  start('unknown field nested 100,000 levels', `{"input":1,"x":${nested(100_000)}}`, 400, 'INPUT_TOO_DEEP'),
  { name: 'cancel body nested 100,000 levels', method: 'POST', url: `/v1/executions/${SEEDED.ok}/cancel`, headers: JSON_CT, payload: nested(100_000), status: 400, code: 'INPUT_TOO_DEEP' },

  // ---- oversized bodies ------------------------------------------------------------------
  start('body one byte over 1 MiB', `{"input":"${'x'.repeat(BODY_LIMIT - 11)}"}`, 413, 'PAYLOAD_TOO_LARGE'),
  start('2 MB string input', `{"input":"${'x'.repeat(2_000_000)}"}`, 413, 'PAYLOAD_TOO_LARGE'),
  start('2 MB of non-JSON', 'x'.repeat(2_000_000), 413, 'PAYLOAD_TOO_LARGE'),
  start('Content-Length claims 5 MB', VALID_BODY, 413, 'PAYLOAD_TOO_LARGE', { ...JSON_CT, 'content-length': '5000000' }),
  { name: '2 MB body on the cancel route', method: 'POST', url: `/v1/executions/${SEEDED.ok}/cancel`, headers: JSON_CT, payload: `"${'x'.repeat(2_000_000)}"`, status: 413, code: 'PAYLOAD_TOO_LARGE' },

  // ---- content types ----------------------------------------------------------------------
  ...(
    [
      ['text/plain', 'text/plain'],
      ['text/plain with charset', 'text/plain; charset=utf-8'],
      ['text/json', 'text/json'],
      ['form', 'application/x-www-form-urlencoded'],
      ['multipart', 'multipart/form-data; boundary=----x'],
      ['xml', 'application/xml'],
      ['html', 'text/html'],
      ['octet-stream', 'application/octet-stream'],
      ['application/jsonx', 'application/jsonx'],
      ['json-patch', 'application/json-patch+json'],
      ['wildcard */*', '*/*'],
      ['wildcard application/*', 'application/*'],
      ['bare "json"', 'json'],
      ['garbage ;;;', ';;;'],
    ] as const
  ).map(([what, type]) => start(`content type: ${what}`, VALID_BODY, 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': type })),
  start('content type: missing', VALID_BODY, 415, 'UNSUPPORTED_MEDIA_TYPE', {}),
  start('form-encoded body', 'input=1&id=x', 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'application/x-www-form-urlencoded' }),
  start(
    'multipart body',
    '------x\r\nContent-Disposition: form-data; name="input"\r\n\r\n1\r\n------x--\r\n',
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    { 'content-type': 'multipart/form-data; boundary=----x' },
  ),
  start('content type checked before size: 2 MB text/plain', 'x'.repeat(2_000_000), 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'text/plain' }),
  { name: 'text/plain body on the cancel route', method: 'POST', url: `/v1/executions/${SEEDED.ok}/cancel`, headers: { 'content-type': 'text/plain' }, payload: 'please', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },

  // ---- prototype pollution (secure-json-parse refuses these keys) ---------------------------
  start('__proto__ at the top', '{"__proto__":{"x":1}}', 400, 'MALFORMED_JSON'),
  start('__proto__ next to input', '{"input":1,"__proto__":{"polluted":true}}', 400, 'MALFORMED_JSON'),
  start('__proto__ inside input', '{"input":{"__proto__":{"polluted":true}}}', 400, 'MALFORMED_JSON'),
  start('__proto__ inside an array', '{"input":[{"__proto__":{"polluted":true}}]}', 400, 'MALFORMED_JSON'),
  start('escaped \\u005f_proto__', '{"input":{"\\u005f_proto__":{"polluted":true}}}', 400, 'MALFORMED_JSON'),
  start('constructor.prototype inside input', '{"input":{"constructor":{"prototype":{"polluted":true}}}}', 400, 'MALFORMED_JSON'),
  start('constructor.prototype at the top', '{"constructor":{"prototype":{"polluted":true}},"input":1}', 400, 'MALFORMED_JSON'),
  get('__proto__ as a query parameter', '/v1/executions?__proto__=x', 400, 'VALIDATION_FAILED'),
  get('__proto__[polluted] as a query parameter', '/v1/executions?__proto__[polluted]=1', 400, 'VALIDATION_FAILED'),
  get('constructor as a query parameter', '/v1/executions?constructor=x', 400, 'VALIDATION_FAILED'),

  // ---- idempotency conflicts ---------------------------------------------------------------
  start('existing id, other input', JSON.stringify({ id: SEEDED.ok, input: cart({ outOfStock: true }) }), 409, 'EXECUTION_CONFLICT'),
  { name: 'existing id, other workflow', method: 'POST', url: '/v1/workflows/noop/executions', headers: JSON_CT, payload: JSON.stringify({ id: SEEDED.ok, input: { n: 1 } }), status: 409, code: 'EXECUTION_CONFLICT' },

  // ---- input schema (checkout declares one) -------------------------------------------------
  start('input null where the schema wants an object', '{"input":null}', 400, 'VALIDATION_FAILED'),
  start('input a number where the schema wants an object', VALID_BODY, 400, 'VALIDATION_FAILED'),
  start('input missing a required field', JSON.stringify({ input: { orderId: 'o', customer: { id: 'c', email: 'e' } } }), 400, 'VALIDATION_FAILED'),
  start('input with a wrong type deep inside', JSON.stringify({ input: { ...SEED_INPUT, items: [{ sku: 1, qty: 1, price: 1 }] } }), 400, 'VALIDATION_FAILED'),
  start('input with a wrong type, existing id', JSON.stringify({ id: SEEDED.ok, input: null }), 400, 'VALIDATION_FAILED'),

  // ---- workflow names in the path --------------------------------------------------------
  { name: 'start an unknown workflow', method: 'POST', url: '/v1/workflows/nope/executions', headers: JSON_CT, payload: VALID_BODY, status: 404, code: 'WORKFLOW_NOT_FOUND' },
  get('describe an unknown workflow', '/v1/workflows/nope', 404, 'WORKFLOW_NOT_FOUND'),
  get('workflow name NUL', '/v1/workflows/%00', 404, 'WORKFLOW_NOT_FOUND'),
  get('workflow name SQL', `/v1/workflows/${encodeURIComponent("' OR 1=1 --")}`, 404, 'WORKFLOW_NOT_FOUND'),
  get('workflow name ../../etc/passwd', '/v1/workflows/..%2F..%2Fetc%2Fpasswd', 404, 'WORKFLOW_NOT_FOUND'),
  get('workflow name emoji', '/v1/workflows/%F0%9F%98%80', 404, 'WORKFLOW_NOT_FOUND'),
  get('workflow name 300 characters', `/v1/workflows/${'a'.repeat(300)}`, 400, 'VALIDATION_FAILED'),
  get('workflow name 10,000 characters', `/v1/workflows/${LONG}`, 400, 'VALIDATION_FAILED'),
  // inject() resolves %2E%2E as a dot-dot segment (WHATWG URL), so these reach no route; the raw
  // socket rows below send them to the server as they are.
  { name: 'start on a workflow named %2E%2E', method: 'POST', url: '/v1/workflows/%2E%2E/executions', headers: JSON_CT, payload: VALID_BODY, status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'start on a 10,000-character workflow name', method: 'POST', url: `/v1/workflows/${LONG}/executions`, headers: JSON_CT, payload: VALID_BODY, status: 400, code: 'VALIDATION_FAILED' },

  // ---- execution ids in the path -----------------------------------------------------------
  get('unknown execution', '/v1/executions/nope', 404, 'EXECUTION_NOT_FOUND'),
  get('execution id 129 valid characters', `/v1/executions/${'a'.repeat(129)}`, 404, 'EXECUTION_NOT_FOUND'),
  get('execution id 10,000 characters', `/v1/executions/${LONG}`, 400, 'VALIDATION_FAILED'),
  get('execution id empty', '/v1/executions/', 400, 'VALIDATION_FAILED'),
  get('execution id NUL', '/v1/executions/%00', 404, 'EXECUTION_NOT_FOUND'),
  get('execution id newline', '/v1/executions/a%0Ab', 404, 'EXECUTION_NOT_FOUND'),
  get('execution id CRLF header injection', '/v1/executions/a%0D%0ASet-Cookie:%20x=1', 404, 'EXECUTION_NOT_FOUND'),
  get('execution id ANSI escape', '/v1/executions/%1B%5B31mred', 404, 'EXECUTION_NOT_FOUND'),
  get('execution id encoded ../x', '/v1/executions/..%2Fx', 404, 'EXECUTION_NOT_FOUND'),
  get('execution id encoded a/b', '/v1/executions/a%2Fb', 404, 'EXECUTION_NOT_FOUND'),
  get('execution id %2E%2E', '/v1/executions/%2E%2E', 404, 'ROUTE_NOT_FOUND'),
  get('execution id SQL', `/v1/executions/${encodeURIComponent("' OR 1=1 --")}`, 404, 'EXECUTION_NOT_FOUND'),
  get('execution id SQL union', `/v1/executions/${encodeURIComponent("x' UNION SELECT * FROM history --")}`, 404, 'EXECUTION_NOT_FOUND'),
  get('execution id right-to-left override', '/v1/executions/%E2%80%AE', 404, 'EXECUTION_NOT_FOUND'),
  get('execution id emoji', '/v1/executions/%F0%9F%98%80', 404, 'EXECUTION_NOT_FOUND'),
  get('execution id bad percent-encoding %ZZ', '/v1/executions/%ZZ', 400, 'VALIDATION_FAILED'),
  get('execution id truncated UTF-8', '/v1/executions/%E0%A4%A', 400, 'VALIDATION_FAILED'),
  get('execution id lone surrogate', '/v1/executions/%ED%A0%80', 400, 'VALIDATION_FAILED'),
  get('path separator a/b (no such route)', '/v1/executions/a/b', 404, 'ROUTE_NOT_FOUND'),
  get('history of an unknown execution', '/v1/executions/nope/history', 404, 'EXECUTION_NOT_FOUND'),
  get('history of an unknown execution past a cursor', '/v1/executions/nope/history?after=5', 404, 'EXECUTION_NOT_FOUND'),
  get('history, NUL id', '/v1/executions/%00/history', 404, 'EXECUTION_NOT_FOUND'),
  get('history, 10,000-character id', `/v1/executions/${LONG}/history`, 400, 'VALIDATION_FAILED'),
  get('history, empty id', '/v1/executions//history', 400, 'VALIDATION_FAILED'),
  { name: 'cancel an unknown execution', method: 'POST', url: '/v1/executions/nope/cancel', status: 404, code: 'EXECUTION_NOT_FOUND' },
  { name: 'cancel, NUL id', method: 'POST', url: '/v1/executions/%00/cancel', status: 404, code: 'EXECUTION_NOT_FOUND' },
  { name: 'cancel, SQL id', method: 'POST', url: `/v1/executions/${encodeURIComponent("' OR 1=1 --")}/cancel`, status: 404, code: 'EXECUTION_NOT_FOUND' },
  { name: 'cancel, 10,000-character id', method: 'POST', url: `/v1/executions/${LONG}/cancel`, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'cancel an ended execution', method: 'POST', url: `/v1/executions/${SEEDED.ok}/cancel`, status: 409, code: 'EXECUTION_ENDED' },
  { name: 'cancel an ended execution, JSON body', method: 'POST', url: `/v1/executions/${SEEDED.failed}/cancel`, headers: JSON_CT, payload: '{}', status: 409, code: 'EXECUTION_ENDED' },
  { name: 'cancel, malformed JSON body', method: 'POST', url: `/v1/executions/${SEEDED.ok}/cancel`, headers: JSON_CT, payload: '{', status: 400, code: 'MALFORMED_JSON' },

  // ---- query parameters: GET /v1/executions --------------------------------------------
  ...(
    [
      ['limit=-1', 'limit=-1'],
      ['limit=0', 'limit=0'],
      ['limit=-0', 'limit=-0'],
      ['limit=501', 'limit=501'],
      ['limit=1e9', 'limit=1e9'],
      ['limit=abc', 'limit=abc'],
      ['limit=1.5', 'limit=1.5'],
      ['limit=0x10', 'limit=0x10'],
      ['limit empty', 'limit='],
      ['limit 20 digits', 'limit=99999999999999999999'],
      ['limit NUL', 'limit=%00'],
      ['limit twice', 'limit=1&limit=2'],
      ['status=running (lower case)', 'status=running'],
      ['status unknown', 'status=PAUSED'],
      ['status empty', 'status='],
      ['status twice', 'status=RUNNING&status=FAILED'],
      ['cursor garbage', 'cursor=!!!garbage!!!'],
      ['cursor empty', 'cursor='],
      ['cursor of 2,000 characters', `cursor=${'A'.repeat(2000)}`],
      ['cursor: base64 of a one-element array', `cursor=${b64('[1]')}`],
      ['cursor: base64 of an object', `cursor=${b64('{"startedAt":1,"id":"x"}')}`],
      ['cursor: base64 of [1e400,"x"]', `cursor=${b64('[1e400,"x"]')}`],
      ['cursor: base64 of [1.5,"x"]', `cursor=${b64('[1.5,"x"]')}`],
      ['cursor: base64 of a __proto__ payload', `cursor=${b64('{"__proto__":{"polluted":true}}')}`],
      ['cursor NUL', 'cursor=%00'],
      ['workflow=../x', 'workflow=..%2Fx'],
      ['workflow SQL', `workflow=${encodeURIComponent("' OR 1=1 --")}`],
      ['workflow empty', 'workflow='],
      ['workflow 10,000 characters', `workflow=${LONG}`],
      ['workflow[]', 'workflow[]=checkout'],
      ['unknown parameter', 'foo=1'],
      ['unknown parameter with an empty name', '=1'],
      ['status=queued (lower case)', 'status=queued'],
      ['status=QUEUED twice', 'status=QUEUED&status=QUEUED'],
      ['status=QUEUED with a NUL', 'status=QUEUED%00'],
      ['parentId empty', 'parentId='],
      ['parentId ../x', 'parentId=..%2Fx'],
      ['parentId with a space', 'parentId=a%20b'],
      ['parentId 10,000 characters', `parentId=${LONG}`],
      ['parentId twice', 'parentId=a&parentId=b'],
      ['parentId[]', 'parentId[]=a'],
      ['parentId SQL', `parentId=${encodeURIComponent("' OR 1=1 --")}`],
    ] as const
  ).map(([what, qs]) => get(`list: ${what}`, `/v1/executions?${qs}`, 400, 'VALIDATION_FAILED')),

  // ---- query parameters: history ---------------------------------------------------------
  ...(
    [
      ['limit=-1', 'limit=-1'],
      ['limit=0', 'limit=0'],
      ['limit=1001', 'limit=1001'],
      ['limit=abc', 'limit=abc'],
      ['limit=1e3', 'limit=1e3'],
      ['limit twice', 'limit=1&limit=2'],
      ['after=-1', 'after=-1'],
      ['after=abc', 'after=abc'],
      ['after=1e3', 'after=1e3'],
      ['after=1.5', 'after=1.5'],
      ['after empty', 'after='],
      ['after 16 digits', 'after=9999999999999999'],
      ['after twice', 'after=1&after=2'],
      ['after NUL', 'after=%00'],
      ['after SQL', `after=${encodeURIComponent('1 OR 1=1')}`],
      ['unknown parameter', 'cursor=1'],
    ] as const
  ).map(([what, qs]) => get(`history: ${what}`, `/v1/executions/${SEEDED.ok}/history?${qs}`, 400, 'VALIDATION_FAILED')),

  // ---- usage and metrics ---------------------------------------------------------------------
  get('usage of an unknown execution', '/v1/executions/nope/usage', 404, 'EXECUTION_NOT_FOUND'),
  get('usage, NUL id', '/v1/executions/%00/usage', 404, 'EXECUTION_NOT_FOUND'),
  get('usage, SQL id', `/v1/executions/${encodeURIComponent("' OR 1=1 --")}/usage`, 404, 'EXECUTION_NOT_FOUND'),
  get('usage, 10,000-character id', `/v1/executions/${LONG}/usage`, 400, 'VALIDATION_FAILED'),
  get('usage, a query parameter', `/v1/executions/${SEEDED.ok}/usage?x=1`, 400, 'VALIDATION_FAILED'),
  ...(
    [
      ['from not a date', 'from=yesterday'],
      ['from an impossible date', 'from=2024-13-45'],
      ['from a date-time without digits', 'from=2024-01-01T::'],
      ['from 10,000 characters', `from=${LONG}`],
      ['to before from', 'from=2024-01-02&to=2024-01-01'],
      ['from equal to to', 'from=2024-01-01&to=2024-01-01'],
      ['a range over 366 days', 'from=2020-01-01&to=2024-01-01'],
      ['workflow not a name', `workflow=${encodeURIComponent('a b')}`],
      ['workflow SQL', `workflow=${encodeURIComponent("x' OR 1=1 --")}`],
      ['workflow twice', 'workflow=checkout&workflow=noop'],
      ['unknown parameter', 'limit=5'],
    ] as const
  ).map(([what, qs]) => get(`usage: ${what}`, `/v1/usage?${qs}`, 400, 'VALIDATION_FAILED')),
  { name: 'POST /v1/usage', method: 'POST', url: '/v1/usage', headers: JSON_CT, payload: '{}', status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'POST an execution usage', method: 'POST', url: `/v1/executions/${SEEDED.ok}/usage`, status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'POST /metrics', method: 'POST', url: '/metrics', headers: JSON_CT, payload: '{}', status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'DELETE /metrics', method: 'DELETE', url: '/metrics', status: 404, code: 'ROUTE_NOT_FOUND' },
  get('/metrics/extra', '/metrics/extra', 404, 'ROUTE_NOT_FOUND'),

  // ---- unknown routes and methods --------------------------------------------------------
  { name: 'PUT on the start route', method: 'PUT', url: START, headers: JSON_CT, payload: VALID_BODY, status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'PATCH on the start route', method: 'PATCH', url: START, headers: JSON_CT, payload: VALID_BODY, status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'DELETE on the start route', method: 'DELETE', url: START, status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'DELETE an execution', method: 'DELETE', url: `/v1/executions/${SEEDED.ok}`, status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'PUT an execution', method: 'PUT', url: `/v1/executions/${SEEDED.ok}`, headers: JSON_CT, payload: '{"status":"SUCCEEDED"}', status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'PATCH an execution', method: 'PATCH', url: `/v1/executions/${SEEDED.ok}`, headers: JSON_CT, payload: '{"status":"RUNNING"}', status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'DELETE the execution list', method: 'DELETE', url: '/v1/executions', status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'POST the execution list', method: 'POST', url: '/v1/executions', headers: JSON_CT, payload: VALID_BODY, status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'DELETE a workflow', method: 'DELETE', url: '/v1/workflows/checkout', status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'PUT a workflow', method: 'PUT', url: '/v1/workflows/checkout', headers: JSON_CT, payload: '{}', status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'POST the workflow list', method: 'POST', url: '/v1/workflows', headers: JSON_CT, payload: '{}', status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'DELETE a history', method: 'DELETE', url: `/v1/executions/${SEEDED.ok}/history`, status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'POST a history', method: 'POST', url: `/v1/executions/${SEEDED.ok}/history`, status: 404, code: 'ROUTE_NOT_FOUND' },
  get('GET on the cancel route', `/v1/executions/${SEEDED.ok}/cancel`, 404, 'ROUTE_NOT_FOUND'),
  { name: 'POST /healthz', method: 'POST', url: '/healthz', status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'DELETE /healthz', method: 'DELETE', url: '/healthz', status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'TRACE', method: 'TRACE', url: '/v1/workflows', status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'OPTIONS (no CORS)', method: 'OPTIONS', url: '/v1/executions', status: 404, code: 'ROUTE_NOT_FOUND' },
  get('dot-dot out of /v1', '/v1/../etc/passwd', 404, 'ROUTE_NOT_FOUND'),
  get('encoded dot-dot at the root', '/%2e%2e/%2e%2e/etc/passwd', 404, 'ROUTE_NOT_FOUND'),
  get('/etc/passwd', '/etc/passwd', 404, 'ROUTE_NOT_FOUND'),
  get('/.env', '/.env', 404, 'ROUTE_NOT_FOUND'),
  get('/.git/config', '/.git/config', 404, 'ROUTE_NOT_FOUND'),
  get('another API version', '/v2/workflows', 404, 'ROUTE_NOT_FOUND'),
  get('upper-case path', '/V1/WORKFLOWS', 404, 'ROUTE_NOT_FOUND'),
  get('double slash', '//v1/workflows', 404, 'ROUTE_NOT_FOUND'),
  get('trailing slash: an empty workflow name', '/v1/workflows/', 400, 'VALIDATION_FAILED'),
  get('trailing slash after a workflow', '/v1/workflows/checkout/', 404, 'ROUTE_NOT_FOUND'),
  get('extra path segment', `/v1/executions/${SEEDED.ok}/history/extra`, 404, 'ROUTE_NOT_FOUND'),
  get('very long URL (100,000 characters)', `/v1/${'a'.repeat(100_000)}`, 404, 'ROUTE_NOT_FOUND'),
  get('very long unknown path with a query', `/nope?${'q'.repeat(50_000)}=1`, 404, 'ROUTE_NOT_FOUND'),

  // ---- worker polls and task answers (docs/handlers.md#the-wire-format) ------------------------
  post('poll: unknown queue', '/v1/queues/no-such-queue/poll', '{"workerId":"w1","waitMs":30000}', 404, 'QUEUE_NOT_FOUND'),
  post('poll: queue name with a space', '/v1/queues/a%20b/poll', '{"workerId":"w1"}', 400, 'VALIDATION_FAILED'),
  post('poll: queue name of 81 characters', `/v1/queues/${'q'.repeat(81)}/poll`, '{"workerId":"w1"}', 400, 'VALIDATION_FAILED'),
  post('poll: queue name starting with a dot', '/v1/queues/.hidden/poll', '{"workerId":"w1"}', 400, 'VALIDATION_FAILED'),
  post('poll: waitMs over 30000', `/v1/queues/${QUEUE}/poll`, '{"workerId":"w1","waitMs":30001}', 400, 'VALIDATION_FAILED'),
  post('poll: negative waitMs', `/v1/queues/${QUEUE}/poll`, '{"workerId":"w1","waitMs":-1}', 400, 'VALIDATION_FAILED'),
  post('poll: fractional waitMs', `/v1/queues/${QUEUE}/poll`, '{"workerId":"w1","waitMs":1.5}', 400, 'VALIDATION_FAILED'),
  post('poll: waitMs as a string', `/v1/queues/${QUEUE}/poll`, '{"workerId":"w1","waitMs":"100"}', 400, 'VALIDATION_FAILED'),
  post('poll: waitMs 1e400', `/v1/queues/${QUEUE}/poll`, '{"workerId":"w1","waitMs":1e400}', 400, 'VALIDATION_FAILED'),
  post('poll: no workerId', `/v1/queues/${QUEUE}/poll`, '{"waitMs":10}', 400, 'VALIDATION_FAILED'),
  post('poll: empty workerId', `/v1/queues/${QUEUE}/poll`, '{"workerId":"","waitMs":10}', 400, 'VALIDATION_FAILED'),
  post('poll: unknown field', `/v1/queues/${QUEUE}/poll`, '{"workerId":"w1","waitMs":10,"queue":"other"}', 400, 'VALIDATION_FAILED'),
  post('poll: malformed JSON', `/v1/queues/${QUEUE}/poll`, '{"workerId":', 400, 'MALFORMED_JSON'),
  post('poll: text/plain body', `/v1/queues/${QUEUE}/poll`, '{"workerId":"w1"}', 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'text/plain' }),
  post('poll: form body', `/v1/queues/${QUEUE}/poll`, 'workerId=w1', 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'application/x-www-form-urlencoded' }),
  get('poll: GET', `/v1/queues/${QUEUE}/poll`, 404, 'ROUTE_NOT_FOUND'),
  post('succeed: malformed token', '/v1/tasks/not-a-token/succeed', '{"output":1}', 400, 'VALIDATION_FAILED'),
  post('succeed: token one character short', `/v1/tasks/${UNKNOWN_TOKEN.slice(0, -1)}/succeed`, '{"output":1}', 400, 'VALIDATION_FAILED'),
  post('succeed: token with SQL', `/v1/tasks/${encodeURIComponent("tsk_' OR 1=1 --")}/succeed`, '{"output":1}', 400, 'VALIDATION_FAILED'),
  post('succeed: token of 201 characters', `/v1/tasks/${'t'.repeat(201)}/succeed`, '{"output":1}', 400, 'VALIDATION_FAILED'),
  post('succeed: well-formed token never issued', `/v1/tasks/${UNKNOWN_TOKEN}/succeed`, '{"output":1}', 409, 'TASK_NOT_CURRENT'),
  post('fail: well-formed token never issued', `/v1/tasks/${UNKNOWN_TOKEN}/fail`, '{"error":{"name":"Boom"}}', 409, 'TASK_NOT_CURRENT'),
  post('heartbeat: well-formed token never issued', `/v1/tasks/${UNKNOWN_TOKEN}/heartbeat`, '{}', 409, 'TASK_NOT_CURRENT'),
  post('heartbeat: malformed token', '/v1/tasks/x/heartbeat', '{}', 400, 'VALIDATION_FAILED'),
  post('succeed: no output field', `/v1/tasks/${UNKNOWN_TOKEN}/succeed`, '{}', 400, 'VALIDATION_FAILED'),
  post('succeed: output and an unknown field', `/v1/tasks/${UNKNOWN_TOKEN}/succeed`, '{"output":1,"status":"ok"}', 400, 'VALIDATION_FAILED'),
  post('succeed: output over 256 KiB', `/v1/tasks/${UNKNOWN_TOKEN}/succeed`, JSON.stringify({ output: 'x'.repeat(300 * 1024) }), 413, 'PAYLOAD_TOO_LARGE'),
  post('succeed: body over the body limit', `/v1/tasks/${UNKNOWN_TOKEN}/succeed`, JSON.stringify({ output: 'x'.repeat(BODY_LIMIT + 10) }), 413, 'PAYLOAD_TOO_LARGE'),
  post('succeed: text/plain body', `/v1/tasks/${UNKNOWN_TOKEN}/succeed`, '{"output":1}', 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'text/plain' }),
  post('succeed: no content type', `/v1/tasks/${UNKNOWN_TOKEN}/succeed`, '{"output":1}', 415, 'UNSUPPORTED_MEDIA_TYPE', {}),
  post('succeed: malformed JSON', `/v1/tasks/${UNKNOWN_TOKEN}/succeed`, '{"output":', 400, 'MALFORMED_JSON'),
  post('fail: no error', `/v1/tasks/${UNKNOWN_TOKEN}/fail`, '{}', 400, 'VALIDATION_FAILED'),
  post('fail: error without a name', `/v1/tasks/${UNKNOWN_TOKEN}/fail`, '{"error":{"message":"m"}}', 400, 'VALIDATION_FAILED'),
  post('fail: empty error name', `/v1/tasks/${UNKNOWN_TOKEN}/fail`, '{"error":{"name":""}}', 400, 'VALIDATION_FAILED'),
  post('fail: error is a string', `/v1/tasks/${UNKNOWN_TOKEN}/fail`, '{"error":"Boom"}', 400, 'VALIDATION_FAILED'),
  post('fail: terminal is a string', `/v1/tasks/${UNKNOWN_TOKEN}/fail`, '{"error":{"name":"Boom"},"terminal":"yes"}', 400, 'VALIDATION_FAILED'),
  post('fail: error name of 201 characters', `/v1/tasks/${UNKNOWN_TOKEN}/fail`, JSON.stringify({ error: { name: 'n'.repeat(201) } }), 400, 'VALIDATION_FAILED'),
  post('heartbeat: a body with a field', `/v1/tasks/${UNKNOWN_TOKEN}/heartbeat`, '{"progress":1}', 400, 'VALIDATION_FAILED'),
  post('unknown task verb', `/v1/tasks/${UNKNOWN_TOKEN}/retry`, '{}', 404, 'ROUTE_NOT_FOUND'),
  get('GET a task', `/v1/tasks/${UNKNOWN_TOKEN}`, 404, 'ROUTE_NOT_FOUND'),
  // ---- events and redrive (nothing may change: the seeded executions have all ended) --------
  event('event to an unknown execution', '/v1/executions/nope/events/review', '{"payload":1}', 404, 'EXECUTION_NOT_FOUND'),
  event('event to a 10,000-character execution id', `/v1/executions/${LONG}/events/review`, '{}', 400, 'VALIDATION_FAILED'),
  event('event to an ended execution', EVENTS, '{"payload":{"approved":true}}', 409, 'EXECUTION_ENDED'),
  event('event with a replayed-looking id to an ended execution', EVENTS, '{"payload":1,"id":"evt-1"}', 409, 'EXECUTION_ENDED'),
  event('event name with a space', `/v1/executions/${SEEDED.ok}/events/bad%20name`, '{}', 400, 'VALIDATION_FAILED'),
  event('event name with a slash', `/v1/executions/${SEEDED.ok}/events/a%2Fb`, '{}', 400, 'VALIDATION_FAILED'),
  event('event name of 129 characters', `/v1/executions/${SEEDED.ok}/events/${'e'.repeat(129)}`, '{}', 400, 'VALIDATION_FAILED'),
  event('event name with a NUL', `/v1/executions/${SEEDED.ok}/events/a%00b`, '{}', 400, 'VALIDATION_FAILED'),
  event('event name with HTML', `/v1/executions/${SEEDED.ok}/events/%3Cscript%3E`, '{}', 400, 'VALIDATION_FAILED'),
  event('event name missing', `/v1/executions/${SEEDED.ok}/events/`, '{}', 400, 'VALIDATION_FAILED'),
  event('event body not JSON', EVENTS, '{"payload":', 400, 'MALFORMED_JSON'),
  event('event body an array', EVENTS, '[1]', 400, 'VALIDATION_FAILED'),
  event('event body a string', EVENTS, '"approved"', 400, 'VALIDATION_FAILED'),
  event('event body with an unknown field', EVENTS, '{"payload":1,"extra":true}', 400, 'VALIDATION_FAILED'),
  event('event id not a string', EVENTS, '{"payload":1,"id":42}', 400, 'VALIDATION_FAILED'),
  event('event id with a slash', EVENTS, '{"payload":1,"id":"a/b"}', 400, 'VALIDATION_FAILED'),
  event('event id of 10,000 characters', EVENTS, `{"payload":1,"id":"${LONG}"}`, 400, 'VALIDATION_FAILED'),
  event('event payload 100,000 levels deep', EVENTS, `{"payload":${nested(100_000)}}`, 400, 'INPUT_TOO_DEEP'),
  event('event payload 65 levels deep', EVENTS, `{"payload":${nested(65)}}`, 400, 'INPUT_TOO_DEEP'),
  event('event payload with __proto__', EVENTS, '{"payload":{"__proto__":{"polluted":true}}}', 400, 'MALFORMED_JSON'),
  event('event payload over 1 MiB', EVENTS, `{"payload":"${'x'.repeat(BODY_LIMIT)}"}`, 413, 'PAYLOAD_TOO_LARGE'),
  event('event as text/plain', EVENTS, 'approved', 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'text/plain' }),
  event('event as a form', EVENTS, 'payload=1', 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'application/x-www-form-urlencoded' }),
  { name: 'event with GET', method: 'GET', url: EVENTS, status: 404, code: 'ROUTE_NOT_FOUND' },
  // ---- correlated events (each refused: nothing is kept) ----------------------------------------
  event('publish with an unknown field', PUBLISH, '{"name":"review","key":"k","extra":1}', 400, 'VALIDATION_FAILED'),
  event('publish without a name', PUBLISH, '{"key":"k","payload":1}', 400, 'VALIDATION_FAILED'),
  event('publish without a key', PUBLISH, '{"name":"review","payload":1}', 400, 'VALIDATION_FAILED'),
  event('publish with an empty key', PUBLISH, '{"name":"review","key":""}', 400, 'VALIDATION_FAILED'),
  event('publish with a key of 257 characters', PUBLISH, JSON.stringify({ name: 'review', key: 'k'.repeat(257) }), 400, 'VALIDATION_FAILED'),
  event('publish with a numeric key', PUBLISH, '{"name":"review","key":42}', 400, 'VALIDATION_FAILED'),
  event('publish with a name holding a space', PUBLISH, '{"name":"bad name","key":"k"}', 400, 'VALIDATION_FAILED'),
  event('publish with an id holding a slash', PUBLISH, '{"name":"review","key":"k","id":"a/b"}', 400, 'VALIDATION_FAILED'),
  event('publish body not JSON', PUBLISH, '{"name":', 400, 'MALFORMED_JSON'),
  event('publish body an array', PUBLISH, '[{"name":"review","key":"k"}]', 400, 'VALIDATION_FAILED'),
  event('publish payload 65 levels deep', PUBLISH, `{"name":"review","key":"k","payload":${nested(65)}}`, 400, 'INPUT_TOO_DEEP'),
  event('publish payload with __proto__', PUBLISH, '{"name":"review","key":"k","payload":{"__proto__":{"x":1}}}', 400, 'MALFORMED_JSON'),
  event('publish payload over 1 MiB', PUBLISH, `{"name":"review","key":"k","payload":"${'x'.repeat(BODY_LIMIT)}"}`, 413, 'PAYLOAD_TOO_LARGE'),
  event('publish as text/plain', PUBLISH, 'review', 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'text/plain' }),
  { name: 'publish with GET', method: 'GET', url: PUBLISH, status: 404, code: 'ROUTE_NOT_FOUND' },
  event('redrive an unknown execution', '/v1/executions/nope/redrive', '{}', 404, 'EXECUTION_NOT_FOUND'),
  event('redrive a 10,000-character execution id', `/v1/executions/${LONG}/redrive`, '{}', 400, 'VALIDATION_FAILED'),
  event('redrive a SUCCEEDED execution', `/v1/executions/${SEEDED.ok}/redrive`, '{}', 409, 'EXECUTION_NOT_FAILED'),
  event('redrive a failure whose compensations ran', `/v1/executions/${SEEDED.failed}/redrive`, '{}', 409, 'EXECUTION_COMPENSATED'),
  event('redrive with a body nested 100,000 levels', `/v1/executions/${SEEDED.failed}/redrive`, nested(100_000), 400, 'INPUT_TOO_DEEP'),
  event('redrive with a 2 MB body', `/v1/executions/${SEEDED.failed}/redrive`, `"${'x'.repeat(2_000_000)}"`, 413, 'PAYLOAD_TOO_LARGE'),
  event('redrive as text/plain', `/v1/executions/${SEEDED.failed}/redrive`, 'please', 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'text/plain' }),
];

// Rows whose request cannot be written as a plain string above.
const utf16 = rows.find((r) => r.name.startsWith('invalid UTF-8 JSON framing'))!;
utf16.payload = Buffer.from(VALID_BODY, 'utf16le');
utf16.headers = { 'content-type': 'application/json; charset=utf-16le' };

/** No stack frames, source paths or module paths in anything a client sees. */
function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/\bat\s+\S.*\.(?:ts|js|mjs|cjs):\d+/);
  expect(text).not.toMatch(/\.(?:ts|js):\d+:\d+/);
  expect(text).not.toContain('node_modules');
  expect(text).not.toContain('/work/');
  expect(text).not.toMatch(/\n\s+at /);
}

function expectApiError(res: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, code: string): void {
  expect(res.statusCode, res.body.slice(0, 500)).toBe(status);
  expect(res.statusCode).toBeGreaterThanOrEqual(400);
  expect(res.statusCode).toBeLessThan(500);
  expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
  const body = JSON.parse(res.body) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.trim().length).toBeGreaterThan(0);
  expectNoInternals(res.body);
}

interface World {
  app: FastifyInstance;
  engine: Engine;
  store: SqliteStore;
  close(): Promise<void>;
}

const noop = workflow<{ n: number }>('noop').task('touch', async (d) => d).build();
const remote = workflow('remote').task('ship', worker(QUEUE), { timeoutMs: 60_000 }).build();

async function world(token?: string): Promise<World> {
  const store = (await openStore(':memory:')) as SqliteStore;
  const engine = new Engine({ store, pollIntervalMs: 50 });
  engine.register(checkout, shipping, noop, remote);
  await engine.start();
  const app = buildServer({ engine, metrics: new Metrics({ store, processMetrics: false }), ...(token ? { token } : {}) });
  await app.ready();
  return {
    app, engine, store,
    async close() {
      await app.close();
      await engine.stop({ graceMs: 2000 });
      await store.close();
    },
  };
}

/** Everything a client or the engine could observe of the stored data. */
async function storedState(w: World): Promise<unknown> {
  const db = w.store.connection;
  const list = json((await w.app.inject({ url: '/v1/executions?limit=500' })));
  const executions: Record<string, unknown> = {};
  for (const id of Object.values(SEEDED)) {
    const history = json(await w.app.inject({ url: `/v1/executions/${id}/history?limit=1000` }));
    executions[id] = { api: json(await w.app.inject({ url: `/v1/executions/${id}` })), history, stored: await w.store.getExecution(id), work: await w.store.listWork(id) };
  }
  return {
    list,
    executions,
    counts: {
      executions: db.prepare('SELECT count(*) FROM executions').pluck().get(),
      history: db.prepare('SELECT count(*) FROM history').pluck().get(),
      work: db.prepare('SELECT count(*) FROM work').pluck().get(),
    },
    ids: db.prepare('SELECT id FROM executions ORDER BY id').pluck().all(),
  };
}

async function waitEnded(engine: Engine, id: string): Promise<string> {
  return (await engine.waitForEnd(id, 20_000)).status;
}

describe('hostile HTTP requests (table)', () => {
  let w: World;
  let before: unknown;
  let answeredToken: string;

  beforeAll(async () => {
    w = await world();
    const seed = async (url: string, body: unknown) => {
      const res = await w.app.inject({ method: 'POST', url, payload: body as Record<string, unknown> });
      expect(res.statusCode, res.body).toBe(201);
    };
    await seed(START, { id: SEEDED.ok, input: SEED_INPUT });
    await seed(START, { id: SEEDED.failed, input: cart({ outOfStock: true }) });
    await seed('/v1/workflows/noop/executions', { id: SEEDED.noop, input: SEED_INPUT });
    expect(await waitEnded(w.engine, SEEDED.ok)).toBe('SUCCEEDED');
    expect(await waitEnded(w.engine, SEEDED.failed)).toBe('FAILED');
    expect(await waitEnded(w.engine, SEEDED.noop)).toBe('SUCCEEDED');
    // A worker task taken and answered: its token is then a replayed one.
    await seed('/v1/workflows/remote/executions', { id: SEEDED.remote, input: { n: 1 } });
    const polled = await w.app.inject({ method: 'POST', url: `/v1/queues/${QUEUE}/poll`, payload: { workerId: 'seed', waitMs: 10_000 } });
    expect(polled.statusCode, polled.body).toBe(200);
    answeredToken = json(polled).taskToken as string;
    const answered = await w.app.inject({ method: 'POST', url: `/v1/tasks/${answeredToken}/succeed`, payload: { output: 'shipped' } });
    expect(answered.statusCode, answered.body).toBe(200);
    expect(await waitEnded(w.engine, SEEDED.remote)).toBe('SUCCEEDED');
    await w.engine.drain();
    before = await storedState(w);
  });

  afterAll(async () => {
    await w?.close();
  });

  it('has at least 100 rows, with unique names', () => {
    expect(rows.length).toBeGreaterThanOrEqual(100);
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
  });

  it.each(rows.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const res = await w.app.inject({
      method: row.method ?? 'GET',
      url: row.url,
      ...(row.headers ? { headers: row.headers } : {}),
      ...(row.payload !== undefined ? { payload: row.payload } : {}),
    });
    expectApiError(res, row.status, row.code);
    // The error never echoes an unbounded amount of the request back.
    expect(res.body.length).toBeLessThan(20_000);
    // Security headers are on error responses too.
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(String(res.headers['content-security-policy'])).toContain("default-src 'none'");
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('charset parameters are accepted and ignored (docs: "any charset parameter"): the body is read as UTF-8', async () => {
    // An idempotent repeat of a seeded start, so nothing is stored: 200, not 201, and the same execution.
    for (const type of ['application/json; charset=utf-7', 'application/json; charset=iso-8859-1', 'APPLICATION/JSON']) {
      const res = await w.app.inject({ method: 'POST', url: START, headers: { 'content-type': type }, payload: JSON.stringify({ id: SEEDED.ok, input: SEED_INPUT }) });
      expect(res.statusCode, `${type}: ${res.body}`).toBe(200);
      expect(json(res).id).toBe(SEEDED.ok);
    }
  });

  it('a replayed task token (already answered) gets 409 on every verb, and an empty queue 204', async () => {
    for (const [verb, payload] of [['succeed', { output: 'again' }], ['fail', { error: { name: 'Late' } }], ['heartbeat', {}]] as const) {
      const res = await w.app.inject({ method: 'POST', url: `/v1/tasks/${answeredToken}/${verb}`, payload });
      expectApiError(res, 409, 'TASK_NOT_CURRENT');
    }
    const empty = await w.app.inject({ method: 'POST', url: `/v1/queues/${QUEUE}/poll`, payload: { workerId: 'w1', waitMs: 0 } });
    expect(empty.statusCode).toBe(204);
  });

  it('after the table: /healthz is 200, nothing was stored or changed, no prototype was polluted', async () => {
    const health = await w.app.inject({ url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(json(health)).toEqual({ ok: true });
    await w.engine.drain();
    expect(await storedState(w)).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});

// ---- over a real socket -----------------------------------------------------------------------

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits whatever the server wrote back into responses (Content-Length framed, or chunked, or none). */
function parseResponses(text: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) break;
    const head = rest.slice(0, end).split('\r\n');
    const status = Number(head[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    rest = rest.slice(end + 4);
    let body = '';
    if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      body = Buffer.from(rest, 'latin1').subarray(0, n).toString('utf8');
      rest = Buffer.from(rest, 'latin1').subarray(n).toString('latin1');
    } else if (headers['transfer-encoding'] === 'chunked') {
      const term = rest.indexOf('0\r\n\r\n');
      body = term === -1 ? rest : rest.slice(0, term);
      rest = term === -1 ? '' : rest.slice(term + 5);
    }
    out.push({ status, headers, body });
  }
  return out;
}

function rawRequest(port: number, data: string, opts: { halfClose?: boolean; waitMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(Buffer.from(data, 'latin1'));
      if (opts.halfClose) socket.end();
    });
    // The server closes every connection these requests open once it has answered; the timer
    // only ends a connection it keeps (a test that expects no answer passes its own, short waitMs).
    const timer = setTimeout(() => socket.destroy(), opts.waitMs ?? 15_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

interface RawRow {
  name: string;
  request: string;
  status: number;
  code: string;
  halfClose?: boolean;
}

const H = 'Host: 127.0.0.1\r\n';
const rawRows: RawRow[] = [
  { name: 'control character in the request line', request: `GET /v1/executions/a\u0001b HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'NUL in a header value', request: `GET /v1/workflows HTTP/1.1\r\n${H}X-Evil: a\u0000b\r\n\r\n`, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'CR in a header name', request: `GET /v1/workflows HTTP/1.1\r\n${H}X-E\rvil: 1\r\n\r\n`, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'space in the path', request: `GET /v1/exec utions HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'raw non-ASCII byte in the path', request: `GET /v1/executions/\u00c3\u00a9 HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'VALIDATION_FAILED' },
  {
    name: 'body shorter than its Content-Length, then the client stops sending',
    request: `POST ${START} HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"input":1}`,
    halfClose: true, status: 400, code: 'VALIDATION_FAILED',
  },
  {
    name: 'Content-Length and Transfer-Encoding together (smuggling)',
    request: `POST ${START} HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 11\r\nTransfer-Encoding: chunked\r\n\r\n{"input":1}`,
    status: 400, code: 'VALIDATION_FAILED',
  },
  {
    name: 'two different Content-Length headers',
    request: `POST ${START} HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 11\r\nContent-Length: 5\r\n\r\n{"input":1}`,
    status: 400, code: 'VALIDATION_FAILED',
  },
  {
    name: 'malformed chunk size',
    request: `POST ${START} HTTP/1.1\r\n${H}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{"input":1}\r\n0\r\n\r\n`,
    status: 400, code: 'VALIDATION_FAILED',
  },
  { name: 'Content-Length not a number', request: `POST ${START} HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{"input":1}`, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'negative Content-Length', request: `POST ${START} HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{"input":1}`, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'unknown method', request: `FOO /v1/workflows HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'TLS handshake to the plain port', request: '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'request line and headers over 16 KiB (100,000-character URL)', request: `GET /v1/executions?x=${'a'.repeat(100_000)} HTTP/1.1\r\n${H}\r\n`, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'a 20 KB header', request: `GET /healthz HTTP/1.1\r\n${H}X-Big: ${'b'.repeat(20_000)}\r\n\r\n`, status: 400, code: 'VALIDATION_FAILED' },
  { name: 'dot-dot in the raw path', request: `GET /v1/../etc/passwd HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, status: 404, code: 'ROUTE_NOT_FOUND' },
  { name: 'execution id .. in the raw path', request: `GET /v1/executions/.. HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, status: 404, code: 'EXECUTION_NOT_FOUND' },
  { name: 'execution id %2E%2E in the raw path', request: `GET /v1/executions/%2E%2E HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, status: 404, code: 'EXECUTION_NOT_FOUND' },
  {
    name: 'start on a workflow named %2E%2E in the raw path',
    request: `POST /v1/workflows/%2E%2E/executions HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{"input":1}`,
    status: 404, code: 'WORKFLOW_NOT_FOUND',
  },
  { name: 'OPTIONS *', request: `OPTIONS * HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, status: 404, code: 'ROUTE_NOT_FOUND' },
];

describe('hostile HTTP requests over a real socket', () => {
  let w: World;
  let port: number;
  let before: unknown;

  beforeAll(async () => {
    w = await world();
    const res = await w.app.inject({ method: 'POST', url: START, payload: { id: SEEDED.ok, input: SEED_INPUT } });
    expect(res.statusCode).toBe(201);
    await w.engine.waitForEnd(SEEDED.ok, 20_000);
    await w.engine.drain();
    await w.app.listen({ host: '127.0.0.1', port: 0 });
    port = (w.app.server.address() as { port: number }).port;
    before = await w.engine.getHistory(SEEDED.ok, { limit: 1000 });
  });

  afterAll(async () => {
    await w?.close();
  });

  it.each(rawRows.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const text = await rawRequest(port, row.request, { halfClose: row.halfClose });
    const responses = parseResponses(text);
    expect(responses.length, JSON.stringify(text.slice(0, 300))).toBeGreaterThanOrEqual(1);
    const [first] = responses;
    expectApiError({ statusCode: first!.status, headers: first!.headers, body: first!.body }, row.status, row.code);
    for (const r of responses) {
      expect(r.status).toBeLessThan(500);
      expectNoInternals(r.body);
    }
  });

  it('a Content-Length shorter than the body: the body is cut there, and the rest is not a request that succeeds', async () => {
    const text = await rawRequest(port, `POST ${START} HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 5\r\n\r\n{"input":1}`);
    const responses = parseResponses(text);
    expect(responses.length).toBeGreaterThanOrEqual(1);
    for (const r of responses) {
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      const body = JSON.parse(r.body) as { error: { code: string; message: string } };
      expect(['MALFORMED_JSON', 'VALIDATION_FAILED']).toContain(body.error.code);
    }
  });

  it('a body that never finishes arriving ties up only its own connection', async () => {
    const pending = rawRequest(port, `POST ${START} HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"input":1}`, { waitMs: 500 });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    // The server answers nothing on the stalled connection yet: it waits for the rest of the body
    // until requestTimeoutMs (30 s by default), then answers 400 and closes it.
    expect(await pending).toBe('');
  });

  it('HTTP/1.1 without a Host header: Node answers 400 itself (the only error that is not JSON)', async () => {
    const [res] = parseResponses(await rawRequest(port, 'GET /v1/workflows HTTP/1.1\r\nConnection: close\r\n\r\n'));
    expect(res!.status).toBe(400);
  });

  it('afterwards the server is healthy and the history is unchanged', async () => {
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    const list = await (await fetch(`http://127.0.0.1:${port}/v1/executions`)).json() as { items: Array<{ id: string }> };
    // The one checkout seeded here and its shipping child, newest first: nothing else was created.
    expect(list.items.map((i) => i.id)).toEqual([`${SEEDED.ok}:scheduleShipping:1`, SEEDED.ok]);
    expect(await w.engine.getHistory(SEEDED.ok, { limit: 1000 })).toEqual(before);
  });
});

// ---- authentication --------------------------------------------------------------------------

describe('hostile use of events, redrive and the list filters', () => {
  // `held`'s carrier never answers, so every run of it fails held for redrive.
  const waiter = workflow<{ n: number }>('waiter').waitForEvent('await', { event: 'go', resultPath: 'go' }).build();
  const held = workflow<{ n: number }>('held')
    .task('ship', async () => {
      throw new TerminalError('Shipping.Unavailable', 'the carrier is down');
    }, { catch: [{ errors: ['Shipping.Unavailable'], next: 'hold' }] })
    .succeed('done')
    .fail('hold', { error: 'Shipping.Unavailable', compensate: false })
    .build();
  const keyedWaiter = workflow<{ n: number; order: string }>('keyedWaiter')
    .waitForEvent('await', { event: 'go', key: (d: { order: string }) => d.order, resultPath: 'go' }).build();
  const limited = workflow<{ n: number }>('limited', { concurrency: { limit: 1 } }).waitForEvent('await', { event: 'go' }).build();
  let store: SqliteStore;
  let engine: Engine;
  let app: FastifyInstance;

  beforeAll(async () => {
    store = (await openStore(':memory:')) as SqliteStore;
    engine = new Engine({ store, pollIntervalMs: 50 });
    engine.register(waiter, held, limited, keyedWaiter);
    await engine.start();
    app = buildServer({ engine });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await engine?.stop({ graceMs: 2000 });
    await store?.close();
  });

  const post = (url: string, body: unknown = {}) => app.inject({ method: 'POST', url, payload: body as Record<string, unknown> });
  const history = async (id: string) => json(await app.inject({ url: `/v1/executions/${id}/history?limit=1000` })).events as Array<{ type: string; data?: Record<string, unknown> }>;
  const entered = (id: string, step: string) =>
    eventually(`${id} waits in ${step}`, async () => (await history(id)).some((e) => e.type === 'StateEntered' && (e as { step?: string }).step === step) || null);

  it('a replayed event id answers 200 and changes nothing, whatever the payload says this time', async () => {
    expect((await post('/v1/workflows/waiter/executions', { id: 'w-replay', input: { n: 1 } })).statusCode).toBe(201);
    await entered('w-replay', 'await');
    // An event the wait does not take stays in the mailbox: its replay must not add a second one.
    const first = await post('/v1/executions/w-replay/events/other', { payload: { v: 1 }, id: 'evt-1' });
    expect(first.statusCode).toBe(201);
    const before = await history('w-replay');
    for (const payload of [{ v: 1 }, { v: 2 }, null]) {
      const again = await post('/v1/executions/w-replay/events/other', { payload, id: 'evt-1' });
      expect(again.statusCode, again.body).toBe(200);
      expect(json(again)).toMatchObject({ id: 'evt-1', created: false, executionId: 'w-replay' });
    }
    expect(await history('w-replay')).toEqual(before);
    expect(before.filter((e) => e.type === 'EventReceived')).toHaveLength(1);
    expect((await post('/v1/executions/w-replay/cancel')).statusCode).toBe(202);
  });

  it('a replayed publish id answers 200 with the same id and changes nothing, whatever the body says this time', async () => {
    expect((await post('/v1/workflows/keyedWaiter/executions', { id: 'k-replay', input: { n: 1, order: 'o-1' } })).statusCode).toBe(201);
    await entered('k-replay', 'await');
    const first = await post('/v1/events', { name: 'go', key: 'o-1', payload: { v: 1 }, id: 'pub-1' });
    expect(first.statusCode, first.body).toBe(201);
    expect(json(first)).toMatchObject({ id: 'pub-1', deliveredTo: ['k-replay'] });
    expect((await engine.waitForEnd('k-replay', 10_000)).output).toMatchObject({ go: { v: 1 } });
    const before = await history('k-replay');
    for (const body of [{ name: 'go', key: 'o-1', payload: { v: 2 } }, { name: 'other', key: 'o-2' }]) {
      const again = await post('/v1/events', { ...body, id: 'pub-1' });
      expect(again.statusCode, again.body).toBe(200);
      expect(json(again)).toEqual(json(first));
    }
    expect(await history('k-replay')).toEqual(before);
    expect(before.filter((e) => e.type === 'EventReceived')).toHaveLength(1);
  });

  it('two redrives at once: one 202, the other 409 EXECUTION_NOT_FAILED, and one ExecutionRedriven', async () => {
    expect((await post('/v1/workflows/held/executions', { id: 'h-race', input: { n: 1 } })).statusCode).toBe(201);
    expect((await engine.waitForEnd('h-race', 20_000)).status).toBe('FAILED');
    const answers = await Promise.all([post('/v1/executions/h-race/redrive'), post('/v1/executions/h-race/redrive')]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([202, 409]);
    const loser = answers.find((a) => a.statusCode === 409)!;
    expectApiError(loser, 409, 'EXECUTION_NOT_FAILED');
    expect((await engine.waitForEnd('h-race', 20_000)).status).toBe('FAILED');
    await engine.drain();
    const events = await history('h-race');
    expect(events.filter((e) => e.type === 'ExecutionRedriven').map((e) => e.data?.count)).toEqual([1]);
    expect(events.filter((e) => e.type === 'StepStarted')).toHaveLength(2);
  });

  it('status=QUEUED lists only the queued; parentId of an unknown or childless execution lists nothing', async () => {
    for (const n of [1, 2]) expect((await post('/v1/workflows/limited/executions', { id: `q-${n}`, input: { n } })).statusCode).toBe(201);
    await entered('q-1', 'await');
    const queued = json(await app.inject({ url: '/v1/executions?status=QUEUED' })).items as Array<{ id: string; status: string }>;
    expect(queued.map((x) => [x.id, x.status])).toEqual([['q-2', 'QUEUED']]);
    for (const parentId of ['nobody', 'q-1', 'a'.repeat(128)]) {
      const res = await app.inject({ url: `/v1/executions?parentId=${parentId}` });
      expect(res.statusCode, res.body).toBe(200);
      expect(json(res).items).toEqual([]);
    }
    // Cancelling a QUEUED execution ends it at once; it then takes neither events nor a redrive.
    expectApiError(await post('/v1/executions/q-2/redrive'), 409, 'EXECUTION_NOT_FAILED');
    expect((await post('/v1/executions/q-2/cancel')).statusCode).toBe(202);
    expect((await engine.waitForEnd('q-2', 20_000)).status).toBe('CANCELLED');
    expectApiError(await post('/v1/executions/q-2/events/go', { payload: 1 }), 409, 'EXECUTION_ENDED');
    expectApiError(await post('/v1/executions/q-2/redrive'), 409, 'EXECUTION_NOT_FAILED');
    expect((await post('/v1/executions/q-1/cancel')).statusCode).toBe(202);
  });
});

describe('with a token, every route but /healthz needs it', () => {
  const TOKEN = 'hostile-test-token-0123456789';
  let w: World;
  let endedId: string;

  beforeAll(async () => {
    w = await world(TOKEN);
    const res = await w.app.inject({
      method: 'POST', url: START, headers: { authorization: `Bearer ${TOKEN}` }, payload: { id: 'auth-seed', input: SEED_INPUT },
    });
    expect(res.statusCode, res.body).toBe(201);
    endedId = 'auth-seed';
    await w.engine.waitForEnd(endedId, 20_000);
  });

  afterAll(async () => {
    await w?.close();
  });

  const routes = (id: string): Array<{ method: Row['method']; url: string; headers?: Record<string, string>; payload?: string }> => [
    { method: 'GET', url: '/openapi.json' },
    { method: 'GET', url: '/v1/workflows' },
    { method: 'GET', url: '/v1/workflows/checkout' },
    { method: 'POST', url: START, headers: JSON_CT, payload: JSON.stringify({ input: SEED_INPUT }) },
    { method: 'GET', url: '/v1/executions' },
    { method: 'GET', url: `/v1/executions/${id}` },
    { method: 'GET', url: `/v1/executions/${id}/history` },
    { method: 'POST', url: `/v1/executions/${id}/cancel` },
    { method: 'GET', url: `/v1/executions/${id}/usage` },
    { method: 'GET', url: '/v1/usage' },
    { method: 'GET', url: '/metrics' },
    { method: 'GET', url: '/v1/nope' },
    { method: 'DELETE', url: `/v1/executions/${id}` },
    { method: 'GET', url: '/healthz/extra' },
    { method: 'POST', url: `/v1/queues/${QUEUE}/poll`, headers: JSON_CT, payload: '{"workerId":"w1","waitMs":0}' },
    { method: 'POST', url: '/v1/queues/no-such-queue/poll', headers: JSON_CT, payload: '{"workerId":"w1"}' },
    { method: 'POST', url: `/v1/tasks/${UNKNOWN_TOKEN}/succeed`, headers: JSON_CT, payload: '{"output":1}' },
    { method: 'POST', url: `/v1/tasks/${UNKNOWN_TOKEN}/fail`, headers: JSON_CT, payload: '{"error":{"name":"Boom"}}' },
    { method: 'POST', url: `/v1/tasks/${UNKNOWN_TOKEN}/heartbeat`, headers: JSON_CT, payload: '{}' },
    { method: 'POST', url: '/v1/tasks/not-a-token/succeed', headers: JSON_CT, payload: '{"output":1}' },
  ];

  const badHeaders: Array<[string, Record<string, string>]> = [
    ['no Authorization header', {}],
    ['a wrong token of the same length', { authorization: `Bearer ${'x'.repeat(TOKEN.length)}` }],
    ['a wrong token of another length', { authorization: 'Bearer short' }],
    ['the token with one more character', { authorization: `Bearer ${TOKEN}x` }],
    ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['"Bearer" with no token', { authorization: 'Bearer' }],
    ['"Bearer " with a space and no token', { authorization: 'Bearer ' }],
    ['the token without a scheme', { authorization: TOKEN }],
    ['Basic with the token', { authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` }],
    ['the token followed by another word', { authorization: `Bearer ${TOKEN} extra` }],
    ['the token in another header', { 'x-api-key': TOKEN }],
    ['the token as a cookie', { cookie: `token=${TOKEN}` }],
    ['an empty Authorization header', { authorization: '' }],
  ];

  it('401 UNAUTHORIZED with WWW-Authenticate for every route and every bad or missing token', async () => {
    let checked = 0;
    for (const route of routes(endedId)) {
      for (const [what, headers] of badHeaders) {
        const res = await w.app.inject({
          method: route.method ?? 'GET', url: route.url, headers: { ...(route.headers ?? {}), ...headers },
          ...(route.payload !== undefined ? { payload: route.payload } : {}),
        });
        try {
          expectApiError(res, 401, 'UNAUTHORIZED');
        } catch (error) {
          throw new Error(`${route.method} ${route.url} with ${what}: ${(error as Error).message}`, { cause: error });
        }
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
        checked++;
      }
    }
    expect(checked).toBe(routes('x').length * badHeaders.length);
  });

  it('the token is checked before the body is read: a bad body without a token is 401, not 400/413/415', async () => {
    for (const payload of ['{', 'x'.repeat(2_000_000), nested(100_000)]) {
      for (const type of ['application/json', 'text/plain']) {
        const res = await w.app.inject({ method: 'POST', url: START, headers: { 'content-type': type }, payload });
        expectApiError(res, 401, 'UNAUTHORIZED');
      }
    }
    // ... and a query string that fails validation as well.
    expectApiError(await w.app.inject({ url: '/v1/executions?limit=-1' }), 401, 'UNAUTHORIZED');
  });

  it('/healthz needs no token, and the right token works (scheme case-insensitive)', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }]) {
      const res = await w.app.inject({ url: '/healthz', headers });
      expect(res.statusCode).toBe(200);
    }
    for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `Bearer  ${TOKEN}\t`]) {
      const res = await w.app.inject({ url: `/v1/executions/${endedId}`, headers: { authorization } });
      expect(res.statusCode, `${authorization}: ${res.body}`).toBe(200);
    }
  });

  it('401 over a real socket too, including for a raw request that is otherwise fine', async () => {
    await w.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (w.app.server.address() as { port: number }).port;
    const [res] = parseResponses(await rawRequest(port, `GET /v1/workflows HTTP/1.1\r\n${H}Authorization: Bearer\r\nConnection: close\r\n\r\n`));
    expectApiError({ statusCode: res!.status, headers: res!.headers, body: res!.body }, 401, 'UNAUTHORIZED');
    const ok = await fetch(`http://127.0.0.1:${port}/v1/workflows`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
  });
});
