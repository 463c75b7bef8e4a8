/**
 * Every option of `serve()` / `stepwise serve` in one table: its place in the options object (and
 * the config file), its flag, its environment variable, its default and its range. Parsing the
 * environment and the flags, checking a config file or a `serve()` call, and the text of
 * `stepwise serve --help` all come from this table, so they cannot drift apart.
 */
import type { AslHandlers } from '../asl/resources.js';
import type { Store } from '../core/store.js';
import type { AnyWorkflow } from '../dsl/workflow.js';
import type { Schedule } from '../schedules/schedule.js';
import type { QueueTrigger } from '../triggers/runner.js';
import type { Webhook } from '../triggers/webhook.js';
import { isHandlerRecord, isQueueTrigger, isWebhook } from './module-exports.js';
import { isSchedule } from '../schedules/collect.js';
import type { PriceTable } from '../observability/usage.js';
import type { AlertRule, DailyBudget } from '../observability/alerts.js';
import type { AlertWebhook } from '../observability/alert-webhooks.js';
import { ServeError, type ServeErrorCode } from './serve-error.js';

/** What `serve()` takes; a config file's default export has the same shape. */
export interface ServeOptions {
  /** Workflow modules to load (paths; TypeScript needs no build step), and `.asl.json` files. */
  modules?: string[];
  /** Built workflows to register, besides those the modules export. */
  workflows?: AnyWorkflow[];
  /** Webhooks to serve at POST /v1/hooks/:name (docs/triggers.md#webhooks), besides those the modules export. */
  hooks?: readonly Webhook[];
  /** Queue triggers (`natsTrigger`, `amqpTrigger`) to run, besides those the modules export (docs/triggers.md). */
  triggers?: readonly QueueTrigger[];
  /** Schedules (`schedule()`) to keep, besides those the modules export (docs/triggers.md#schedules). */
  schedules?: readonly Schedule[];
  /** Handlers by name that ASL Task resources call, besides the modules' `handlers` exports (docs/step-functions.md). */
  handlers?: AslHandlers;
  /** Serve the AWS Step Functions protocol on `POST /` (docs/step-functions.md). @default true */
  stepFunctions?: boolean;
  /** An SQLite file (its directory is created), ':memory:', or a postgres:// URL. @default './data/stepwise.db' */
  db?: string;
  /** An open store to use instead of `db`; `close()` leaves it open. */
  store?: Store;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port (see the handle's `url`). @default 3000 */
  port?: number;
  /** When set, every route but /healthz needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Listen beyond loopback without a token. @default false */
  allowInsecure?: boolean;
  /** Largest request body in bytes. @default 1048576 */
  bodyLimit?: number;
  /** Starts allowed per client IP per window. @default { max: 1000, timeWindowMs: 60000 } */
  startRateLimit?: { max?: number; timeWindowMs?: number };
  /** pino level: trace, debug, info, warn, error, fatal or silent. @default 'info' */
  logLevel?: string;
  /** Engine tuning (docs/scaling.md). */
  engine?: { workerId?: string; concurrency?: number; leaseMs?: number; pollIntervalMs?: number; correlatedEventRetentionMs?: number };
  /** Where relative module paths and a relative `db` path start. @default process.cwd() */
  cwd?: string;
  /** Serve GET /metrics on this port instead of the API's (same host, same token). */
  metricsPort?: number;
  /** Prices for usage's estimated cost (docs/observability.md#usage-and-cost). @default Step Functions Standard */
  prices?: PriceTable;
  /** Alert rules, daily budgets and the webhooks alerts go to (docs/observability.md#budgets-and-alerts). */
  alerts?: { rules?: AlertRule[]; budgets?: DailyBudget[]; webhooks?: AlertWebhook[] };
}

/** Types a config file: `export default defineConfig({ modules: ['./src/workflows.ts'] })`. */
export function defineConfig(config: ServeOptions): ServeOptions {
  return config;
}

interface OptionSpec {
  path: readonly [string] | readonly [string, string];
  flag?: string;
  /** For a boolean whose default is true: the flag (`--no-...`) sets it to false. */
  negatedFlag?: boolean;
  env: string;
  type: 'string' | 'integer' | 'boolean';
  min?: number;
  max?: number;
  /** Allowed strings, with the words used to say so. */
  pattern?: { re: RegExp; says: string };
  default: string;
  help: string;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export const SERVE_OPTIONS: readonly OptionSpec[] = [
  { path: ['host'], flag: 'host', env: 'HOST', type: 'string', default: '127.0.0.1', help: 'address to listen on; beyond loopback a token is required' },
  { path: ['port'], flag: 'port', env: 'PORT', type: 'integer', min: 0, max: 65535, default: '3000', help: 'port to listen on; 0 picks a free one' },
  { path: ['db'], flag: 'db', env: 'STEPWISE_DB', type: 'string', default: './data/stepwise.db', help: "SQLite file, ':memory:', or a postgres:// URL" },
  {
    path: ['token'], env: 'STEPWISE_TOKEN', type: 'string', default: 'unset',
    help: 'bearer token for every route but /healthz; no flag: command lines are visible to others',
  },
  { path: ['allowInsecure'], flag: 'allow-insecure', env: 'STEPWISE_ALLOW_INSECURE', type: 'boolean', default: 'false', help: 'listen beyond loopback without a token' },
  { path: ['bodyLimit'], flag: 'body-limit', env: 'STEPWISE_BODY_LIMIT', type: 'integer', min: 1024, max: 64 * 1024 * 1024, default: '1048576', help: 'largest request body, in bytes' },
  { path: ['startRateLimit', 'max'], flag: 'start-rate-max', env: 'STEPWISE_START_RATE_MAX', type: 'integer', min: 1, max: 1_000_000_000, default: '1000', help: 'starts allowed per client IP per window' },
  { path: ['startRateLimit', 'timeWindowMs'], flag: 'start-rate-window-ms', env: 'STEPWISE_START_RATE_WINDOW_MS', type: 'integer', min: 1, max: 86_400_000, default: '60000', help: 'the start rate-limit window, in ms' },
  {
    path: ['logLevel'], flag: 'log-level', env: 'STEPWISE_LOG_LEVEL', type: 'string', default: 'info',
    pattern: { re: new RegExp(`^(${LOG_LEVELS.join('|')})$`), says: `one of ${LOG_LEVELS.join(', ')}` }, help: 'log level (JSON lines on stdout)',
  },
  {
    path: ['engine', 'workerId'], flag: 'worker-id', env: 'STEPWISE_WORKER_ID', type: 'string', default: 'host:pid:random',
    pattern: { re: /^[A-Za-z0-9._:-]{1,128}$/, says: '1-128 letters, digits or ._:-' }, help: 'names this process in history and in leases',
  },
  { path: ['metricsPort'], flag: 'metrics-port', env: 'STEPWISE_METRICS_PORT', type: 'integer', min: 0, max: 65535, default: 'the API port', help: 'serve GET /metrics on this port instead (0 picks a free one)' },
  { path: ['engine', 'concurrency'], flag: 'concurrency', env: 'STEPWISE_CONCURRENCY', type: 'integer', min: 1, max: 100_000, default: '128', help: 'handlers running at once in this process' },
  { path: ['engine', 'leaseMs'], flag: 'lease-ms', env: 'STEPWISE_LEASE_MS', type: 'integer', min: 500, max: 86_400_000, default: '30000', help: 'PostgreSQL: how long a claim on work lasts without renewal' },
  { path: ['engine', 'pollIntervalMs'], flag: 'poll-ms', env: 'STEPWISE_POLL_MS', type: 'integer', min: 10, max: 3_600_000, default: '1000', help: 'PostgreSQL: longest sleep between looks for work' },
  {
    path: ['engine', 'correlatedEventRetentionMs'], flag: 'event-retention-ms', env: 'STEPWISE_EVENT_RETENTION_MS', type: 'integer', min: 0, max: 2_592_000_000,
    default: '86400000', help: 'how long a correlated event (POST /v1/events) is kept for executions that reach its wait later',
  },
  {
    path: ['stepFunctions'], flag: 'no-step-functions', negatedFlag: true, env: 'STEPWISE_STEP_FUNCTIONS', type: 'boolean', default: 'true',
    help: 'serve the AWS Step Functions protocol on POST / (the flag turns it off)',
  },
];

const NESTED = new Set(['startRateLimit', 'engine']);
/** Config keys that no flag or variable sets. */
const OTHER_KEYS = ['modules', 'workflows', 'hooks', 'triggers', 'schedules', 'handlers', 'store', 'cwd', 'prices', 'alerts'];

function fail(code: ServeErrorCode, message: string): never {
  throw new ServeError(code, message);
}

function rangeText(spec: OptionSpec): string {
  return `an integer from ${spec.min} to ${spec.max}`;
}

/** Parses one text value (environment or flag); `name` is how the user wrote it. */
function parseText(spec: OptionSpec, raw: string | boolean, name: string): unknown {
  if (spec.type === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (/^(1|true)$/i.test(raw.trim())) return true;
    if (/^(0|false)?$/i.test(raw.trim())) return false;
    return fail('USAGE', `${name} must be 1 or 0, not '${raw}'`);
  }
  const text = String(raw).trim();
  if (spec.type === 'integer') {
    const value = Number(text);
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || value < spec.min! || value > spec.max!) {
      return fail('USAGE', `${name} must be ${rangeText(spec)}, not '${raw}'`);
    }
    return value;
  }
  if (spec.pattern && !spec.pattern.re.test(text)) fail('USAGE', `${name} must be ${spec.pattern.says}, not '${raw}'`);
  return text;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- options assembled by path from the table, checked by type afterwards
function setPath(target: Record<string, any>, path: OptionSpec['path'], value: unknown): void {
  if (path.length === 1) target[path[0]] = value;
  else target[path[0]] = { ...(target[path[0]] ?? {}), [path[1]]: value };
}

/** The options the environment sets; an empty variable counts as unset. */
export function optionsFromEnv(env: NodeJS.ProcessEnv): ServeOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- options assembled by path from the table, checked by type afterwards
  const options: Record<string, any> = {};
  for (const spec of SERVE_OPTIONS) {
    const raw = env[spec.env];
    if (raw === undefined || raw.trim() === '') continue;
    // A token is taken as given: surrounding spaces could be part of it.
    setPath(options, spec.path, spec.path[0] === 'token' ? raw : parseText(spec, raw, spec.env));
  }
  return options;
}

/** parseArgs option specs for the flags, plus `--config`. */
export function flagSpecs(): Record<string, { type: 'string' | 'boolean' }> {
  const specs: Record<string, { type: 'string' | 'boolean' }> = { config: { type: 'string' } };
  for (const spec of SERVE_OPTIONS) if (spec.flag) specs[spec.flag] = { type: spec.type === 'boolean' ? 'boolean' : 'string' };
  return specs;
}

/** The options the flags set (values as parseArgs gives them). */
export function optionsFromFlags(values: Record<string, string | boolean | undefined>): ServeOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- options assembled by path from the table, checked by type afterwards
  const options: Record<string, any> = {};
  for (const spec of SERVE_OPTIONS) {
    const raw = spec.flag ? values[spec.flag] : undefined;
    if (raw === undefined) continue;
    setPath(options, spec.path, spec.negatedFlag ? raw !== true : parseText(spec, raw, `--${spec.flag}`));
  }
  return options;
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value === 'object' ? 'an object' : String(value);
}

