#!/usr/bin/env node
/**
 * The `stepwise` command. Every command but `serve` and `init` talks to a running server over HTTP.
 * Exit codes (docs/http-api.md#cli): 0 ok, 1 server or request error, 2 usage error, 3 not found,
 * 4 conflict; `start --wait` adds 5 (execution FAILED) and 6 (execution CANCELLED).
 * Errors are one line on stderr: `stepwise: <code>: <message>`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiClient, CliError, ExitCode, usageError } from './client.js';
import type { ApiHistoryEvent } from '../api/present.js';
import { executionsTable, historyTable, type ApiExecutionItem } from './format.js';
import { DEFAULT_URL, USAGE, helpFor } from './help.js';
import { packageInfo } from '../core/package-root.js';

const STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

const COMMON: OptionSpec = { url: { type: 'string' }, help: { type: 'boolean', short: 'h' } };

interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

function parse(args: string[], options: OptionSpec, positionals: string[]): Parsed {
  let result: ReturnType<typeof parseArgs>;
  try {
    result = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError(firstLine((err as Error).message));
  }
  const values = result.values as Parsed['values'];
  if (!values.help) {
    if (result.positionals.length < positionals.length) {
      throw usageError(`missing <${positionals[result.positionals.length]}>`);
    }
    if (result.positionals.length > positionals.length) {
      throw usageError(`unexpected argument '${result.positionals[positionals.length]}'`);
    }
  }
  return { values, positionals: result.positionals };
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

function client(values: Parsed['values'], env: NodeJS.ProcessEnv): ApiClient {
  const url = (values.url as string | undefined) ?? env.STEPWISE_URL ?? DEFAULT_URL;
  const token = env.STEPWISE_TOKEN && env.STEPWISE_TOKEN.length > 0 ? env.STEPWISE_TOKEN : undefined;
  return new ApiClient({ baseUrl: url, ...(token ? { token } : {}) });
}

function readInput(spec: string): unknown {
  let text = spec;
  if (spec.startsWith('@')) {
    const path = spec.slice(1);
    if (path.length === 0) throw usageError('--input @ needs a file name (or @- for stdin)');
    try {
      text = readFileSync(path === '-' ? 0 : path, 'utf8');
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'error';
      throw usageError(`cannot read --input file ${path}: ${code}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usageError(`--input is not valid JSON: ${firstLine((err as Error).message)}`);
  }
}

const enc = encodeURIComponent;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface ApiExecution extends ApiExecutionItem {
  input?: unknown;
  output?: unknown;
}

async function cmdStart(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    args,
    { input: { type: 'string' }, id: { type: 'string' }, wait: { type: 'boolean' }, timeout: { type: 'string' } },
    ['workflow'],
  );
  if (values.help) return help(io, 'start');
  if (values.input === undefined) throw usageError('start needs --input <json|@file>');
  const id = values.id as string | undefined;
  if (id !== undefined && !ID_RE.test(id)) {
    throw usageError('--id must be 1-128 letters, digits or ._:- and start with a letter or digit');
  }
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!values.wait) throw usageError('--timeout only applies with --wait');
    if (!Number.isFinite(seconds) || seconds <= 0) throw usageError('--timeout must be a positive number of seconds');
    timeoutMs = seconds * 1000;
  }
  const input = readInput(values.input as string);
  const api = client(values, io.env);
  const started = await api.request<ApiExecution>('POST', `/v1/workflows/${enc(positionals[0]!)}/executions`, {
    input,
    ...(id !== undefined ? { id } : {}),
  });
  if (!values.wait) {
    printJson(io, started.body);
    return ExitCode.OK;
  }
  const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  let delay = 100;
  for (;;) {
    const { body } = await api.request<ApiExecution>('GET', `/v1/executions/${enc(started.body.id)}`);
    if (body.status !== 'RUNNING' && body.status !== 'QUEUED') {
      printJson(io, body);
      if (body.status === 'SUCCEEDED') return ExitCode.OK;
      const why = body.error ? ` with ${body.error.code}: ${body.error.message}` : '';
      io.err(oneLine(`stepwise: EXECUTION_${body.status}: execution ${body.id} ended ${body.status}${why}`));
      return body.status === 'FAILED' ? ExitCode.FAILED : body.status === 'CANCELLED' ? ExitCode.CANCELLED : ExitCode.ERROR;
    }
    if (Date.now() + delay > deadline) {
      throw new CliError('TIMEOUT', `execution ${body.id} is still RUNNING after ${values.timeout}s`, ExitCode.ERROR);
    }
    await sleep(delay);
    delay = Math.min(1000, Math.round(delay * 1.5));
  }
}

async function cmdDescribe(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, ['id']);
  if (values.help) return help(io, 'describe');
  const { body } = await client(values, io.env).request('GET', `/v1/executions/${enc(positionals[0]!)}`);
  printJson(io, body);
  return ExitCode.OK;
}

async function cmdHistory(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, ['id']);
  if (values.help) return help(io, 'history');
  const api = client(values, io.env);
  const events: ApiHistoryEvent[] = [];
  let after: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ limit: '1000', ...(after ? { after } : {}) });
    const { body } = await api.request<{ events: ApiHistoryEvent[]; nextCursor?: string }>(
      'GET',
      `/v1/executions/${enc(positionals[0]!)}/history?${query}`,
    );
    events.push(...body.events);
    if (!body.nextCursor || body.events.length === 0) break;
    after = body.nextCursor;
  }
  if (values.json) printJson(io, { events });
  else io.out(historyTable(events));
  return ExitCode.OK;
}

async function cmdList(args: string[], io: Io): Promise<number> {
  const { values } = parse(
    args,
    { workflow: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' }, json: { type: 'boolean' } },
    [],
  );
  if (values.help) return help(io, 'list');
  const query = new URLSearchParams();
  if (values.workflow !== undefined) query.set('workflow', values.workflow as string);
  if (values.status !== undefined) {
    const status = String(values.status).toUpperCase();
    if (!STATUSES.includes(status)) throw usageError(`--status must be one of ${STATUSES.join(', ')}`);
    query.set('status', status);
  }
  if (values.limit !== undefined) {
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw usageError('--limit must be an integer from 1 to 500');
    query.set('limit', String(limit));
  }
  if (values.cursor !== undefined) query.set('cursor', values.cursor as string);
  const qs = query.toString();
  const { body } = await client(values, io.env).request<{ items: ApiExecutionItem[]; nextCursor?: string }>(
    'GET',
    `/v1/executions${qs ? `?${qs}` : ''}`,
  );
  if (values.json) {
    printJson(io, body);
  } else {
    io.out(executionsTable(body.items));
    if (body.nextCursor) io.out(`(more: --cursor ${body.nextCursor})`);
  }
  return ExitCode.OK;
}

async function cmdCancel(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } }, ['id']);
  if (values.help) return help(io, 'cancel');
  const { body } = await client(values, io.env).request('POST', `/v1/executions/${enc(positionals[0]!)}/cancel`);
  printJson(io, body);
  return ExitCode.OK;
}

async function cmdGraph(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {}, ['workflow']);
  if (values.help) return help(io, 'graph');
  const { body } = await client(values, io.env).request<{ mermaid?: unknown }>('GET', `/v1/workflows/${enc(positionals[0]!)}`);
  if (typeof body.mermaid !== 'string') throw new CliError('BAD_RESPONSE', 'the workflow description has no mermaid text', ExitCode.ERROR);
  io.out(body.mermaid.replace(/\n+$/, ''));
  return ExitCode.OK;
}

async function cmdWorkflows(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } }, []);
  if (values.help) return help(io, 'workflows');
  const { body } = await client(values, io.env).request<{ workflows: Array<{ name: string; version: string; startAt?: string; input?: unknown }> }>(
    'GET',
    '/v1/workflows',
  );
  if (values.json) {
    printJson(io, { workflows: body.workflows.map(({ name, version, startAt, input }) => ({ name, version, startAt, ...(input !== undefined ? { input } : {}) })) });
  } else {
    io.out(body.workflows.map((w) => `${w.name}\t${w.version}`).join('\n'));
  }
  return ExitCode.OK;
}

async function cmdServe(args: string[], io: Io): Promise<number> {
  const { runServe } = await import('./serve.js');
  return runServe(args, io.env, io.out);
}

async function cmdInit(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseInit(args);
  if (values.help) return help(io, 'init');
  const { scaffold, initMessage } = await import('./init.js');
  const dir = positionals[0] ?? '.';
  io.out(initMessage(dir, scaffold(dir)));
  return ExitCode.OK;
}

function parseInit(args: string[]): Parsed {
  let result: ReturnType<typeof parseArgs>;
  try {
    result = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError(firstLine((err as Error).message));
  }
  if (result.positionals.length > 1) throw usageError(`unexpected argument '${result.positionals[1]}'`);
  return { values: result.values as Parsed['values'], positionals: result.positionals };
}

function help(io: Io, command?: string): number {
  io.out(helpFor(command));
  return ExitCode.OK;
}

const COMMANDS: Record<string, (args: string[], io: Io) => Promise<number>> = {
  serve: cmdServe,
  init: cmdInit,
  start: cmdStart,
  describe: cmdDescribe,
  history: cmdHistory,
  list: cmdList,
  cancel: cmdCancel,
  graph: cmdGraph,
  workflows: cmdWorkflows,
  asl: async (args, io) => (await import('./asl-import.js')).cmdAsl(args, io),
  schedules: (args, io) => import('./schedules-command.js').then((m) => m.cmdSchedules(args, io)),
  usage: (args, io) => import('./usage-command.js').then((m) => m.cmdUsage(args, io, helpFor('usage'))),
  send: (args, io) => import('./event-commands.js').then((m) => m.cmdSend(args, io)),
  publish: (args, io) => import('./event-commands.js').then((m) => m.cmdPublish(args, io)),
  redrive: (args, io) => import('./event-commands.js').then((m) => m.cmdRedrive(args, io)),
};

function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined) {
      io.err(USAGE);
      return ExitCode.USAGE;
    }
    if (command === '--help' || command === '-h') return help(io);
    if (command === 'help') return help(io, rest[0]);
    if (command === '--version' || command === '-v') {
      io.out(packageInfo().version);
      return ExitCode.OK;
    }
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!run) throw usageError(`unknown command '${command}' (try: stepwise --help)`);
    return await run(rest, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.err(oneLine(`stepwise: ${err.code}: ${err.message}`));
      return err.exitCode;
    }
    io.err(oneLine(`stepwise: INTERNAL: ${(err as Error)?.message ?? String(err)}`));
    return ExitCode.ERROR;
  }
}

const io: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
};

main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`stepwise: INTERNAL: ${oneLine(String((err as Error)?.message ?? err))}\n`);
    process.exitCode = ExitCode.ERROR;
  },
);
