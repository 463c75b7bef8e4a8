/**
 * The state machine registry in PostgreSQL: one table `asl_state_machines` in the Store's
 * schema (created here if missing), one row per state machine with its record as JSONB. Several
 * server processes on one database share it.
 */
import type pg from 'pg';
import { loadPg } from '../../persistence/postgres/driver.js';
import type { AslRegistry, StateMachineRecord } from './registry.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

export class PostgresAslRegistry implements AslRegistry {
  private readonly table: string;

  private constructor(private readonly pool: pg.Pool, schema: string) {
    this.table = `"${schema}".asl_state_machines`;
  }

  static async open(url: string, options: { schema?: string } = {}): Promise<PostgresAslRegistry> {
    const schema = options.schema ?? 'stepwise';
    if (!IDENTIFIER.test(schema)) throw new Error(`schema name ${JSON.stringify(schema)} must be letters, digits and _`);
    const { Pool } = await loadPg(); // pg loads on first use: SQLite users never load it
    const pool = new Pool({ connectionString: url, max: 2 });
    const registry = new PostgresAslRegistry(pool, schema);
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await pool.query(`CREATE TABLE IF NOT EXISTS ${registry.table} (name text PRIMARY KEY, record jsonb NOT NULL)`);
    return registry;
  }

  async list(): Promise<StateMachineRecord[]> {
    const { rows } = await this.pool.query<{ record: StateMachineRecord }>(`SELECT record FROM ${this.table} ORDER BY name`);
    return rows.map((r) => r.record);
  }

  async get(name: string): Promise<StateMachineRecord | undefined> {
    const { rows } = await this.pool.query<{ record: StateMachineRecord }>(`SELECT record FROM ${this.table} WHERE name = $1`, [name]);
    return rows[0]?.record;
  }

  async put(record: StateMachineRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.table} (name, record) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET record = EXCLUDED.record`,
      [record.name, JSON.stringify(record)],
    );
  }

  async delete(name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`DELETE FROM ${this.table} WHERE name = $1`, [name]);
    return (rowCount ?? 0) > 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
