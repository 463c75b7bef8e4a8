/**
 * `stepwise serve` as a user meets it: the compiled CLI serving a TypeScript module (through tsx,
 * built with the package's sources: two copies of Stepwise) that exports a workflow, a webhook,
 * a schedule every second and a NATS trigger (against the real server, on a stream and subject
 * of the test's own). A signed delivery, the schedule's slots and a published message each start
 * an execution; then SIGTERM ends the process cleanly. And an `.asl.json` file served with the
 * handlers another module exports, run through @aws-sdk/client-sfn and /v1.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeStateMachineCommand, ListStateMachinesCommand, SFNClient, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt, spawnServe, waitExit } from '../cli/cli-helpers.js';
import { NATS_URL, eventually, natsAvailable, uniqueName } from '../fixtures/brokers.js';

const SRC_INDEX = JSON.stringify(join(ROOT, 'src/index.js'));
const HOOK_SECRET = 'a-webhook-secret-for-the-serve-test';
const natsUp = await natsAvailable();

/** The user's module. The NATS trigger is exported only when the test gives it a stream. */
const MODULE = `import { natsTrigger, schedule, webhook, workflow } from ${SRC_INDEX};

export const echo = workflow('echo').task('note', async (input: unknown) => ({ got: input })).build();

export const inbox = webhook({ name: 'inbox', workflow: 'echo', secret: process.env.TEST_HOOK_SECRET!, deliveryId: { header: 'x-delivery-id' } });

export const ticks = [schedule({ id: 'tick', cron: '* * * * * *', workflow: 'echo', input: { tick: true } })];

export const triggers = process.env.TEST_NATS_STREAM
  ? [natsTrigger({
      name: 'orders', workflow: 'echo', servers: process.env.TEST_NATS_URL!,
      stream: process.env.TEST_NATS_STREAM, subject: process.env.TEST_NATS_SUBJECT!, createStream: true,
      executionId: { field: 'orderId' },
    })]
  : [];
`;

interface Execution {
  id: string;
  workflow: string;
  status: string;
  input?: unknown;
  output?: unknown;
}

let tmp: string;
beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'stepwise-serve-wired-'));
}, 240_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as T };
}

async function executions(url: string): Promise<Execution[]> {
  return (await json<{ items: Execution[] }>(`${url}/v1/executions?limit=500`)).body.items;
}

async function execution(url: string, id: string): Promise<Execution | undefined> {
  const res = await fetch(`${url}/v1/executions/${encodeURIComponent(id)}`);
  return res.status === 200 ? ((await res.json()) as Execution) : undefined;
}