/**
 * Checks options given as an object (a config file's export, or `serve()`'s argument): known
 * keys, the right types, values in range. `where` starts each message ("stepwise.config.ts").
 */
export function checkOptions(given: unknown, where: string): ServeOptions {
  const problem = (text: string): never => fail('BAD_CONFIG', `${where}: ${text}`);
  if (typeof given !== 'object' || given === null || Array.isArray(given)) problem(`the options must be an object, not ${describeValue(given)}`);
  const options = given as Record<string, unknown>;
  const known = new Set([...SERVE_OPTIONS.map((s) => s.path[0]), ...OTHER_KEYS]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) problem(`unknown option '${key}' (known: ${[...known].join(', ')})`);
  }
  for (const key of NESTED) {
    const nested = options[key];
    if (nested === undefined) continue;
    if (typeof nested !== 'object' || nested === null || Array.isArray(nested)) problem(`${key} must be an object, not ${describeValue(nested)}`);
    const allowed = SERVE_OPTIONS.filter((s) => s.path[0] === key).map((s) => s.path[1]!);
    for (const sub of Object.keys(nested as object)) if (!allowed.includes(sub)) problem(`unknown option '${key}.${sub}' (known: ${allowed.join(', ')})`);
  }
  for (const spec of SERVE_OPTIONS) {
    const value = spec.path.length === 1 ? options[spec.path[0]] : (options[spec.path[0]] as Record<string, unknown> | undefined)?.[spec.path[1]];
    if (value === undefined) continue;
    const name = spec.path.join('.');
    if (spec.type === 'boolean' && typeof value !== 'boolean') problem(`${name} must be true or false, not ${describeValue(value)}`);
    if (spec.type === 'integer' && (!Number.isSafeInteger(value) || (value as number) < spec.min! || (value as number) > spec.max!)) {
      problem(`${name} must be ${rangeText(spec)}, not ${describeValue(value)}`);
    }
    if (spec.type === 'string') {
      if (typeof value !== 'string' || value.length === 0) problem(`${name} must be a non-empty string, not ${describeValue(value)}`);
      if (spec.pattern && !spec.pattern.re.test(value as string)) problem(`${name} must be ${spec.pattern.says}, not ${describeValue(value)}`);
    }
  }
  const { modules, workflows, cwd, store } = options;
  if (modules !== undefined && (!Array.isArray(modules) || modules.some((m) => typeof m !== 'string' || m.length === 0))) {
    problem('modules must be an array of module paths');
  }
  if (workflows !== undefined && !Array.isArray(workflows)) problem('workflows must be an array of built workflows');
  const listOf = (key: string, is: (v: unknown) => boolean, what: string) => {
    const value = options[key];
    if (value === undefined) return;
    if (!Array.isArray(value)) problem(`${key} must be an array of ${what}`);
    const i = (value as unknown[]).findIndex((v) => !is(v));
    if (i >= 0) problem(`${key}[${i}] is not one of ${what}`);
  };
  listOf('hooks', isWebhook, 'webhook() definitions');
  listOf('triggers', isQueueTrigger, 'natsTrigger() or amqpTrigger() definitions');
  listOf('schedules', isSchedule, 'schedule() definitions');
  if (options.handlers !== undefined && !isHandlerRecord(options.handlers)) problem('handlers must be an object of handler functions by name');
  const prices = options.prices as Record<string, unknown> | undefined;
  if (prices !== undefined) {
    if (typeof prices !== 'object' || prices === null || Array.isArray(prices)) problem('prices must be an object');
    for (const [k, v] of Object.entries(prices!)) {
      if (k === 'currency' ? typeof v !== 'string' || v.length === 0 : !['perThousandTransitions', 'perHandlerSecond'].includes(k)) problem(`prices.${k} is not a known price (currency, perThousandTransitions, perHandlerSecond)`);
      if (k !== 'currency' && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) problem(`prices.${k} must be a number of 0 or more`);
    }
  }
  const alerts = options.alerts as Record<string, unknown> | undefined;
  if (alerts !== undefined) {
    if (typeof alerts !== 'object' || alerts === null || Array.isArray(alerts)) problem('alerts must be an object');
    for (const k of Object.keys(alerts!)) if (!['rules', 'budgets', 'webhooks'].includes(k)) problem(`unknown option 'alerts.${k}' (known: rules, budgets, webhooks)`);
    for (const k of ['rules', 'budgets', 'webhooks']) if (alerts![k] !== undefined && !Array.isArray(alerts![k])) problem(`alerts.${k} must be an array`);
    for (const [i, w] of ((alerts!.webhooks as Record<string, unknown>[] | undefined) ?? []).entries()) {
      if (typeof w?.url !== 'string' || !/^https?:\/\//.test(w.url)) problem(`alerts.webhooks[${i}].url must be an http(s) URL`);
      if (typeof w?.secret !== 'string' || w.secret.length < 16) problem(`alerts.webhooks[${i}].secret must be a string of at least 16 characters`);
    }
  }
  if (cwd !== undefined && (typeof cwd !== 'string' || cwd.length === 0)) problem('cwd must be a directory path');
  if (store !== undefined && (typeof store !== 'object' || store === null || typeof (store as Store).commit !== 'function')) problem('store must be an open Store');
  return options as ServeOptions;
}

