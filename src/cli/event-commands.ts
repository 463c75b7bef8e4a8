/**
 * `stepwise send <id> <event> [--payload <json|@file>] [--event-id ID]`, `stepwise publish <event>
 * --key KEY [--payload …] [--event-id ID]` and `stepwise redrive <id>`: thin clients of
 * POST /v1/executions/:id/events/:name, POST /v1/events and POST /v1/executions/:id/redrive. Same
 * conventions as every client command: --url (or STEPWISE_URL), STEPWISE_TOKEN, exit 3 for not
 * found and 4 for a conflict (an ended execution, one that is not FAILED or was compensated).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiClient, ExitCode, usageError } from './client.js';

const DEFAULT_URL = 'http://127.0.0.1:3000';

export const SEND_USAGE = `Usage: stepwise send <id> <event> [--payload <json|@file>] [--event-id ID]

Delivers event <event> to execution <id>. A waitForEvent state for it takes it; one that arrives
before the state is reached is kept, in order, until it is. The same --event-id again changes
nothing. Prints { id, name, executionId, created } as JSON. --payload @- reads stdin.
Options: --url URL (default ${DEFAULT_URL}, or env STEPWISE_URL); the token is read from STEPWISE_TOKEN.
Exit codes: 0 ok, 2 usage, 3 not found, 4 the execution has already ended.`;

export const PUBLISH_USAGE = `Usage: stepwise publish <event> --key KEY [--payload <json|@file>] [--event-id ID]

Publishes a correlated event: delivered to every execution waiting in a waitForEvent state for
<event> whose key is KEY, and kept (24 h by default, the server's --event-retention-ms) for
executions that reach such a wait later; each gets it once. The same --event-id again changes
nothing. Prints { id, deliveredTo, retainedUntil } as JSON. --payload @- reads stdin.
Options: --url URL (default ${DEFAULT_URL}, or env STEPWISE_URL); the token is read from STEPWISE_TOKEN.
Exit codes: 0 ok, 2 usage.`;

export const REDRIVE_USAGE = `Usage: stepwise redrive <id>

Resumes a FAILED execution from the state that failed, with the data it had there; steps that
completed do not run again. Prints { execution, count } as JSON.
Options: --url URL (default ${DEFAULT_URL}, or env STEPWISE_URL); the token is read from STEPWISE_TOKEN.
Exit codes: 0 ok, 2 usage, 3 not found, 4 not FAILED, or its compensations already ran.`;

interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const OPTIONS = {
  url: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  payload: { type: 'string' },
  'event-id': { type: 'string' },
  key: { type: 'string' },
} as const;

function parsed(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError((err as Error).message.split('\n')[0]!.trim());
  }
}

function clientFor(url: string | undefined, env: NodeJS.ProcessEnv): ApiClient {
  const token = env.STEPWISE_TOKEN && env.STEPWISE_TOKEN.length > 0 ? env.STEPWISE_TOKEN : undefined;
  return new ApiClient({ baseUrl: url ?? env.STEPWISE_URL ?? DEFAULT_URL, ...(token ? { token } : {}) });
}

function readPayload(spec: string): unknown {
  let text = spec;
  if (spec.startsWith('@')) {
    const path = spec.slice(1);
    if (path.length === 0) throw usageError('--payload @ needs a file name (or @- for stdin)');
    try {
      text = readFileSync(path === '-' ? 0 : path, 'utf8');
    } catch (err) {
      throw usageError(`cannot read --payload file ${path}: ${(err as { code?: string }).code ?? 'error'}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usageError(`--payload is not valid JSON: ${(err as Error).message.split('\n')[0]}`);
  }
}

export async function cmdSend(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parsed(args);
  if (values.help) {
    io.out(SEND_USAGE);
    return ExitCode.OK;
  }
  const [id, event, ...extra] = positionals;
  if (id === undefined || event === undefined) throw usageError(`missing <${id === undefined ? 'id' : 'event'}>`);
  if (extra.length > 0) throw usageError(`unexpected argument '${extra[0]}'`);
  const body: Record<string, unknown> = { payload: values.payload === undefined ? null : readPayload(values.payload) };
  if (values['event-id'] !== undefined) body.id = values['event-id'];
  const { body: answer } = await clientFor(values.url, io.env)
    .request('POST', `/v1/executions/${encodeURIComponent(id)}/events/${encodeURIComponent(event)}`, body);
  io.out(JSON.stringify(answer, null, 2));
  return ExitCode.OK;
}

export async function cmdPublish(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parsed(args);
  if (values.help) {
    io.out(PUBLISH_USAGE);
    return ExitCode.OK;
  }
  const [event, ...extra] = positionals;
  if (event === undefined) throw usageError('missing <event>');
  if (extra.length > 0) throw usageError(`unexpected argument '${extra[0]}'`);
  if (values.key === undefined) throw usageError('missing --key');
  const body: Record<string, unknown> = { name: event, key: values.key, payload: values.payload === undefined ? null : readPayload(values.payload) };
  if (values['event-id'] !== undefined) body.id = values['event-id'];
  const { body: answer } = await clientFor(values.url, io.env).request('POST', '/v1/events', body);
  io.out(JSON.stringify(answer, null, 2));
  return ExitCode.OK;
}

export async function cmdRedrive(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parsed(args);
  if (values.help) {
    io.out(REDRIVE_USAGE);
    return ExitCode.OK;
  }
  const [id, ...extra] = positionals;
  if (id === undefined) throw usageError('missing <id>');
  if (extra.length > 0) throw usageError(`unexpected argument '${extra[0]}'`);
  const { body } = await clientFor(values.url, io.env).request('POST', `/v1/executions/${encodeURIComponent(id)}/redrive`);
  io.out(JSON.stringify(body, null, 2));
  return ExitCode.OK;
}
