/**
 * The PostgreSQL baseline: what one client gets from the same server with nothing in between.
 * One transaction is `BEGIN; INSERT a history-shaped row; UPDATE an execution-shaped row; COMMIT`
 * (four round trips, prepared statements, the server's own durability settings), which is what one
 * step of one execution needs at the least. Measured in slices interleaved with the engine's, like
 * the SQLite baseline (bench/baseline.ts), so both see the same machine over the same minutes.
 */
import pg from 'pg';
import { now } from './util.js';

export interface RawPgResult {
  txPerSec: number;
  transactions: number;
  elapsedMs: number;
  /** Mean transaction time, microseconds. */
  meanUs: number;
}

export interface InterleavedRawPg extends RawPgResult {
  /** tx/s of each raw slice, in order. */
  slices: number[];
  min: number;
  max: number;
}

/** A client on its own schema with the two tables the raw transactions write. */
export class RawPg {
  private seq = 0;
  private constructor(
    private readonly client: pg.Client,
    private readonly schema: string,
  ) {}

  static async open(url: string, schema: string): Promise<RawPg> {
    const client = new pg.Client({ connectionString: url, application_name: 'stepwise-bench-raw' });
    await client.connect();
    const s = `"${schema}"`;
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE ${s}.raw_history (
      execution_id text COLLATE "C" NOT NULL, seq integer NOT NULL, type text NOT NULL, ts bigint NOT NULL,
      step text, attempt integer, data text, PRIMARY KEY (execution_id, seq))`);
    await client.query(`CREATE TABLE ${s}.raw_executions (id text COLLATE "C" PRIMARY KEY, snapshot text NOT NULL, last_seq integer NOT NULL, updated_at bigint NOT NULL)`);
    await client.query(`INSERT INTO ${s}.raw_executions VALUES ('exec-0001-baseline', '{}', 0, 0)`);
    return new RawPg(client, schema);
  }

  /** Runs transactions back to back for `durationMs`. */
  async slice(durationMs: number): Promise<RawPgResult> {
    const s = `"${this.schema}"`;
    const data = JSON.stringify({ key: 'step-3', output: { ok: true, n: 3 } });
    const snapshot = JSON.stringify({ value: 's3', context: { n: 3 } });
    const one = async () => {
      const seq = ++this.seq;
      await this.client.query('BEGIN');
      await this.client.query({
        name: 'raw-insert', text: `INSERT INTO ${s}.raw_history VALUES ($1, $2, 'StepSucceeded', $3, 'step-3', 1, $4)`,
        values: ['exec-0001-baseline', seq, Date.now(), data],
      });
      await this.client.query({
        name: 'raw-update', text: `UPDATE ${s}.raw_executions SET snapshot = $2, last_seq = $3, updated_at = $4 WHERE id = $1`,
        values: ['exec-0001-baseline', snapshot, seq, Date.now()],
      });
      await this.client.query('COMMIT');
    };
    for (let i = 0; i < 20; i++) await one(); // warm: statements prepared, pages cached
    const t0 = now();
    let n = 0;
    while (now() - t0 < durationMs) {
      await one();
      n++;
    }
    const elapsedMs = now() - t0;
    return { txPerSec: (n / elapsedMs) * 1000, transactions: n, elapsedMs, meanUs: (elapsedMs * 1000) / n };
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

/** R M R M … M R: raw slices around each measurement slice; the raw figure is over all raw slices. */
export async function interleavedPg<T>(
  raw: RawPg, rounds: number, rawSliceMs: number, slice: (round: number) => Promise<T>,
): Promise<{ raw: InterleavedRawPg; values: T[] }> {
  const raws: RawPgResult[] = [await raw.slice(rawSliceMs)];
  const values: T[] = [];
  for (let i = 0; i < rounds; i++) {
    values.push(await slice(i));
    raws.push(await raw.slice(rawSliceMs));
  }
  const transactions = raws.reduce((n, r) => n + r.transactions, 0);
  const elapsedMs = raws.reduce((n, r) => n + r.elapsedMs, 0);
  const slices = raws.map((r) => r.txPerSec);
  return {
    raw: {
      transactions, elapsedMs, txPerSec: (transactions / elapsedMs) * 1000, meanUs: (elapsedMs * 1000) / transactions,
      slices, min: Math.min(...slices), max: Math.max(...slices),
    },
    values,
  };
}
