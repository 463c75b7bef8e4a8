/**
 * `serve(options)`: loads workflow modules, opens the store, starts the engine and the HTTP API,
 * and returns a running handle. `stepwise serve` is a thin wrapper over it (src/cli/serve.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { DEFAULT_START_RATE_LIMIT, buildServer } from '../api/server.js';
import type { Store } from '../core/store.js';
import { isWorkflow, type Workflow } from '../dsl/workflow.js';
import { Engine } from '../engine/engine.js';
import { openStore } from '../persistence/open.js';
import { buildMetricsServer } from '../api/metrics-server.js';
import { combineObservers } from '../observability/combine.js';
import { Metrics } from '../observability/metrics.js';
import { Alerts } from '../observability/alerts.js';
import { stepLogObserver, type ChildLogger } from '../observability/step-log.js';
import { loadWorkflowModules } from './load-modules.js';
import { checkOptions, type ServeOptions } from './options.js';
import { ServeError } from './serve-error.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']);
export const DEFAULT_DB = './data/stepwise.db';

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(host);
}

/** A running server. */
export interface StepwiseServer {
  /** Where it listens, e.g. http://127.0.0.1:3000 (the real port when `port` was 0). */
  readonly url: string;
  /** Where GET /metrics listens, when `metricsPort` put it on a port of its own. */
  readonly metricsUrl?: string;
  /** The engine's Prometheus metrics (docs/observability.md). */
  readonly metrics: Metrics;
  readonly engine: Engine;
  readonly store: Store;
  /** The fastify instance (already listening). */
  readonly app: FastifyInstance;
  /**
   * Stops taking requests, stops the engine (running handlers get `graceMs`, then their work is
   * handed back and resumes on the next start), and closes the store unless it was given open.
   * Tries all three even when one fails, then rejects with the first failure. Idempotent.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

function isFileDb(db: string): boolean {
  return db !== ':memory:' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(db) && !db.startsWith('file:');
}

export function redactDbUrl(db: string): string {
  return db.replace(/\/\/([^@/]*)@/, '//***@');
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function openConfiguredStore(db: string, cwd: string): Promise<Store> {
  const location = isFileDb(db) ? resolve(cwd, db) : db;
  if (isFileDb(db)) {
    try {
      mkdirSync(dirname(location), { recursive: true });
    } catch (err) {
      throw new ServeError('STORE_UNAVAILABLE', `cannot create the directory for ${db}: ${message(err)}`);
    }
  }
  try {
    return await openStore(location);
  } catch (err) {
    throw new ServeError('STORE_UNAVAILABLE', `cannot open the store ${redactDbUrl(db)}: ${message(err)}`);
  }
}

/**
 * Serves workflows over HTTP. Refuses to listen beyond loopback without a token (unless
 * `allowInsecure`), and to start with nothing to serve. Throws a ServeError whose `code` says
 * what went wrong (USAGE, BAD_CONFIG, BAD_MODULE, INSECURE, STORE_UNAVAILABLE, ADDRESS_IN_USE,
 * STARTUP_FAILED); nothing is left open after a failed start.
 */
export async function serve(given: ServeOptions = {}): Promise<StepwiseServer> {
  const options = checkOptions(given, 'serve()');
  const cwd = options.cwd ?? process.cwd();
  const host = options.host ?? '127.0.0.1';
  const token = options.token !== undefined && options.token.length > 0 ? options.token : undefined;
  if (!isLoopback(host) && !token && !options.allowInsecure) {
    throw new ServeError(
      'INSECURE',
      `refusing to listen on ${host} without a token (set STEPWISE_TOKEN or the token option; or allow it with STEPWISE_ALLOW_INSECURE=1 or allowInsecure)`,
    );
  }
  for (const [i, wf] of (options.workflows ?? []).entries()) {
    if (!isWorkflow(wf)) throw new ServeError('BAD_CONFIG', `workflows[${i}] is not a built workflow (did you forget .build()?)`);
  }
  const workflows: Workflow[] = [...(options.workflows ?? []), ...(await loadWorkflowModules(options.modules ?? [], cwd))];
  if (workflows.length === 0) {
    throw new ServeError('USAGE', 'no workflows to serve: name workflow modules (stepwise serve ./workflows.ts), or set modules in stepwise.config.ts');
  }

  const store = options.store ?? (await openConfiguredStore(options.db ?? DEFAULT_DB, cwd));
  const ownsStore = options.store === undefined;
  // The engine logs through the server's logger (pino), which exists only once the server does.
  let log: FastifyBaseLogger | undefined;
  const metrics = new Metrics({ store });
  const alerts = options.alerts
    ? new Alerts({ ...options.alerts, counter: metrics.alerts, log: { warn: (o, m) => log?.warn(o, m), error: (o, m) => log?.error(o, m) } })
    : undefined;
  const engine = new Engine({
    store,
    ...options.engine,
    observer: combineObservers(metrics, alerts, stepLogObserver(() => log as unknown as ChildLogger | undefined)),
    logger: {
      info: (obj, msg) => log?.info(obj, msg),
      warn: (obj, msg) => log?.warn(obj, msg),
      error: (obj, msg) => log?.error(obj, msg),
    },
  });
  const app = buildServer({
    engine,
    ...(token ? { token } : {}),
    ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
    ...(options.hooks !== undefined ? { hooks: options.hooks } : {}),
    startRateLimit: { ...DEFAULT_START_RATE_LIMIT, ...options.startRateLimit },
    logger: { level: options.logLevel ?? 'info' },
    ...(options.metricsPort === undefined ? { metrics } : {}),
    ...(options.prices !== undefined ? { prices: options.prices } : {}),
    ...(alerts ? { startGate: alerts } : {}),
  });
  // Every engine line (and every handler's ctx.log) names this process.
  log = app.log.child({ worker: engine.workerId });
  const metricsApp = options.metricsPort === undefined ? undefined : buildMetricsServer({ metrics, ...(token ? { token } : {}) });

  let closing: Promise<void> | undefined;
  const close = (closeOptions: { graceMs?: number } = {}): Promise<void> => {
    closing ??= (async () => {
      const failures: unknown[] = [];
      const attempt = async (what: string, fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (err) {
          app.log.error({ err }, `${what} failed`);
          failures.push(err);
        }
      };
      await attempt('closing the HTTP server', () => app.close());
      if (metricsApp) await attempt('closing the metrics server', () => metricsApp.close());
      await attempt('stopping the engine', () => engine.stop({ graceMs: closeOptions.graceMs ?? 8000 }));
      alerts?.close();
      if (ownsStore) await attempt('closing the store', () => store.close());
      if (failures.length > 0) throw failures[0];
    })();
    return closing;
  };

  let url: string;
  let metricsUrl: string | undefined;
  try {
    engine.register(...workflows);
    await engine.start();
    url = await app.listen({ host, port: options.port ?? 3000 });
    if (metricsApp) metricsUrl = await metricsApp.listen({ host, port: options.metricsPort });
  } catch (err) {
    const code = (err as { code?: string }).code;
    await app.close().catch(() => undefined);
    await metricsApp?.close().catch(() => undefined);
    await engine.stop({ graceMs: 0 }).catch(() => undefined);
    if (ownsStore) await store.close().catch(() => undefined);
    throw new ServeError(code === 'EADDRINUSE' ? 'ADDRESS_IN_USE' : 'STARTUP_FAILED', message(err));
  }
  return { url, ...(metricsUrl ? { metricsUrl } : {}), engine, store, app, metrics, close };
}
