/**
 * `stepwise serve` / `npm start`: reads the environment, opens the store, starts the engine with
 * the checkout example registered, and listens. Environment (docs/http-api.md#running-the-server):
 *   HOST (127.0.0.1), PORT (3000), STEPWISE_DB (./data/stepwise.db; ':memory:' or postgres:// too),
 *   STEPWISE_TOKEN, STEPWISE_ALLOW_INSECURE=1, STEPWISE_BODY_LIMIT (bytes, 1 MiB),
 *   STEPWISE_START_RATE_MAX (1000), STEPWISE_START_RATE_WINDOW_MS (60000), STEPWISE_LOG_LEVEL (info).
 * SIGTERM/SIGINT: stop taking requests, stop the engine (8 s grace), close the store, exit 0.
 */
import { mkdirSync } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import { dirname, resolve } from 'node:path';
import { checkout } from '../../examples/checkout/workflow.js';
import { DEFAULT_BODY_LIMIT, DEFAULT_START_RATE_LIMIT, buildServer } from '../api/server.js';
import { Engine, openStore } from '../index.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']);
const SHUTDOWN_GRACE_MS = 8000;
/** Whatever happens, the process is gone this long after the first signal. */
const SHUTDOWN_DEADLINE_MS = 9500;

export interface ServeConfig {
  host: string;
  port: number;
  db: string;
  token?: string;
  bodyLimit: number;
  startRateLimit: { max: number; timeWindowMs: number };
  logLevel: string;
  /** Engine tuning for a cluster (docs/scaling.md); unset means the engine's defaults. */
  engine: { workerId?: string; concurrency?: number; leaseMs?: number; pollIntervalMs?: number };
}

export class ConfigError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(host);
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError('USAGE', `${name} must be an integer from ${min} to ${max}, not '${raw}'`, 2);
  }
  return value;
}

/** Reads and checks the environment; throws ConfigError (with the exit code to use) when it is wrong. */
export function readServeConfig(env: NodeJS.ProcessEnv): ServeConfig {
  const host = env.HOST && env.HOST.trim() !== '' ? env.HOST.trim() : '127.0.0.1';
  const port = intFromEnv(env, 'PORT', 3000, 0, 65535);
  const token = env.STEPWISE_TOKEN && env.STEPWISE_TOKEN.length > 0 ? env.STEPWISE_TOKEN : undefined;
  if (!isLoopback(host) && !token && env.STEPWISE_ALLOW_INSECURE !== '1') {
    throw new ConfigError(
      'INSECURE',
      `refusing to listen on ${host} without STEPWISE_TOKEN (set a token, or STEPWISE_ALLOW_INSECURE=1 to allow it)`,
      1,
    );
  }
  return {
    host,
    port,
    db: env.STEPWISE_DB && env.STEPWISE_DB.trim() !== '' ? env.STEPWISE_DB.trim() : './data/stepwise.db',
    ...(token ? { token } : {}),
    bodyLimit: intFromEnv(env, 'STEPWISE_BODY_LIMIT', DEFAULT_BODY_LIMIT, 1024, 64 * 1024 * 1024),
    startRateLimit: {
      max: intFromEnv(env, 'STEPWISE_START_RATE_MAX', DEFAULT_START_RATE_LIMIT.max, 1, 1_000_000_000),
      timeWindowMs: intFromEnv(env, 'STEPWISE_START_RATE_WINDOW_MS', DEFAULT_START_RATE_LIMIT.timeWindowMs, 1, 86_400_000),
    },
    logLevel: env.STEPWISE_LOG_LEVEL && env.STEPWISE_LOG_LEVEL.trim() !== '' ? env.STEPWISE_LOG_LEVEL.trim() : 'info',
    engine: engineConfig(env),
  };
}

