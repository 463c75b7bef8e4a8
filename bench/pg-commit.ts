/**
 * The PostgreSQL store alone, without the engine: one caller commits batches of step commits back
 * to back (each commit: two events, consume the execution's leased row, schedule the next one
 * leased), and prints commits/s and ms per batch for each batch size. Shows what one round trip
 * per batch buys, and that a batch's cost grows linearly with its size.
 *
 *   node dist/bench/pg-commit.js [--batches 1,16,50,200,800] [--seconds 3]
 *
 * PostgreSQL: STEPWISE_BENCH_PG, else STEPWISE_TEST_PG, else postgres://postgres@127.0.0.1:5432/test.
 */
import { parseArgs } from 'node:util';
import type { ExecutionCommit } from '../src/core/store.js';
import { PostgresStore } from '../src/persistence/postgres/postgres-store.js';

const url = process.env.STEPWISE_BENCH_PG ?? process.env.STEPWISE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

async function commitRate(batch: number, seconds: number): Promise<{ batch: number; commitsPerSec: number; msPerBatch: number }> {
  const schema = `sw_bench_commit_${process.pid}_${batch}`;
  const store = await PostgresStore.open(url, { schema, poolSize: 2 });
  try {
    const t = Date.now();
    const ids = Array.from({ length: batch }, (_, i) => `e${i}`);
    const snapshot = { value: 's1', context: { input: { i: 1 }, results: { a: { ok: true } } } };
    const leased = (id: string, k: number) => ({ executionId: id, kind: 'task' as const, key: `k${k}`, attempt: 1, dueAt: t, leaseOwner: 'me', leaseUntil: t + 1e9 });
    await store.commit(ids.map((id) => ({
      executionId: id, create: { workflow: 'w', version: 'v', input: { i: 1 }, startedAt: t }, expectedSeq: 0,
      events: [{ type: 'ExecutionStarted', timestamp: t }], snapshot, status: 'RUNNING', schedule: [leased(id, 0)],
    })));
    let seq = 1;
    let step = 0;
    let batches = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      const commits: ExecutionCommit[] = ids.map((id) => ({
        executionId: id, expectedSeq: seq, snapshot, status: 'RUNNING',
        events: [{ type: 'StepSucceeded', timestamp: t, step: `k${step}`, data: { output: { ok: 1 } } }, { type: 'StepStarted', timestamp: t, step: `k${step + 1}` }],
        consume: [{ executionId: id, kind: 'task', key: `k${step}`, owner: 'me' }], schedule: [leased(id, step + 1)],
      }));
      const outcomes = await store.commit(commits);
      if (!outcomes.every((o) => o.ok)) throw new Error(`a commit was refused: ${JSON.stringify(outcomes.find((o) => !o.ok))}`);
      seq += 2;
      step++;
      batches++;
    }
    const ms = performance.now() - t0;
    return { batch, commitsPerSec: Math.round(((batches * batch) / ms) * 1000), msPerBatch: Math.round((ms / batches) * 100) / 100 };
  } finally {
    await store.connection.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await store.close();
  }
}

const { values } = parseArgs({ options: { batches: { type: 'string', default: '1,16,50,200,800' }, seconds: { type: 'string', default: '3' } } });
for (const batch of values.batches.split(',').map(Number)) console.log(JSON.stringify(await commitRate(batch, Number(values.seconds))));
