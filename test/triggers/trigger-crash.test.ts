/**
 * SIGKILL of the engine process mid-stream, against the real brokers: a child process runs an
 * engine on an SQLite file and one trigger; K messages wait on the broker; the first run is
 * killed right after a commit (starts durable, their messages not acknowledged), the second right
 * before one (nothing of that batch written), the third runs until the broker has nothing left
 * to deliver. Then every message must have given exactly one execution, and each one runs to its
 * end. Runs the compiled worker (dist/test/fixtures/trigger-worker.js): `npm run build` first
 * (npm test does it).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Connection } from 'rabbitmq-client';
import { describe, expect, it } from 'vitest';
import { Engine, SqliteStore } from '../../src/index.js';
import { AMQP_URL, NATS_URL, amqpAvailable, eventually, natsAvailable, uniqueName } from '../fixtures/brokers.js';
import { ChildLines, type Exit } from '../fixtures/child-lines.js';
import { repoRoot } from '../fixtures/paths.js';
import { ticket } from '../fixtures/trigger-workflows.js';

const natsUp = await natsAvailable();
const amqpUp = await amqpAvailable();
const K = 30;

function workerScript(): string {
  const path = join(repoRoot(), 'dist', 'test', 'fixtures', 'trigger-worker.js');
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first (npm test does it)`);
  return path;
}

class TriggerWorker extends ChildLines {
  constructor(db: string, triggerFile: string, crashAt?: string) {
    const args = [workerScript(), '--db', db, '--trigger', triggerFile, ...(crashAt ? ['--crash-at', crashAt] : [])];
    super(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** Execution ids this run reported as started and acknowledged. */
  started(): string[] {
    return this.lines.filter((l) => l.startsWith('STARTED ')).map((l) => l.split(' ')[1]!);
  }
}

/** Runs the three processes and returns every execution the file holds, each run to its end. */
async function crashAndRecover(kind: 'nats' | 'amqp', options: Record<string, unknown>, drained: (runs: TriggerWorker[]) => Promise<boolean>) {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-trigger-crash-'));
  try {
    const db = join(dir, 'stepwise.db');
    const triggerFile = join(dir, 'trigger.json');
    writeFileSync(triggerFile, JSON.stringify({ kind, options }));
    const runs: TriggerWorker[] = [];

    for (const crashAt of ['after-commit:3', 'before-commit:3']) {
      const run = new TriggerWorker(db, triggerFile, crashAt);
      runs.push(run);
      const exit: Exit = await Promise.race([run.exited, new Promise<Exit>((_, reject) => setTimeout(() => reject(new Error(`run never reached ${crashAt}: ${run.stderr}`)), 30_000))]);
      expect(exit.signal, run.stderr).toBe('SIGKILL');
      expect(run.lines).toContain(`FAULT ${crashAt.replace(':', ' ')}`);
    }
    const last = new TriggerWorker(db, triggerFile);
    runs.push(last);
    await eventually('the broker to have delivered everything', () => drained(runs), 60_000);
    last.child.kill('SIGTERM');
    expect(await last.exited, last.stderr).toEqual({ code: 0, signal: null });
    // No process ever created an execution another had created (a redelivery finds it instead).
    const created = runs.flatMap((r) => r.lines.filter((l) => /^STARTED \S+ true$/.test(l)));
    expect(new Set(created).size).toBe(created.length);

    const store = await SqliteStore.open(db);
    const engine = new Engine({ store });
    engine.register(ticket);
    await engine.start();
    try {
      const executions = (await engine.listExecutions({ limit: 500 })).items;
      const ended = await Promise.all(executions.map((e) => engine.waitForEnd(e.id, 20_000)));
      return { executions: ended, runs };
    } finally {
      await engine.stop({ graceMs: 1000 });
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('a trigger whose engine process is SIGKILLed mid-stream', () => {
  it.skipIf(!natsUp)('NATS: every message gives exactly one execution', async () => {
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    const stream = uniqueName('CRASH').replace(/-/g, '_');
    const subject = `${stream.toLowerCase()}.in`;
    await jsm.streams.add({ name: stream, subjects: [subject] });
    try {
      const js = jetstream(nc);
      // Half with a Nats-Msg-Id, half keyed by their stream sequence.
      for (let i = 0; i < K; i++) await js.publish(subject, JSON.stringify({ i }), i % 2 === 0 ? { msgID: `c-${i}` } : {});
      const { executions } = await crashAndRecover(
        'nats',
        { name: 'crash', workflow: 'ticket', servers: NATS_URL, stream, subject, ackWaitMs: 1500, batchSize: 5 },
        async () => {
          const info = await jsm.consumers.info(stream, 'stepwise-crash');
          return info.num_pending === 0 && info.num_ack_pending === 0;
        },
      );
      expect(executions).toHaveLength(K);
      expect(executions.map((e) => (e.input as { i: number }).i).sort((a, b) => a - b)).toEqual([...Array(K).keys()]);
      for (const e of executions) {
        expect(e.status).toBe('SUCCEEDED');
        const i = (e.input as { i: number }).i;
        if (i % 2 === 0) expect(e.id).toBe(`nats.crash:c-${i}`);
      }
    } finally {
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    }
  }, 120_000);

  it.skipIf(!amqpUp)('RabbitMQ: every message gives exactly one execution', async () => {
    const rabbit = new Connection({ url: AMQP_URL });
    rabbit.on('error', () => undefined);
    const channel = await rabbit.acquire();
    const publisher = rabbit.createPublisher({ confirm: true });
    const queue = uniqueName('sw-crash');
    await channel.queueDeclare({ queue, durable: true });
    try {
      for (let i = 0; i < K; i++) await publisher.send({ routingKey: queue, durable: true, messageId: `c-${i}` }, { i });
      const expected = [...Array(K).keys()].map((i) => `amqp.crash:c-${i}`).sort();
      const { executions } = await crashAndRecover(
        'amqp',
        { name: 'crash', workflow: 'ticket', url: AMQP_URL, queue, concurrency: 5 },
        // A start is reported just before its ack is sent, and the last run's clean stop sends it.
        async (runs) => new Set(runs.flatMap((r) => r.started())).size === K,
      );
      expect(executions.map((e) => e.id).sort()).toEqual(expected);
      for (const e of executions) {
        expect(e.status).toBe('SUCCEEDED');
        expect(e.input).toEqual({ i: Number(e.id.split('-').pop()) });
      }
      expect((await channel.queueDeclare({ queue, passive: true })).messageCount).toBe(0);
    } finally {
      await channel.queueDelete({ queue }).catch(() => undefined);
      await channel.queueDelete({ queue: `${queue}.dead-letter` }).catch(() => undefined);
      await publisher.close();
      await channel.close();
      await rabbit.close();
    }
  }, 120_000);
});
