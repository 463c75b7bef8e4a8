/**
 * Processes serving different module sets on one PostgreSQL database each run only what they
 * have. Two `stepwise serve` processes with a module each: each starts and runs its own
 * workflows, and reads the other's executions. Then, in this process on a virtual clock, work of a
 * workflow a process does not have (not another version: the whole name) is handed back when it
 * claims it, and finishes on a process that has it, as after a deploy that dropped it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, VirtualClock, openStore, workflow, type HistoryEvent, type Store } from '../../src/index.js';
import { ROOT, ensureBuilt, spawnServe, waitExit } from '../cli/cli-helpers.js';
import { PG_URL, dropSchema, pgAvailable, throwawaySchema } from '../store/pg-helpers.js';

const available = await pgAvailable();

function workerOf(events: HistoryEvent[]): string[] {
  return [...new Set(events.filter((e) => e.type === 'StepStarted').map((e) => String((e.data as { worker?: unknown } | undefined)?.worker)))];
}

const moduleText = (name: string) => `import { workflow } from ${JSON.stringify(join(ROOT, 'src/index.js'))};
export const ${name} = workflow('${name}').task('one', async () => '${name}-1').task('two', async (x: string) => x + '-2').build();
`;

describe.skipIf(!available)('two serve processes, two module sets, one PostgreSQL', () => {
  const schema = throwawaySchema('sw_sets');
  let tmp: string;
  beforeAll(async () => {
    await ensureBuilt();
    tmp = mkdtempSync(join(tmpdir(), 'stepwise-sets-'));
    writeFileSync(join(tmp, 'alpha.ts'), moduleText('alpha'));
    writeFileSync(join(tmp, 'beta.ts'), moduleText('beta'));
  }, 240_000);
  afterAll(async () => {
    rmSync(tmp, { recursive: true, force: true });
    await dropSchema(schema);
  });

  it('each starts and runs its own workflows, and reads the other', async () => {
    const env = (worker: string) => ({ PORT: '0', STEPWISE_DB: PG_URL, STEPWISE_PG_SCHEMA: schema, STEPWISE_WORKER_ID: worker, STEPWISE_POLL_MS: '200' });
    const a = await spawnServe(env('proc-a'), ['alpha.ts'], tmp);
    const b = await spawnServe(env('proc-b'), ['beta.ts'], tmp);
    try {
      const start = (url: string, name: string, id: string) =>
        fetch(`${url}/v1/workflows/${name}/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, input: {} }) });
      const names = async (url: string) => ((await (await fetch(`${url}/v1/workflows`)).json()) as { workflows: Array<{ name: string }> }).workflows.map((w) => w.name);
      expect(await names(a.url)).toEqual(['alpha']);
      expect(await names(b.url)).toEqual(['beta']);
      expect((await start(b.url, 'alpha', 'nope')).status).toBe(404);

      for (let i = 0; i < 5; i++) {
        expect((await start(a.url, 'alpha', `a-${i}`)).status).toBe(201);
        expect((await start(b.url, 'beta', `b-${i}`)).status).toBe(201);
      }
      const ended = async (url: string, id: string) => {
        for (let tries = 0; tries < 200; tries++) {
          const execution = (await (await fetch(`${url}/v1/executions/${id}`)).json()) as { status: string; output?: unknown };
          if (execution.status !== 'RUNNING') return execution;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`${id} still RUNNING`);
      };
      for (let i = 0; i < 5; i++) {
        // Read through the other process: the database is shared, reads need no definition.
        expect(await ended(b.url, `a-${i}`)).toMatchObject({ status: 'SUCCEEDED', output: 'alpha-1-2' });
        expect(await ended(a.url, `b-${i}`)).toMatchObject({ status: 'SUCCEEDED', output: 'beta-1-2' });
        const history = async (id: string) => ((await (await fetch(`${a.url}/v1/executions/${id}/history`)).json()) as { events: HistoryEvent[] }).events;
        expect(workerOf(await history(`a-${i}`))).toEqual(['proc-a']);
        expect(workerOf(await history(`b-${i}`))).toEqual(['proc-b']);
      }
    } finally {
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      expect((await waitExit(a.child)).code, a.output()).toBe(0);
      expect((await waitExit(b.child)).code, b.output()).toBe(0);
    }
  }, 60_000);
});

describe.skipIf(!available)('work of a workflow this process does not have', () => {
  const schema = throwawaySchema('sw_sets');
  const stores: Store[] = [];
  const engines: Engine[] = [];
  afterAll(async () => {
    for (const e of engines) await e.stop({ graceMs: 0 });
    for (const s of stores) await s.close();
    await dropSchema(schema);
  });

  const alpha = workflow('alpha').task('one', async () => 'a').wait('pause', { durationMs: 1000 }).task('two', async (x: string) => `${x}2`).build();
  const beta = workflow('beta').task('one', async () => 'b').build();

  async function engine(workerId: string, clock: VirtualClock, ...workflows: Array<typeof alpha>): Promise<Engine> {
    const store = await openStore(PG_URL, { postgres: { schema } });
    stores.push(store);
    const e = new Engine({ store, clock, workerId, pollIntervalMs: 100 }).register(...workflows);
    engines.push(e);
    await e.start();
    return e;
  }

  it('is handed back unrun, and finishes on a process that has the workflow', async () => {
    const clock = new VirtualClock();
    const a = await engine('old-a', clock, alpha);
    const b = await engine('only-b', clock, beta);
    const { execution } = await a.startExecution('alpha', {});
    await a.idle();
    // alpha now waits on its timer; the only process that has alpha goes away (a deploy).
    await a.stop({ graceMs: 0 });

    await clock.advance(1000);
    // b claims the due timer, finds no alpha here, and hands the row back due later (its commit
    // runs in the background: wait for it to show).
    let timer: Awaited<ReturnType<Store['listWork']>>[number] | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
      await b.idle();
      [timer] = await stores[1]!.listWork(execution.id);
      if (timer && timer.dueAt > clock.now()) break;
    }
    expect(timer).toMatchObject({ kind: 'timer' });
    expect(timer!.dueAt).toBeGreaterThan(clock.now());
    expect((await b.getHistory(execution.id, { limit: 100 })).events.map((e) => e.type)).not.toContain('TimerFired');
    expect((await b.getExecution(execution.id)).status).toBe('RUNNING');

    // A process with alpha comes back; the timer, due again, runs there. (b stops first: with
    // both polling at the same virtual instant, b could claim the row again and push it back.)
    await b.stop({ graceMs: 0 });
    const a2 = await engine('new-a', clock, alpha);
    await a2.idle(); // its first look for work is over before time moves
    await clock.advance(timer!.dueAt - clock.now());
    await a2.idle();
    const done = await a2.waitForEnd(execution.id, 10_000);
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: 'a2' });
    const events = (await a2.getHistory(execution.id, { limit: 100 })).events;
    expect(workerOf(events)).toEqual(['old-a', 'new-a']);
    expect(events.filter((e) => e.type === 'TimerFired')).toHaveLength(1);
  }, 30_000);
});
