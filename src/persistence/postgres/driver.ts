/**
 * node-postgres, loaded on first use. Nothing imports `pg` at module level, so an application that
 * imports Stepwise and uses only SQLite never loads it (nor pays for it at start-up).
 */
import { createHash } from 'node:crypto';
import type * as Pg from 'pg';
import type pgDefault from 'pg';

export type PgModule = typeof pgDefault;

let loading: Promise<PgModule> | undefined;

export function loadPg(): Promise<PgModule> {
  loading ??= import('pg').then((m) => m.default);
  return loading;
}

const INT8_OID = 20;

/** bigint columns (times in ms) come back as JS numbers: every value Stepwise stores is below 2^53. */
export function typeParsers(pg: PgModule): Pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: string) =>
      oid === INT8_OID && format !== 'binary'
        ? (value: string) => Number(value)
        : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
  };
}

/**
 * A prepared statement's name as PostgreSQL keeps it: names longer than 63 bytes are cut there, so
 * two long names (a long schema name plus a claim's kinds) could meet and run each other's text.
 * A long name becomes a hash of itself, still one per name.
 */
export function statementName(name: string): string {
  return Buffer.byteLength(name) <= 63 ? name : `sw_${createHash('sha256').update(name).digest('hex').slice(0, 48)}`;
}