describe('stepwise serve: a module exporting a workflow, a webhook, a schedule and a NATS trigger', () => {
  let server: Awaited<ReturnType<typeof spawnServe>>;
  let nc: NatsConnection | undefined;
  const stream = uniqueName('SERVE').replace(/-/g, '_').toUpperCase();
  const subject = `${stream.toLowerCase()}.orders`;

  beforeAll(async () => {
    writeFileSync(join(tmp, 'starts.ts'), MODULE);
    server = await spawnServe(
      {
        PORT: '0', STEPWISE_DB: join(tmp, 'starts.db'), TEST_HOOK_SECRET: HOOK_SECRET,
        ...(natsUp ? { TEST_NATS_URL: NATS_URL, TEST_NATS_STREAM: stream, TEST_NATS_SUBJECT: subject } : {}),
      },
      ['starts.ts'],
      tmp,
    );
  }, 60_000);

  afterAll(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await waitExit(server.child);
    }
    if (nc) {
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
      await nc.close();
    }
  });

  it('starts the workflow from a signed webhook delivery, and refuses an unsigned one', async () => {
    const body = JSON.stringify({ order: 'w-1' });
    const signature = `sha256=${createHmac('sha256', HOOK_SECRET).update(body).digest('hex')}`;
    const deliver = (headers: Record<string, string>) =>
      json<{ id: string; error?: { code: string } }>(`${server.url}/v1/hooks/inbox`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

    const unsigned = await deliver({ 'x-delivery-id': 'd-0' });
    expect(unsigned.status).toBe(401);
    const first = await deliver({ 'x-hub-signature-256': signature, 'x-delivery-id': 'd-1' });
    expect(first).toMatchObject({ status: 201, body: { id: 'hook.inbox:d-1' } });
    const again = await deliver({ 'x-hub-signature-256': signature, 'x-delivery-id': 'd-1' });
    expect(again).toMatchObject({ status: 200, body: { id: 'hook.inbox:d-1' } });

    const done = await eventually('the delivery to finish', async () => {
      const e = await execution(server.url, 'hook.inbox:d-1');
      return e?.status === 'SUCCEEDED' ? e : undefined;
    }, 30_000);
    expect(done).toMatchObject({ workflow: 'echo', output: { got: { order: 'w-1' } } });
  }, 60_000);

  it("fires the schedule's slots, each an execution named <id>@<ISO slot time>", async () => {
    const slots = await eventually('two slot executions to succeed', async () => {
      const ticked = (await executions(server.url)).filter((e) => e.id.startsWith('tick@') && e.status === 'SUCCEEDED');
      return ticked.length >= 2 ? ticked : undefined;
    }, 30_000);
    for (const slot of slots) {
      const at = slot.id.slice('tick@'.length);
      expect(at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      expect(new Date(at).toISOString()).toBe(at);
      expect(slot.workflow).toBe('echo');
    }
    expect((await execution(server.url, slots[0]!.id))?.output).toEqual({ got: { tick: true } });
  }, 60_000);

  it('lists the schedule under /v1/schedules with its counters', async () => {
    const { status, body } = await json<{ items: Array<{ id: string; cron: string; workflow: string; counts: { fired: number }; nextFireAt?: string }> }>(`${server.url}/v1/schedules`);
    expect(status).toBe(200);
    expect(body.items).toEqual([expect.objectContaining({ id: 'tick', cron: '* * * * * *', workflow: 'echo', nextFireAt: expect.any(String) })]);
    expect(body.items[0]!.counts.fired).toBeGreaterThanOrEqual(2);
  });

  it.skipIf(!natsUp)('starts the workflow for a message published on the NATS subject', async () => {
    nc = await connect({ servers: NATS_URL });
    const js = jetstream(nc);
    // The trigger creates the stream when it connects, in the background: publish once it is there.
    const jsm = await jetstreamManager(nc);
    await eventually('the trigger to create its stream', () => jsm.streams.info(stream).then(() => true), 30_000);
    await js.publish(subject, JSON.stringify({ orderId: 'n-1', total: 12 }));
    const done = await eventually('the message to start an execution that succeeds', async () => {
      const e = await execution(server.url, 'nats.orders:n-1');
      return e?.status === 'SUCCEEDED' ? e : undefined;
    }, 30_000);
    expect(done).toMatchObject({ workflow: 'echo', output: { got: { orderId: 'n-1', total: 12 } } });
  }, 60_000);

  it('ends cleanly on SIGTERM: exit code 0', async () => {
    server.child.kill('SIGTERM');
    const exit = await waitExit(server.child);
    expect(exit.code, server.output()).toBe(0);
    expect(server.output()).not.toMatch(/"level":(50|60)/); // no error or fatal line in the whole run
  }, 20_000);
});

