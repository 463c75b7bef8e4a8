/**
 * State machines created over the AWS protocol survive a restart: the registry (a JSON file next
 * to an SQLite database, a table on PostgreSQL) keeps every revision, and an execution started on
 * an old revision finishes on it after an update and a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateStateMachineCommand, DescribeExecutionCommand, DescribeStateMachineCommand, StartExecutionCommand, UpdateStateMachineCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresAslRegistry } from '../../src/asl/registry/postgres-registry.js';
import { registryForSqlite, type StateMachineRecord } from '../../src/asl/registry/registry.js';
import { openStore } from '../../src/index.js';
import { startAwsHarness } from './aws-harness.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const pass = (result: string) => JSON.stringify({ StartAt: 'Gate', States: { Gate: { Type: 'Task', Resource: 'gate', Next: 'P' }, P: { Type: 'Pass', Result: result, End: true } } });

describe('state machine registry', () => {
  it('on SQLite: a JSON file next to the database keeps machines and revisions across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepwise-asl-'));
    dirs.push(dir);
    const db = join(dir, 'data.db');
    let release!: () => void;
    const gateOpen = new Promise<void>((r) => {
      release = r;
    });
    const first = await startAwsHarness({ store: await openStore(db), registry: registryForSqlite(db), handlers: { gate: async () => gateOpen } });
    const sfn = first.client();
    const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'versions', definition: pass('v1'), roleArn: 'r' }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'old-run', input: '{}' }));
    await sfn.send(new UpdateStateMachineCommand({ stateMachineArn, definition: pass('v2') }));
    await first.engine.stop({ graceMs: 0 });
    await first.close();
    await first.store.close();

    // A new process: nothing registered by hand; the registry brings both revisions back.
    release();
    const second = await startAwsHarness({ store: await openStore(db), registry: registryForSqlite(db), handlers: { gate: async () => 'open' } });
    try {
      const sfn2 = second.client();
      expect((await sfn2.send(new DescribeStateMachineCommand({ stateMachineArn }))).definition).toBe(pass('v2'));
      await second.engine.waitForEnd('old-run', 10_000);
      const old = await sfn2.send(new DescribeExecutionCommand({ executionArn }));
      expect(old.status).toBe('SUCCEEDED');
      expect(JSON.parse(old.output!)).toBe('v1');
      const fresh = await sfn2.send(new StartExecutionCommand({ stateMachineArn, name: 'new-run', input: '{}' }));
      await second.engine.waitForEnd('new-run', 10_000);
      expect(JSON.parse((await sfn2.send(new DescribeExecutionCommand({ executionArn: fresh.executionArn }))).output!)).toBe('v2');
    } finally {
      await second.close();
      await second.store.close();
    }
  });

  it('on PostgreSQL: a table in the schema holds the records', async () => {
    const schema = `asl_reg_${process.pid}_${Date.now() % 100000}`;
    const url = 'postgres://postgres@127.0.0.1:5432/test';
    const registry = await PostgresAslRegistry.open(url, { schema });
    const record: StateMachineRecord = { name: 'm', type: 'STANDARD', roleArn: 'r', definition: pass('x'), createdAt: 1, updatedAt: 1, revisions: [{ version: 'asl-1', definition: pass('x'), createdAt: 1 }] };
    try {
      await registry.put(record);
      await registry.put({ ...record, updatedAt: 2 });
      const reopened = await PostgresAslRegistry.open(url, { schema });
      expect(await reopened.get('m')).toEqual({ ...record, updatedAt: 2 });
      expect((await reopened.list()).map((r) => r.name)).toEqual(['m']);
      expect(await reopened.delete('m')).toBe(true);
      expect(await reopened.delete('m')).toBe(false);
      await reopened.close();
    } finally {
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
      await registry.close();
    }
  });
});
