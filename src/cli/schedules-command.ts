/**
 * `stepwise schedules list|get|create|pause|resume|delete`: manages durable schedules through the
 * HTTP API (/v1/schedules). Same conventions as every client command: --url (or STEPWISE_URL),
 * the token from STEPWISE_TOKEN, one-line errors, exit 3 for not found and 4 for a conflict.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiClient, ExitCode, usageError } from './client.js';
import { clean, table } from './format.js';

const DEFAULT_URL = 'http://127.0.0.1:3000';

export const SCHEDULES_USAGE = `Usage: stepwise schedules <action> [options]

Actions:
  list [--json]                               schedules with their last run and next fire time
  get <id>                                    one schedule with its next 5 fire times (JSON)
  create <id> --cron CRON --workflow W        create a schedule (same id and definition: no change)
         [--timezone TZ] [--input <json|@file>] [--overlap skip|allow|cancelPrevious]
         [--catch-up none|latest|all] [--catch-up-limit N] [--paused]
  pause <id> | resume <id>                    stop firing, or go on from the next future slot
  delete <id>                                 delete it (the executions it started are kept)

Options: --url URL (default ${DEFAULT_URL}, or env STEPWISE_URL); the token is read from STEPWISE_TOKEN.
Cron: five fields, or six with seconds first, e.g. '*/10 * * * * *'.`;

/** The CLI's output sinks and environment (structurally the same as main.ts's). */
export interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

interface ApiSchedule {
  id: string;
  cron: string;
  timezone: string;
  workflow: string;
  paused: boolean;
  nextFireAt?: string;
  lastRun?: { slotAt: string; executionId?: string; status?: string };
  counts: { fired: number; skipped: number; missed: number; failed: number };
}

const OPTIONS = {
  url: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  cron: { type: 'string' },
  workflow: { type: 'string' },
  timezone: { type: 'string' },
  input: { type: 'string' },
  overlap: { type: 'string' },
  'catch-up': { type: 'string' },
  'catch-up-limit': { type: 'string' },
  paused: { type: 'boolean' },
} as const;

const ID_RE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Runs `stepwise schedules …`; `args` are the words after `schedules`. */
export async function cmdSchedules(args: string[], io: CommandIo): Promise<number> {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    throw usageError((err as Error).message.split('\n')[0]!.trim());
  }
  const { values, positionals } = parsed;
  const [action, id, ...extra] = positionals;
  if (action === undefined && !values.help) {
    io.err(SCHEDULES_USAGE);
    return ExitCode.USAGE;
  }
  if (values.help || action === 'help') {
    io.out(SCHEDULES_USAGE);
    return ExitCode.OK;
  }
  const needsId = action !== 'list';
  if (needsId && id === undefined) throw usageError(`schedules ${action} needs <id>`);
  if (extra.length > 0 || (!needsId && id !== undefined)) throw usageError(`unexpected argument '${needsId ? extra[0] : id}'`);
  if (needsId && !ID_RE.test(id!)) throw usageError('<id> must be a letter followed by up to 63 letters, digits, _ or -');
  const onlyFor = (names: string[], allowed: string) => {
    for (const name of names) if (values[name] !== undefined && !allowed.split(',').includes(action)) throw usageError(`--${name} only applies to schedules ${allowed.replace(/,/g, ' or ')}`);
  };
  onlyFor(['cron', 'workflow', 'timezone', 'input', 'overlap', 'catch-up', 'catch-up-limit', 'paused'], 'create');
  onlyFor(['json'], 'list');

  const api = new ApiClient({ baseUrl: (values.url as string | undefined) ?? io.env.STEPWISE_URL ?? DEFAULT_URL, ...(io.env.STEPWISE_TOKEN ? { token: io.env.STEPWISE_TOKEN } : {}) });
  const path = needsId ? `/v1/schedules/${encodeURIComponent(id!)}` : '/v1/schedules';
  const print = (value: unknown) => io.out(JSON.stringify(value, null, 2));
  switch (action) {
    case 'list': {
      const { body } = await api.request<{ items: ApiSchedule[] }>('GET', path);
      if (values.json) print(body);
      else io.out(schedulesTable(body.items));
      return ExitCode.OK;
    }
    case 'get':
      print((await api.request('GET', path)).body);
      return ExitCode.OK;
    case 'create':
      print((await api.request('POST', '/v1/schedules', createBody(id!, values))).body);
      return ExitCode.OK;
    case 'pause':
    case 'resume':
      print((await api.request('PATCH', path, { paused: action === 'pause' })).body);
      return ExitCode.OK;
    case 'delete':
      await api.request('DELETE', path);
      return ExitCode.OK;
    default:
      throw usageError(`unknown action 'schedules ${action}' (try: stepwise schedules --help)`);
  }
}

function createBody(id: string, values: Record<string, string | boolean | undefined>): Record<string, unknown> {
  if (typeof values.cron !== 'string') throw usageError('schedules create needs --cron');
  if (typeof values.workflow !== 'string') throw usageError('schedules create needs --workflow');
  const body: Record<string, unknown> = { id, cron: values.cron, workflow: values.workflow };
  if (values.timezone !== undefined) body.timezone = values.timezone;
  if (values.input !== undefined) body.input = readJson(values.input as string);
  if (values.overlap !== undefined) body.overlap = values.overlap;
  if (values['catch-up'] !== undefined) body.catchUp = values['catch-up'];
  if (values['catch-up-limit'] !== undefined) {
    const limit = Number(values['catch-up-limit']);
    if (!Number.isInteger(limit)) throw usageError('--catch-up-limit must be an integer');
    body.catchUpLimit = limit;
  }
  if (values.paused) body.paused = true;
  return body;
}

function readJson(spec: string): unknown {
  let text = spec;
  if (spec.startsWith('@')) {
    const file = spec.slice(1);
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (err) {
      throw usageError(`cannot read --input file ${file}: ${(err as { code?: string }).code ?? 'error'}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usageError(`--input is not valid JSON: ${(err as Error).message.split('\n')[0]}`);
  }
}

export function schedulesTable(items: ApiSchedule[]): string {
  if (items.length === 0) return '(no schedules)';
  return table(
    ['ID', 'CRON', 'WORKFLOW', 'STATE', 'NEXT', 'LAST RUN', 'FIRED/SKIPPED/MISSED/FAILED'],
    items.map((s) => [
      clean(s.id, 64),
      clean(s.timezone === 'UTC' ? s.cron : `${s.cron} (${s.timezone})`, 60),
      clean(s.workflow, 64),
      s.paused ? 'paused' : 'active',
      s.nextFireAt ?? '-',
      s.lastRun ? `${s.lastRun.slotAt}${s.lastRun.status ? ` ${s.lastRun.status}` : ''}` : '-',
      `${s.counts.fired}/${s.counts.skipped}/${s.counts.missed}/${s.counts.failed}`,
    ]),
  );
}
