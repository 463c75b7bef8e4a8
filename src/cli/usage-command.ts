/**
 * `stepwise usage [<id>] [--workflow W] [--from DATE] [--to DATE] [--json]`: usage and estimated
 * cost through the HTTP API (GET /v1/executions/:id/usage, GET /v1/usage). Same conventions as
 * every client command: --url (or STEPWISE_URL), the token from STEPWISE_TOKEN, exit 3 for not found.
 */
import { parseArgs } from 'node:util';
import { ApiClient, ExitCode, usageError } from './client.js';
import { clean, table } from './format.js';
import { DEFAULT_URL } from './help.js';

export interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

interface Usage { stateTransitions: number; stepAttempts: number; retries: number; handlerMs: number; historyBytes: number; payloadBytes: number }
interface Cost { amount: number; currency: string }
interface Day { workflow: string; day: string; executions: number; usage: Usage; cost: Cost }

const OPTIONS = {
  url: { type: 'string' }, help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' },
  workflow: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
} as const;

const money = (c: Cost) => `${c.amount.toFixed(6)} ${c.currency}`;
const row = (u: Usage) => [String(u.stateTransitions), String(u.stepAttempts), String(u.retries), String(u.handlerMs), String(u.historyBytes + u.payloadBytes)];
const HEAD = ['TRANSITIONS', 'ATTEMPTS', 'RETRIES', 'HANDLER_MS', 'BYTES'];

export async function cmdUsage(args: string[], io: CommandIo, usageText: string): Promise<number> {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    throw usageError((err as Error).message.split('\n')[0]!.trim());
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(usageText);
    return ExitCode.OK;
  }
  if (positionals.length > 1) throw usageError(`unexpected argument '${positionals[1]}'`);
  const [id] = positionals;
  if (id !== undefined && (values.workflow ?? values.from ?? values.to) !== undefined) throw usageError('--workflow, --from and --to apply to a range, not to one execution');
  const api = new ApiClient({ baseUrl: (values.url as string | undefined) ?? io.env.STEPWISE_URL ?? DEFAULT_URL, ...(io.env.STEPWISE_TOKEN ? { token: io.env.STEPWISE_TOKEN } : {}) });
  if (id !== undefined) {
    const { body } = await api.request<{ executionId: string; workflow: string; status: string; usage: Usage; cost: Cost }>('GET', `/v1/executions/${encodeURIComponent(id)}/usage`);
    if (values.json) io.out(JSON.stringify(body, null, 2));
    else io.out(table(['EXECUTION', 'WORKFLOW', 'STATUS', ...HEAD, 'COST'], [[clean(body.executionId, 60), body.workflow, body.status, ...row(body.usage), money(body.cost)]]));
    return ExitCode.OK;
  }
  const query = new URLSearchParams();
  for (const k of ['workflow', 'from', 'to'] as const) if (typeof values[k] === 'string') query.set(k, values[k] as string);
  const { body } = await api.request<{ from: string; to: string; days: Day[]; total: { executions: number; usage: Usage; cost: Cost }; complete: boolean }>('GET', `/v1/usage?${query}`);
  if (values.json) {
    io.out(JSON.stringify(body, null, 2));
    return ExitCode.OK;
  }
  const rows = body.days.map((d) => [d.day, d.workflow, String(d.executions), ...row(d.usage), money(d.cost)]);
  rows.push(['total', '', String(body.total.executions), ...row(body.total.usage), money(body.total.cost)]);
  io.out(table(['DAY', 'WORKFLOW', 'EXECUTIONS', ...HEAD, 'COST'], rows));
  io.out(`executions started ${body.from} .. ${body.to}${body.complete ? '' : ' (incomplete: more executions than one report reads)'}`);
  return ExitCode.OK;
}
