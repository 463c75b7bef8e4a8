import type pg from 'pg';
import type { QueryResultRow } from 'pg';
import { StepwiseError } from '../../core/errors.js';
import type { ScheduleAdvance, ScheduleRow, ScheduleStore, StoredScheduleDefinition } from '../../core/schedule-store.js';
import { toScheduleRow, type ScheduleDbRow } from '../schedule-rows.js';
import { asStorageError } from '../storage-error.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/**
 * Schedules in PostgreSQL, in the store's schema, in a table of their own created on first use
 * (under an advisory lock, so processes starting together create it once). Several processes
 * share the rows: `advance` is a compare-and-set on `next_slot_at`, so of two processes racing
 * for a slot exactly one moves it on.
 */
export class PostgresScheduleStore implements ScheduleStore {
  readonly shared = true;
  private readonly table: string;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {
    if (!IDENTIFIER.test(schema)) throw new StepwiseError('VALIDATION_FAILED', `schema name ${JSON.stringify(schema)} is not an identifier`);
    this.table = `"${schema}".schedules`;
  }

  async init(): Promise<void> {
    const client = await this.run(() => this.pool.connect());
    try {
      await this.run(async () => {
        await client.query('BEGIN');
        try {
          await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${this.schema}.schedules`]);
          await client.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
            id text PRIMARY KEY,
            definition text NOT NULL,
            paused boolean NOT NULL DEFAULT false,
            next_slot_at bigint,
            last_slot_at bigint,
            last_execution_id text,
            last_error text,
            fired_count bigint NOT NULL DEFAULT 0,
            skipped_count bigint NOT NULL DEFAULT 0,
            missed_count bigint NOT NULL DEFAULT 0,
            failed_count bigint NOT NULL DEFAULT 0,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL
          )`);
          await client.query(
            `CREATE INDEX IF NOT EXISTS schedules_next_slot ON ${this.table} (next_slot_at) WHERE NOT paused AND next_slot_at IS NOT NULL`,
          );
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      });
    } finally {
      client.release();
    }
  }

  async insert(row: ScheduleRow): Promise<boolean> {
    const { rowCount } = await this.query(
      `INSERT INTO ${this.table} (id, definition, paused, next_slot_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO NOTHING`,
      [row.id, JSON.stringify(row.definition), row.paused, row.nextSlotAt ?? null, row.createdAt, row.updatedAt],
    );
    return rowCount === 1;
  }

  async replace(id: string, c: { definition: StoredScheduleDefinition; paused: boolean; nextSlotAt: number | undefined; now: number }): Promise<boolean> {
    const { rowCount } = await this.query(
      `UPDATE ${this.table} SET definition = $1, paused = $2, next_slot_at = $3, last_error = NULL, updated_at = $4 WHERE id = $5`,
      [JSON.stringify(c.definition), c.paused, c.nextSlotAt ?? null, c.now, id],
    );
    return rowCount === 1;
  }

  async get(id: string): Promise<ScheduleRow | undefined> {
    const { rows } = await this.query<ScheduleDbRow>(`SELECT * FROM ${this.table} WHERE id = $1`, [id]);
    return rows[0] ? toScheduleRow(rows[0]) : undefined;
  }

  async list(): Promise<ScheduleRow[]> {
    const { rows } = await this.query<ScheduleDbRow>(`SELECT * FROM ${this.table} ORDER BY id COLLATE "C"`, []);
    return rows.map(toScheduleRow);
  }

  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.query(`DELETE FROM ${this.table} WHERE id = $1`, [id]);
    return rowCount === 1;
  }

  async setPaused(id: string, paused: boolean, nextSlotAt: number | undefined, now: number): Promise<boolean> {
    const { rowCount } = await this.query(`UPDATE ${this.table} SET paused = $1, next_slot_at = $2, updated_at = $3 WHERE id = $4`, [
      paused, nextSlotAt ?? null, now, id,
    ]);
    return rowCount === 1;
  }

  async due(now: number, limit: number): Promise<ScheduleRow[]> {
    const { rows } = await this.query<ScheduleDbRow>(
      `SELECT * FROM ${this.table} WHERE NOT paused AND next_slot_at IS NOT NULL AND next_slot_at <= $1 ORDER BY next_slot_at LIMIT $2`,
      [now, limit],
    );
    return rows.map(toScheduleRow);
  }

  async nextSlotAt(): Promise<number | undefined> {
    const { rows } = await this.query<{ next: number | null }>(
      `SELECT min(next_slot_at) AS next FROM ${this.table} WHERE NOT paused AND next_slot_at IS NOT NULL`,
      [],
    );
    return rows[0]?.next ?? undefined;
  }

  async advance(a: ScheduleAdvance): Promise<boolean> {
    const { rowCount } = await this.query(
      `UPDATE ${this.table} SET next_slot_at = $1, last_slot_at = coalesce($2, last_slot_at),
         last_execution_id = coalesce($3, last_execution_id), last_error = $4, fired_count = fired_count + $5,
         skipped_count = skipped_count + $6, missed_count = missed_count + $7, failed_count = failed_count + $8, updated_at = $9
       WHERE id = $10 AND next_slot_at = $11`,
      [a.toSlotAt ?? null, a.lastSlotAt ?? null, a.lastExecutionId ?? null, a.lastError ?? null, a.fired, a.skipped, a.missed, a.failed, a.now, a.id, a.fromSlotAt],
    );
    return rowCount === 1;
  }

  private query<R extends QueryResultRow>(text: string, values: unknown[]) {
    return this.run(() => this.pool.query<R>(text, values));
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw asStorageError(error);
    }
  }
}