/** Layers options, later ones winning; the nested groups merge key by key. */
export function mergeOptions(...layers: ServeOptions[]): ServeOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- options assembled by path from the table, checked by type afterwards
  const merged: Record<string, any> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      merged[key] = NESTED.has(key) ? { ...(merged[key] ?? {}), ...(value as object) } : value;
    }
  }
  return merged;
}

/** The `stepwise serve --help` text: every option with its flag, variable, config key and default. */
export function serveHelp(): string {
  const flagOf = (s: OptionSpec) => (s.flag ? `--${s.flag}${s.type === 'boolean' ? '' : s.type === 'integer' ? ' <n>' : ' <value>'}` : '(no flag)');
  const width = Math.max(...SERVE_OPTIONS.map((s) => flagOf(s).length));
  const table = SERVE_OPTIONS.map(
    (s) => `  ${flagOf(s).padEnd(width)}  ${s.help}\n  ${''.padEnd(width)}  env ${s.env}, config ${s.path.join('.')}, default ${s.default}`,
  ).join('\n');
  return `Usage: stepwise serve [modules...] [options]

Loads the modules (ES modules, TypeScript run as is, and .asl.json files), registers every
workflow, and serves the HTTP API, the history page and the AWS Step Functions protocol; runs the
queue triggers and schedules the modules export. Without modules on the command line, the config
file's \`modules\` are served.

Options come from stepwise.config.{ts,mts,mjs,js} in the working directory (or --config <file>),
then the environment, then the flags: each later source overrides the earlier ones.

${table}
  ${'--config <file>'.padEnd(width)}  a config file other than ./stepwise.config.{ts,mts,mjs,js}
  ${'-h, --help'.padEnd(width)}  show this help

A module may export built workflows, queue triggers, webhooks and schedules (each, in an exported
array, or in a default-exported array) and a \`handlers\` object (the names ASL Task resources
call); an .asl.json file is a state machine named after the file.
Config file keys besides those: modules (paths, relative to the file), workflows (built workflows),
hooks (webhook() definitions), triggers (natsTrigger()/amqpTrigger()), schedules (schedule()),
handlers (ASL handlers by name).
Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT); 1 INSECURE, STORE_UNAVAILABLE,
ADDRESS_IN_USE, STARTUP_FAILED; 2 USAGE, BAD_CONFIG, BAD_MODULE.`;
}