/** STEPWISE_WORKER_ID, STEPWISE_CONCURRENCY, STEPWISE_LEASE_MS, STEPWISE_POLL_MS: each optional. */
function engineConfig(env: NodeJS.ProcessEnv): ServeConfig['engine'] {
  const config: ServeConfig['engine'] = {};
  const workerId = env.STEPWISE_WORKER_ID?.trim();
  if (workerId) {
    if (!/^[A-Za-z0-9._:-]{1,128}$/.test(workerId)) {
      throw new ConfigError('USAGE', `STEPWISE_WORKER_ID must be 1-128 letters, digits or ._:-, not '${workerId}'`, 2);
    }
    config.workerId = workerId;
  }
  const optional = (name: string, min: number, max: number) => (env[name]?.trim() ? intFromEnv(env, name, 0, min, max) : undefined);
  const concurrency = optional('STEPWISE_CONCURRENCY', 1, 100_000);
  const leaseMs = optional('STEPWISE_LEASE_MS', 500, 86_400_000);
  const pollIntervalMs = optional('STEPWISE_POLL_MS', 10, 3_600_000);
  if (concurrency !== undefined) config.concurrency = concurrency;
  if (leaseMs !== undefined) config.leaseMs = leaseMs;
  if (pollIntervalMs !== undefined) config.pollIntervalMs = pollIntervalMs;
  return config;
}

function isFileDb(db: string): boolean {
  return db !== ':memory:' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(db) && !db.startsWith('file:');
}

function fail(code: string, message: string): void {
  process.stderr.write(`stepwise: ${code}: ${message.replace(/\s+/g, ' ').trim()}\n`);
}

/** Runs the server until a signal; resolves with an exit code only when start-up fails. */
export async function runServe(env: NodeJS.ProcessEnv): Promise<number> {
  let config: ServeConfig;
  try {
    config = readServeConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      fail(err.code, err.message);
      return err.exitCode;
    }
    throw err;
  }

  if (isFileDb(config.db)) {
    try {
      mkdirSync(dirname(resolve(config.db)), { recursive: true });
    } catch (err) {
      fail('STORE_UNAVAILABLE', `cannot create the directory for ${config.db}: ${(err as Error).message}`);
      return 1;
    }
  }

  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore(config.db);
  } catch (err) {
    fail('STORE_UNAVAILABLE', `cannot open the store ${redactUrl(config.db)}: ${(err as Error).message}`);
    return 1;
  }

  // The engine logs through the server's logger (pino), which exists only once the server does.
  let log: FastifyBaseLogger | undefined;
  const engine = new Engine({
    store,
    ...config.engine,
    logger: {
      info: (obj, msg) => log?.info(obj, msg),
      warn: (obj, msg) => log?.warn(obj, msg),
      error: (obj, msg) => log?.error(obj, msg),
    },
  });
  const app = buildServer({
    engine,
    ...(config.token ? { token: config.token } : {}),
    bodyLimit: config.bodyLimit,
    startRateLimit: config.startRateLimit,
    logger: { level: config.logLevel },
  });
  log = app.log;

  try {
    engine.register(checkout);
    await engine.start();
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    const code = (err as { code?: string }).code;
    fail(code === 'EADDRINUSE' ? 'ADDRESS_IN_USE' : 'STARTUP_FAILED', (err as Error).message);
    await app.close().catch(() => undefined);
    await engine.stop({ graceMs: 0 }).catch(() => undefined);
    await store.close().catch(() => undefined);
    return 1;
  }

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const deadline = setTimeout(() => {
      fail('SHUTDOWN_TIMEOUT', `shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    app.log.info({ signal }, 'shutting down');
    let code = 0;
    try {
      await app.close();
    } catch (err) {
      app.log.error({ err }, 'closing the HTTP server failed');
      code = 1;
    }
    try {
      await engine.stop({ graceMs: SHUTDOWN_GRACE_MS });
    } catch (err) {
      app.log.error({ err }, 'stopping the engine failed');
      code = 1;
    }
    try {
      await store.close();
    } catch (err) {
      app.log.error({ err }, 'closing the store failed');
      code = 1;
    }
    process.exit(code);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  // Never resolves: the process ends in `shutdown`.
  return new Promise<number>(() => undefined);
}

function redactUrl(db: string): string {
  return db.replace(/\/\/([^@/]*)@/, '//***@');
}