describe('stepwise serve: an .asl.json file with the handlers a module exports', () => {
  const DEFINITION = {
    Comment: 'Charge, then say so',
    StartAt: 'Charge',
    States: {
      Charge: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:charge', ResultPath: '$.charge', Next: 'Done' },
      Done: { Type: 'Pass', Parameters: { 'orderId.$': '$.orderId', 'charged.$': '$.charge.amount' }, End: true },
    },
  };
  const HANDLERS = `export const handlers = {
  charge: async (input: { orderId: string; amount: number }) => ({ amount: input.amount * 100 }),
};
`;

  it('serves the state machine named after the file through the AWS protocol and /v1', async () => {
    const dir = mkdtempSync(join(tmp, 'asl-'));
    writeFileSync(join(dir, 'orders.asl.json'), JSON.stringify(DEFINITION, null, 2));
    writeFileSync(join(dir, 'handlers.ts'), HANDLERS);
    const server = await spawnServe({ PORT: '0', STEPWISE_DB: join(dir, 'data', 'stepwise.db') }, ['handlers.ts', 'orders.asl.json'], dir);
    const sfn = new SFNClient({
      endpoint: server.url, region: 'us-east-1', disableHostPrefix: true, maxAttempts: 1,
      credentials: { accessKeyId: 'local', secretAccessKey: 'unused' },
    });
    try {
      const listed = await sfn.send(new ListStateMachinesCommand({}));
      expect(listed.stateMachines?.map((m) => m.name)).toEqual(['orders']);
      const arn = listed.stateMachines![0]!.stateMachineArn!;
      const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
      expect(JSON.parse(described.definition!)).toEqual(DEFINITION);

      const run = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: arn, name: 'o-1', input: JSON.stringify({ orderId: 'o-1', amount: 3 }) }));
      expect(run.status).toBe('SUCCEEDED');
      expect(JSON.parse(run.output!)).toEqual({ orderId: 'o-1', charged: 300 });

      const started = await json<{ id: string }>(`${server.url}/v1/workflows/orders/executions`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'o-2', input: { orderId: 'o-2', amount: 1 } }),
      });
      expect(started.status).toBe(201);
      const done = await eventually('the /v1 start to finish', async () => {
        const e = await execution(server.url, 'o-2');
        return e?.status === 'SUCCEEDED' ? e : undefined;
      }, 30_000);
      expect(done).toMatchObject({ workflow: 'orders', output: { orderId: 'o-2', charged: 100 } });
    } finally {
      sfn.destroy();
      server.child.kill('SIGTERM');
      expect((await waitExit(server.child)).code, server.output()).toBe(0);
    }
  }, 60_000);
});

describe('npm start: the checkout module with no broker variables', () => {
  it('serves the workflows, the abandoned-carts schedule, and the webhook once its secret is set', async () => {
    const dir = mkdtempSync(join(tmp, 'checkout-'));
    const server = await spawnServe({ PORT: '0', STEPWISE_DB: join(dir, 'stepwise.db'), STEPWISE_HOOK_SECRET: HOOK_SECRET });
    try {
      const workflows = (await json<{ workflows: Array<{ name: string }> }>(`${server.url}/v1/workflows`)).body.workflows.map((w) => w.name);
      expect(workflows.sort()).toEqual(['abandoned-carts', 'checkout', 'shipping']);
      const schedules = (await json<{ items: Array<{ id: string; cron: string; workflow: string }> }>(`${server.url}/v1/schedules`)).body.items;
      expect(schedules).toEqual([expect.objectContaining({ id: 'abandoned-carts', cron: '* * * * *', workflow: 'abandoned-carts' })]);

      const body = JSON.stringify({ orderId: 'o-1', customer: { id: 'c-1', email: 'ada@example.com' }, items: [{ sku: 'book', qty: 1, price: 12.5 }] });
      const signature = `sha256=${createHmac('sha256', HOOK_SECRET).update(body).digest('hex')}`;
      const delivered = await json<{ id: string }>(`${server.url}/v1/hooks/checkout`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature, 'x-delivery-id': 'd-1' }, body,
      });
      expect(delivered).toMatchObject({ status: 201, body: { id: 'hook.checkout:d-1' } });
      const done = await eventually('the checkout to succeed', async () => {
        const e = await execution(server.url, 'hook.checkout:d-1');
        return e?.status === 'SUCCEEDED' ? e : undefined;
      }, 30_000);
      expect(done.output).toMatchObject({ amount: 12.5 });
    } finally {
      server.child.kill('SIGTERM');
      expect((await waitExit(server.child)).code, server.output()).toBe(0);
    }
    expect(server.output()).not.toMatch(/"level":(40|50|60)/); // not a warning, let alone an error
  }, 60_000);
});
