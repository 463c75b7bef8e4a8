import pg from 'pg';

/** The PostgreSQL the tests use; override with STEPWISE_TEST_PG. */
export const PG_URL = process.env.STEPWISE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** True when PG_URL answers; test files skip their PostgreSQL suites otherwise (set STEPWISE_REQUIRE_PG=1 to fail instead). */
export async function pgAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    if (process.env.STEPWISE_REQUIRE_PG === '1') {
      throw new Error(`STEPWISE_REQUIRE_PG=1 and PostgreSQL at ${PG_URL} is not reachable: ${(error as Error).message}`, { cause: error });
    }
    console.warn(`PostgreSQL at ${PG_URL} is not reachable; skipping PostgreSQL store tests (${(error as Error).message})`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A schema name no other test run uses. */
export function throwawaySchema(prefix = 'sw_test'): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Runs `fn` with a short-lived admin connection. */
export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await withAdmin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

export async function truncateSchema(schema: string): Promise<void> {
  await withAdmin((c) => c.query(`TRUNCATE "${schema}".executions, "${schema}".history, "${schema}".work`));
}
