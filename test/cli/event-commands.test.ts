import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server.js';
import { main } from '../../src/cli/main.js';
import { Engine, openStore, TerminalError, workflow, type Store } from '../../src/index.js';

let open = false;
const waiting = workflow('waiting').waitForEvent('review', { event: 'review', resultPath: 'review' }).succeed('done').build();
const keyed = workflow<{ order: string }>('keyed')
  .waitForEvent('paid', { event: 'payment', key: (d: { order: string }) => d.order, resultPath: 'payment' }).succeed('done').build();
const held = workflow('heldShip')
  .task('ship', async () => { if (!open) throw new TerminalError('Shipping.Unavailable'); return 'shipped'; }, { catch: [{ errors: ['*'], next: 'hold' }] })
  .succeed('done')
  .fail('hold', { error: 'Shipping.Unavailable', compensate: false })
  .build();

let app: FastifyInstance;
let engine: Engine;
let store: Store;
let url: string;
beforeEach(async () => {
  open = false;
  store = await openStore(':memory:');
  engine = new Engine({ store, pollIntervalMs: 50 }).register(waiting, held, keyed);
  await engine.start();
  app = buildServer({ engine });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterEach(async () => {
  await app.close();
  await engine.stop({ graceMs: 1000 });
  await store.close();
});

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...args, '--url', url], { out: (t) => out.push(t), err: (t) => err.push(t), env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('stepwise send and redrive', () => {
  it('send delivers the payload; the same --event-id again reports created: false', async () => {
    const { execution } = await engine.startExecution('waiting', {});
    const sent = await cli(['send', execution.id, 'review', '--payload', '{"approved":true}', '--event-id', 'e1']);
    expect(sent.code, sent.err).toBe(0);
    expect(JSON.parse(sent.out)).toMatchObject({ id: 'e1', created: true });
    expect((await engine.waitForEnd(execution.id, 10_000)).output).toEqual({ review: { approved: true } });
    const ended = await cli(['send', execution.id, 'review', '--payload', '{}']);
    expect(ended.code).toBe(4);
  });

  it('send refuses a payload that is not JSON (exit 2) and an unknown execution (exit 3)', async () => {
    expect((await cli(['send', 'x', 'review', '--payload', '{nope'])).code).toBe(2);
    expect((await cli(['send', 'missing', 'review'])).code).toBe(3);
  });

  it('redrive resumes a held failure (exit 0), then refuses a succeeded execution (exit 4)', async () => {
    const { execution } = await engine.startExecution('heldShip', {});
    expect((await engine.waitForEnd(execution.id, 10_000)).status).toBe('FAILED');
    open = true;
    const redriven = await cli(['redrive', execution.id]);
    expect(redriven.code, redriven.err).toBe(0);
    expect(JSON.parse(redriven.out).count).toBe(1);
    expect((await engine.waitForEnd(execution.id, 10_000)).status).toBe('SUCCEEDED');
    expect((await cli(['redrive', execution.id])).code).toBe(4);
  });
});

describe('stepwise publish', () => {
  it('delivers to the execution waiting on the key; the same --event-id again reports it and changes nothing', async () => {
    const { execution } = await engine.startExecution('keyed', { order: 'o-7' });
    const other = await engine.startExecution('keyed', { order: 'o-8' });
    const sent = await cli(['publish', 'payment', '--key', 'o-7', '--payload', '{"amount":3}', '--event-id', 'p1']);
    expect(sent.code, sent.err).toBe(0);
    const first = JSON.parse(sent.out) as { id: string; deliveredTo: string[]; retainedUntil: string };
    expect(first.id).toBe('p1');
    expect(Date.parse(first.retainedUntil)).toBeGreaterThan(Date.now());
    expect((await engine.waitForEnd(execution.id, 10_000)).output).toEqual({ order: 'o-7', payment: { amount: 3 } });
    const again = await cli(['publish', 'payment', '--key', 'o-7', '--payload', '{"amount":4}', '--event-id', 'p1']);
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out)).toEqual({ id: 'p1', deliveredTo: [execution.id], retainedUntil: first.retainedUntil });
    expect((await engine.getExecution(other.execution.id)).status).toBe('RUNNING');
  });

  it('refuses a missing --key or <event> (exit 2) and prints its usage with --help', async () => {
    expect((await cli(['publish', 'payment'])).code).toBe(2);
    expect((await cli(['publish', '--key', 'k'])).code).toBe(2);
    expect((await cli(['publish', 'payment', '--key', 'k', '--payload', '{nope'])).code).toBe(2);
    const help = await cli(['publish', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: stepwise publish <event> --key KEY');
  });
});
