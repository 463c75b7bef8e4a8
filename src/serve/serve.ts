/**
 * `serve(options)`: loads the modules, opens the store, starts the engine, the schedules and the
 * queue triggers, serves the HTTP API (with the webhooks, the schedule routes and the AWS Step
 * Functions protocol), and returns a running handle. `stepwise serve` is a thin wrapper over it
 * (src/cli/serve.ts).
 *
 * Start order: engine, then the HTTP app made ready (the AWS protocol registers the state
 * machines it keeps), then schedules and triggers (both need the engine's workflows), then the
 * listener, so the port opens on a server that is whole. Close order: everything that takes work
 * in (HTTP, triggers, schedules) stops first, then the engine, then the registry and the store.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { DEFAULT_START_RATE_LIMIT, buildServer } from '../api/server.js';
import type { AslRegistry } from '../asl/registry/registry.js';
import type { Store } from '../core/store.js';
import { isWorkflow } from '../dsl/workflow.js';
import { Engine } from '../engine/engine.js';
import { openStore } from '../persistence/open.js';
import { consoleWarnLogger, type WarnLogger } from '../persistence/sqlite/checkpoint-schedule.js';
import { scheduleStoreFor } from '../persistence/schedule-store.js';
import { ScheduleRunner } from '../schedules/runner.js';
import { TriggerRunner } from '../triggers/runner.js';
import type { TriggerLogger } from '../triggers/trigger-engine.js';
import { openRegistryBeside, publishAslFile } from './asl-files.js';
import { logScheduleEvents, logTriggerEvents } from './event-logs.js';
import { loadModules, servedFrom, type Served } from './load-modules.js';
import { buildMetricsServer } from '../api/metrics-server.js';
import { combineObservers } from '../observability/combine.js';
import { Metrics } from '../observability/metrics.js';
import { Alerts } from '../observability/alerts.js';
import { stepLogObserver, type ChildLogger } from '../observability/step-log.js';
import { startOtelTracing } from '../observability/otel-setup.js';
import { Tracing } from '../observability/tracing.js';
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
  /** Fires the schedules (those the modules export, and those created through /v1/schedules); absent on a store that cannot hold them. */
  readonly schedules?: ScheduleRunner;
  /** Runs the queue triggers the modules export; absent when there are none. */
  readonly triggers?: TriggerRunner;
  /**
   * Stops taking work in (HTTP requests, queue messages, schedule slots), stops the engine
   * (running handlers get `graceMs`, then their work is handed back and resumes on the next
   * start), and closes the state machine registry and the store (unless the store was given
   * open). Tries every step even when one fails, then rejects with the first failure. Idempotent.
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

function storeLocation(db: string, cwd: string): string {
  return isFileDb(db) ? resolve(cwd, db) : db;
}

/** `logger`: where the store reports a fault it recovers from by itself (an SQLite store's failed WAL checkpoint). */
async function openConfiguredStore(db: string, cwd: string, logger: WarnLogger): Promise<Store> {
  const location = storeLocation(db, cwd);
  if (isFileDb(db)) {
    try {
      mkdirSync(dirname(location), { recursive: true });
    } catch (err) {
      throw new ServeError('STORE_UNAVAILABLE', `cannot create the directory for ${db}: ${message(err)}`);
    }
  }
  try {
    return await openStore(location, { sqlite: { logger } });
  } catch (err) {
    throw new ServeError('STORE_UNAVAILABLE', `cannot open the store ${redactDbUrl(db)}: ${message(err)}`);
  }
}


/** Where the given options' definitions come from, in messages. */
const OPTIONS_ORIGIN = 'the options';

/** The registry for the AWS protocol beside the store, or undefined when it is turned off. */
async function openRegistry(options: ServeOptions, store: Store, ownsStore: boolean, cwd: string): Promise<AslRegistry | undefined> {
  if (options.stepFunctions === false) return undefined;
  const location = ownsStore ? storeLocation(options.db ?? DEFAULT_DB, cwd) : options.db && storeLocation(options.db, cwd);
  let registry: AslRegistry | undefined;
  try {
    registry = await openRegistryBeside(store, location);
  } catch (err) {
    throw new ServeError('STORE_UNAVAILABLE', `cannot open the state machine registry beside ${redactDbUrl(location ?? store.kind)}: ${message(err)}`);
  }
  if (!registry && options.stepFunctions === true) {
    throw new ServeError('BAD_CONFIG', `stepFunctions needs somewhere to keep state machines: give the PostgreSQL store's URL as db, or set stepFunctions: false`);
  }
  return registry;
}

