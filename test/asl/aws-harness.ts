/** A real engine behind buildServer({ stepFunctions }), listening on a port for @aws-sdk/client-sfn. */
import { SFNClient } from '@aws-sdk/client-sfn';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server.js';
import { MemoryAslRegistry, type AslRegistry } from '../../src/asl/registry/registry.js';
import { Engine, openStore, type Store } from '../../src/index.js';
import type { AslHandlers } from '../../src/asl/resources.js';

export interface AwsHarness {
  app: FastifyInstance;
  engine: Engine;
  store: Store;
  registry: AslRegistry;
  port: number;
  client(options?: { accessKeyId?: string }): SFNClient;
  close(): Promise<void>;
}

export async function startAwsHarness(options: { handlers?: AslHandlers; token?: string; registry?: AslRegistry; store?: Store; activityPollMs?: number } = {}): Promise<AwsHarness> {
  const store = options.store ?? (await openStore(':memory:'));
  const engine = new Engine({ store, pollIntervalMs: 50 });
  await engine.start();
  const registry = options.registry ?? new MemoryAslRegistry();
  const app = buildServer({ engine, page: false, ...(options.token ? { token: options.token } : {}), stepFunctions: { registry, handlers: options.handlers ?? {}, ...(options.activityPollMs !== undefined ? { activityPollMs: options.activityPollMs } : {}) } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const clients: SFNClient[] = [];
  return {
    app, engine, store, registry, port,
    client(opts = {}) {
      const c = new SFNClient({
        endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', disableHostPrefix: true, maxAttempts: 1,
        credentials: { accessKeyId: opts.accessKeyId ?? 'dummy', secretAccessKey: 'dummy' },
      });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.destroy();
      await app.close();
      await engine.stop({ graceMs: 2000 });
      await registry.close();
      if (!options.store) await store.close();
    },
  };
}
