/**
 * What `serve()` runs besides workflows, given in its options (as a config file gives them) or
 * exported by modules: schedules, the AWS Step Functions protocol (on by default, off with
 * `stepFunctions: false`), ASL handlers; and how a definition that cannot run is refused before
 * anything listens, naming where it was defined.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServeError, natsTrigger, schedule, serve, workflow, type StepwiseServer } from '../../src/index.js';
import { ROOT } from '../cli/cli-helpers.js';
import { eventually } from '../fixtures/brokers.js';

const echo = workflow('echo').task('note', async (input: unknown) => ({ got: input })).build();
const QUIET = { logLevel: 'silent', port: 0, db: ':memory:' } as const;
const SRC_INDEX = JSON.stringify(join(ROOT, 'src/index.ts'));

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'stepwise-serve-defs-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function module(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

async function refused(promise: Promise<StepwiseServer>, code: string): Promise<string> {
  const error = await promise.then(
    async (server) => {
      await server.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error, 'serve() should have refused').toBeInstanceOf(ServeError);
  expect((error as ServeError).code).toBe(code);
  return (error as ServeError).message;
}

const awsCall = (url: string, operation: string, body: unknown) =>
  fetch(`${url}/`, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AWSStepFunctions.${operation}` }, body: JSON.stringify(body) });

describe('serve() options beyond workflows', () => {
  it('keeps the schedules it is given and serves them at /v1/schedules', async () => {
    const every = schedule({ id: 'every-second', cron: '* * * * * *', workflow: 'echo', input: { n: 1 } });
    const server = await serve({ ...QUIET, workflows: [echo], schedules: [every] });
    try {
      const fired = await eventually('a slot to be started', async () => {
        const page = await server.engine.listExecutions({ workflow: 'echo', limit: 50 });
        return page.items.find((e) => e.id.startsWith('every-second@'));
      }, 15_000);
      expect(fired.id).toMatch(/^every-second@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      const listed = (await (await fetch(`${server.url}/v1/schedules`)).json()) as { items: Array<{ id: string }> };
      expect(listed.items.map((s) => s.id)).toEqual(['every-second']);
      expect(server.schedules).toBeDefined();
      expect(server.triggers).toBeUndefined();
    } finally {
      await server.close();
    }
  }, 30_000);

  it('serves the AWS protocol by default with the handlers given, and not with stepFunctions: false', async () => {
    const definition = JSON.stringify({ StartAt: 'Double', States: { Double: { Type: 'Task', Resource: 'double', End: true } } });
    const server = await serve({ ...QUIET, workflows: [echo], handlers: { double: async (n: unknown) => Number(n) * 2 } });
    try {
      const created = await awsCall(server.url, 'CreateStateMachine', { name: 'doubler', definition, roleArn: 'arn:aws:iam::1:role/x' });
      expect(created.status).toBe(200);
      const run = await awsCall(server.url, 'StartSyncExecution', { stateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:doubler', input: '21' });
      expect(await run.json()).toMatchObject({ status: 'SUCCEEDED', output: '42' });
      // The page still answers GET / beside it.
      expect((await fetch(`${server.url}/`)).headers.get('content-type')).toMatch(/text\/html/);
    } finally {
      await server.close();
    }
    const off = await serve({ ...QUIET, workflows: [echo], stepFunctions: false });
    try {
      const res = await awsCall(off.url, 'ListStateMachines', {});
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
    } finally {
      await off.close();
    }
  });

  it('refuses a trigger, webhook or schedule that starts a workflow nothing serves, naming where it is defined', async () => {
    const lost = schedule({ id: 'lost', cron: '@hourly', workflow: 'nowhere' });
    expect(await refused(serve({ ...QUIET, workflows: [echo], schedules: [lost] }), 'BAD_CONFIG')).toBe(
      "the options: schedule 'lost' starts workflow 'nowhere', which is not served (served: echo)",
    );
    const trigger = natsTrigger({ name: 'orders', workflow: 'nowhere', servers: 'nats://127.0.0.1:1', stream: 'S', subject: 's.in' });
    expect(await refused(serve({ ...QUIET, workflows: [echo], triggers: [trigger] }), 'BAD_CONFIG')).toContain("nats trigger 'orders' starts workflow 'nowhere'");
    const path = module('lost-hook.ts', `import { webhook, workflow } from ${SRC_INDEX};
export const w = workflow('w').pass('p').build();
export const hook = webhook({ name: 'h', workflow: 'missing', secret: 'a-secret-of-enough-length' });
`);
    expect(await refused(serve({ ...QUIET, modules: [path] }), 'BAD_MODULE')).toMatch(/lost-hook\.ts: webhook 'h' starts workflow 'missing', which is not served/);
  }, 30_000);

  it('refuses two definitions under one name across modules, and options of the wrong kind', async () => {
    const a = module('sched-a.ts', `import { schedule, workflow } from ${SRC_INDEX};
export const w = workflow('w').pass('p').build();
export const s = schedule({ id: 'dup', cron: '@hourly', workflow: 'w' });
`);
    const b = module('sched-b.ts', `import { schedule } from ${SRC_INDEX};
export default [schedule({ id: 'dup', cron: '@daily', workflow: 'w' })];
`);
    expect(await refused(serve({ ...QUIET, modules: [a, b] }), 'BAD_MODULE')).toMatch(/sched-b\.ts: schedule 'dup' is also defined by .*sched-a\.ts/);
    expect(await refused(serve({ ...QUIET, workflows: [echo], schedules: [{ id: 'x' }] } as never), 'BAD_CONFIG')).toContain('schedules[0] is not one of schedule() definitions');
    expect(await refused(serve({ ...QUIET, workflows: [echo], handlers: { a: 1 } } as never), 'BAD_CONFIG')).toContain('handlers must be an object of handler functions');
    const badHandlers = module('bad-handlers.mjs', 'export const handlers = { charge: 42 };');
    expect(await refused(serve({ ...QUIET, modules: [badHandlers] }), 'BAD_MODULE')).toContain("the 'handlers' export must be an object of handler functions");
  }, 30_000);

  it('names the file and the missing handler when an ASL file calls one no module exports', async () => {
    const file = module('pay.asl.json', JSON.stringify({ StartAt: 'Charge', States: { Charge: { Type: 'Task', Resource: 'charge', End: true } } }));
    const message = await refused(serve({ ...QUIET, modules: [file] }), 'BAD_MODULE');
    expect(message).toContain("pay.asl.json: state 'Charge', field 'Resource': no handler is registered as 'charge'");
    expect(message).toContain('export const handlers');
    const handlers = module('pay-handlers.mjs', 'export const handlers = { charge: async () => ({ ok: true }) };');
    const server = await serve({ ...QUIET, modules: [handlers, file] });
    try {
      const started = await server.engine.startExecution('pay', {}, { id: 'p-1' });
      expect(started.created).toBe(true);
      expect(await server.engine.waitForEnd('p-1', 10_000)).toMatchObject({ status: 'SUCCEEDED', output: { ok: true } });
    } finally {
      await server.close();
    }
  }, 30_000);
});