/** Refuses a trigger, webhook or schedule that starts a workflow nothing serves, naming where it was defined. */
function checkStartedWorkflows(served: Served, known: ReadonlySet<string>): void {
  const starters: Array<{ what: string; workflow: string; def: object }> = [
    ...served.triggers.map((t) => ({ what: `${t.kind} trigger '${t.name}'`, workflow: t.workflow, def: t })),
    ...served.hooks.map((h) => ({ what: `webhook '${h.name}'`, workflow: h.workflow, def: h })),
    ...served.schedules.map((s) => ({ what: `schedule '${s.id}'`, workflow: s.workflow, def: s })),
  ];
  for (const { what, workflow, def } of starters) {
    if (known.has(workflow)) continue;
    const where = served.origin.get(def) ?? OPTIONS_ORIGIN;
    throw new ServeError(
      where === OPTIONS_ORIGIN ? 'BAD_CONFIG' : 'BAD_MODULE',
      `${where}: ${what} starts workflow '${workflow}', which is not served (served: ${[...known].sort().join(', ') || 'none'})`,
    );
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
  const served = await loadModules(servedFrom(options, OPTIONS_ORIGIN), options.modules ?? [], cwd);
  if (served.workflows.length === 0 && Object.keys(served.handlers).length === 0) {
    throw new ServeError('USAGE', 'no workflows to serve: name workflow modules (stepwise serve ./workflows.ts), or set modules in stepwise.config.ts');
  }

  // The engine, the runners and the store log through the server's logger (pino), which exists
  // only once the server does; a store's line before then goes to the console, as it would unwired.
  const sink: { log?: FastifyBaseLogger } = {};
  const storeLogger: WarnLogger = { warn: (obj, msg) => (sink.log ?? consoleWarnLogger).warn(obj, msg) };
  const store = options.store ?? (await openConfiguredStore(options.db ?? DEFAULT_DB, cwd, storeLogger));
  const ownsStore = options.store === undefined;
  let registry: AslRegistry | undefined;
  let schedules: ScheduleRunner | undefined;
  try {
    registry = await openRegistry(options, store, ownsStore, cwd);
    if (registry) for (const file of served.aslFiles) await publishAslFile(registry, file);
    const known = new Set([...served.workflows.map((w) => w.name), ...(registry ? (await registry.list()).map((r) => r.name) : [])]);
    checkStartedWorkflows(served, known);
    if (served.schedules.length > 0 && !schedulesPossible(store)) {
      throw new ServeError('BAD_CONFIG', `schedules need an SQLite or PostgreSQL store, not '${store.kind}'`);
    }
  } catch (err) {
    await registry?.close().catch(() => undefined);
    if (ownsStore) await store.close().catch(() => undefined);
    throw err instanceof ServeError ? err : new ServeError('STORE_UNAVAILABLE', `cannot keep the served state machines: ${message(err)}`);
  }

  const logger: TriggerLogger = {
    info: (obj, msg) => sink.log?.info(obj, msg),
    warn: (obj, msg) => sink.log?.warn(obj, msg),
    error: (obj, msg) => sink.log?.error(obj, msg),
  };
  const metrics = new Metrics({ store });
  // Traces only when the OTEL_* variables ask for them: otherwise no SDK is loaded (docs/observability.md).
  let otel: Awaited<ReturnType<typeof startOtelTracing>>;
  try {
    otel = await startOtelTracing();
  } catch (err) {
    await registry?.close().catch(() => undefined);
    if (ownsStore) await store.close().catch(() => undefined);
    throw new ServeError('BAD_CONFIG', message(err));
  }
  const tracing = otel
    ? new Tracing({ store, idGenerator: otel.idGenerator, tracerProvider: otel.provider, log: { warn: (o, m) => sink.log?.warn(o, m) } })
    : undefined;
  const alerts = options.alerts
    ? new Alerts({ ...options.alerts, counter: { inc: (labels) => metrics.alerts.inc(labels) }, log: { warn: (o, m) => sink.log?.warn(o, m), error: (o, m) => sink.log?.error(o, m) } })
    : undefined;
  const engine = new Engine({
    store,
    ...options.engine,
    observer: combineObservers(metrics, alerts, stepLogObserver(() => sink.log as unknown as ChildLogger | undefined), tracing),
    logger,
  });
  const scheduleStore = schedulesPossible(store) ? scheduleStoreFor(store) : undefined;
  if (scheduleStore) schedules = new ScheduleRunner({ engine, store: scheduleStore, schedules: served.schedules, logger });
  const triggers = served.triggers.length > 0 ? new TriggerRunner({ engine, triggers: served.triggers, logger }) : undefined;
  const app = buildServer({
    engine,
    ...(token ? { token } : {}),
    ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
    ...(served.hooks.length > 0 ? { hooks: served.hooks } : {}),
    ...(schedules ? { schedules } : {}),
    ...(registry ? { stepFunctions: { registry, handlers: served.handlers } } : {}),
    startRateLimit: { ...DEFAULT_START_RATE_LIMIT, ...options.startRateLimit },
    logger: { level: options.logLevel ?? 'info' },
    ...(options.metricsPort === undefined ? { metrics } : {}),
    ...(options.prices !== undefined ? { prices: options.prices } : {}),
    ...(alerts ? { startGate: alerts } : {}),
  });
  // Every engine line (and every handler's ctx.log) names this process.
  sink.log = app.log.child({ worker: engine.workerId });
  if (schedules) logScheduleEvents(schedules, app.log);
  if (triggers) logTriggerEvents(triggers, app.log);
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
      // Nothing new comes in; what is being taken in settles while the engine still runs.
      await Promise.all([
        attempt('closing the HTTP server', () => app.close()),
        attempt('closing the metrics server', async () => metricsApp?.close()),
        attempt('stopping the queue triggers', async () => triggers?.stop()),
        attempt('stopping the schedules', async () => schedules?.stop()),
      ]);
      await attempt('stopping the engine', () => engine.stop({ graceMs: closeOptions.graceMs ?? 8000 }));
      await attempt('closing the state machine registry', async () => registry?.close());
      alerts?.close();
      if (tracing) await attempt('exporting the traces', async () => { await tracing.flush(); await otel?.shutdown(); });
      if (ownsStore) await attempt('closing the store', () => store.close());
      if (failures.length > 0) throw failures[0];
    })();
    return closing;
  };

  let url: string;
  let metricsUrl: string | undefined;
  try {
    engine.register(...served.workflows);
    // Today's spend of each daily budget, from the store, before this process commits anything.
    const partial = await alerts?.restore(engine);
    if (partial && partial.length > 0) app.log.warn({ workflows: partial }, 'daily budgets: spend counted from the newest executions only (too many to read)');
    await engine.start();
    await app.ready();
    // Ready registered the state machines the registry keeps (every revision); what the modules
    // and files name is registered again so that it stays the newest version of its name.
    engine.register(...served.workflows);
    await schedules?.start();
    await triggers?.start();
    url = await app.listen({ host, port: options.port ?? 3000 });
    if (metricsApp) metricsUrl = await metricsApp.listen({ host, port: options.metricsPort });
  } catch (err) {
    const code = (err as { code?: string }).code;
    await close({ graceMs: 0 }).catch(() => undefined);
    if (err instanceof ServeError) throw err;
    throw new ServeError(code === 'EADDRINUSE' ? 'ADDRESS_IN_USE' : 'STARTUP_FAILED', message(err));
  }
  return { url, ...(metricsUrl ? { metricsUrl } : {}), engine, store, app, metrics, ...(schedules ? { schedules } : {}), ...(triggers ? { triggers } : {}), close };
}

/** Schedules live in the store's own database: SQLite or PostgreSQL (another Store has nowhere to keep them). */
function schedulesPossible(store: Store): boolean {
  const open = (store as Store & { connection?: unknown }).connection;
  return (store.kind === 'sqlite' || store.kind === 'postgres') && open !== undefined;
}
