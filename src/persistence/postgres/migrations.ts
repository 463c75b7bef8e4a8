import type { PoolClient } from 'pg';

/**
 * The PostgreSQL schema, as an ordered list of migrations. A migration is never edited once
 * released: changes go in a new entry with the next version number.
 *
 * JSON values (inputs, outputs, errors, snapshots, event data) are stored as `text` holding
 * `JSON.stringify` output, not `jsonb`: jsonb reorders object keys, drops duplicate keys and
 * refuses `\u0000` in strings, so it cannot round-trip every JSON value exactly; text can, and it
 * costs nothing to write (no parse on insert). Stepwise never queries inside these values.
 *
 * Identifier columns use the "C" collation: listing order (ties on started_at broken by id) and
 * cursor comparisons are by code point, as in SQLite, whatever the database's default locale.
 *
 * Times are `bigint` milliseconds since the epoch (the engine's clock, which may be virtual).
 * `history` and `work` carry no foreign key to `executions`: the store is their only writer and
 * writes them only in the statement that inserts or version-checks the execution row, and a
 * per-row RI check would cost a lookup per appended event.
 */
export interface Migration {
  version: number;
  name: string;
  /** Statements to run, in order, with the schema name already quoted. */
  statements(schema: string): string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'executions, history, work',
    statements: (s) => [
      `CREATE TABLE ${s}.executions (
        id          text    COLLATE "C" PRIMARY KEY,
        workflow    text    COLLATE "C" NOT NULL,
        version     text    NOT NULL,
        status      text    NOT NULL CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
        input       text    NOT NULL,
        output      text,
        error       text,
        snapshot    text    NOT NULL,
        last_seq    integer NOT NULL,
        started_at  bigint  NOT NULL,
        ended_at    bigint,
        updated_at  bigint  NOT NULL
      )`,
      `CREATE INDEX executions_started_idx ON ${s}.executions (started_at DESC, id DESC)`,
      `CREATE INDEX executions_workflow_started_idx ON ${s}.executions (workflow, started_at DESC, id DESC)`,
      `CREATE INDEX executions_status_started_idx ON ${s}.executions (status, started_at DESC, id DESC)`,
      `CREATE TABLE ${s}.history (
        execution_id text    COLLATE "C" NOT NULL,
        seq          integer NOT NULL,
        type         text    NOT NULL,
        ts           bigint  NOT NULL,
        step         text,
        attempt      integer,
        data         text,
        PRIMARY KEY (execution_id, seq)
      )`,
      `CREATE TABLE ${s}.work (
        execution_id text    COLLATE "C" NOT NULL,
        kind         text    COLLATE "C" NOT NULL CHECK (kind IN ('task', 'timer', 'compensation')),
        key          text    COLLATE "C" NOT NULL,
        attempt      integer NOT NULL,
        due_at       bigint  NOT NULL,
        lease_owner  text,
        lease_until  bigint,
        PRIMARY KEY (execution_id, kind, key)
      )`,
      `CREATE INDEX work_due_idx ON ${s}.work (due_at)`,
      `CREATE INDEX work_lease_owner_idx ON ${s}.work (lease_owner) WHERE lease_owner IS NOT NULL`,
    ],
  },
  {
    // Claims go by kind (timers apart from handler work): with a due_at-only index, a task claim
    // stepped over every due timer first, and nextDueAt read every row. Each kind is now read in
    // due order from its own part of the index (as on SQLite since its migration 2). IF NOT
    // EXISTS: on a large table an operator may build it CONCURRENTLY first (docs/scaling.md).
    version: 2,
    name: 'claim index on (kind, due_at)',
    statements: (s) => [
      `CREATE INDEX IF NOT EXISTS work_claim_idx ON ${s}.work (kind, due_at)`,
      `DROP INDEX IF EXISTS ${s}.work_due_idx`,
    ],
  },
  {
    // Rows that wait on the outside world (docs/handlers.md): a worker step's queue, the SHA-256
    // of the task token an answer must hold, the step's deadline and heartbeat interval.
    version: 3,
    name: 'work rows waiting on workers and callbacks',
    statements: (s) => [
      `ALTER TABLE ${s}.work ADD COLUMN IF NOT EXISTS queue text COLLATE "C", ADD COLUMN IF NOT EXISTS token_hash text COLLATE "C",
        ADD COLUMN IF NOT EXISTS deadline bigint, ADD COLUMN IF NOT EXISTS heartbeat_ms bigint`,
      `CREATE UNIQUE INDEX IF NOT EXISTS work_token_idx ON ${s}.work (token_hash) WHERE token_hash IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS work_queued_idx ON ${s}.work (queue, due_at) WHERE kind = 'queued'`,
      `ALTER TABLE ${s}.work DROP CONSTRAINT IF EXISTS work_kind_check`,
      `ALTER TABLE ${s}.work ADD CONSTRAINT work_kind_check CHECK (kind IN ('task', 'timer', 'compensation', 'queued', 'outside'))`,
    ],
  },
  {
    // Child executions (invoke states): a child knows its parent's invoke step, whose `child` row
    // its end makes due; children are listed by parent. Three new work kinds (child, start, stop).
    version: 4,
    name: 'child executions',
    statements: (s) => [
      `ALTER TABLE ${s}.executions ADD COLUMN parent_id text COLLATE "C"`,
      `ALTER TABLE ${s}.executions ADD COLUMN parent_key text COLLATE "C"`,
      `ALTER TABLE ${s}.executions ADD COLUMN parent_attempt integer`,
      `CREATE INDEX executions_parent_started_idx ON ${s}.executions (parent_id, started_at DESC, id DESC) WHERE parent_id IS NOT NULL`,
      `ALTER TABLE ${s}.work DROP CONSTRAINT IF EXISTS work_kind_check`,
      `ALTER TABLE ${s}.work ADD CONSTRAINT work_kind_check CHECK (kind IN ('task', 'timer', 'compensation', 'queued', 'outside', 'child', 'start', 'stop'))`,
    ],
  },
  {
    // Concurrency queues (see ../queue-sql.ts) and the QUEUED status.
    version: 5,
    name: 'concurrency queues',
    statements: (s) => [
      `CREATE TABLE ${s}.queue (
        scope        text    COLLATE "C" NOT NULL,
        arrival      bigint  NOT NULL,
        execution_id text    COLLATE "C" NOT NULL,
        lim          integer NOT NULL,
        PRIMARY KEY (scope, arrival)
      )`,
      `CREATE INDEX queue_execution_idx ON ${s}.queue (execution_id)`,
      `ALTER TABLE ${s}.executions DROP CONSTRAINT IF EXISTS executions_status_check`,
      `ALTER TABLE ${s}.executions ADD CONSTRAINT executions_status_check CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'))`,
    ],
  },
  {
    // An execution's trace context (docs/observability.md, Traces): written by its creating commit
    // when it has one, read with it, so a restarted process continues the same trace.
    version: 6,
    name: 'trace context',
    statements: (s) => [`ALTER TABLE ${s}.executions ADD COLUMN trace text`],
  },
  {
    // Correlated events (POST /v1/events, see event-ops.ts): the executions waiting in a keyed
    // waitForEvent state, by (name, key); the events kept for executions that reach such a wait
    // later; which event went to which execution (none gets one twice); the 'event' work kind.
    version: 7,
    name: 'correlated events',
    statements: (s) => [
      `CREATE TABLE ${s}.event_waits (
        name         text COLLATE "C" NOT NULL,
        key          text COLLATE "C" NOT NULL,
        execution_id text COLLATE "C" NOT NULL,
        PRIMARY KEY (name, key, execution_id)
      )`,
      `CREATE INDEX event_waits_execution_idx ON ${s}.event_waits (execution_id)`,
      `CREATE TABLE ${s}.correlated_events (
        id          text   COLLATE "C" PRIMARY KEY,
        name        text   COLLATE "C" NOT NULL,
        key         text   COLLATE "C" NOT NULL,
        payload     text   NOT NULL,
        received_at bigint NOT NULL,
        expires_at  bigint NOT NULL
      )`,
      `CREATE INDEX correlated_events_key_idx ON ${s}.correlated_events (name, key, expires_at)`,
      `CREATE INDEX correlated_events_expiry_idx ON ${s}.correlated_events (expires_at)`,
      `CREATE TABLE ${s}.event_deliveries (
        event_id     text COLLATE "C" NOT NULL,
        execution_id text COLLATE "C" NOT NULL,
        PRIMARY KEY (event_id, execution_id)
      )`,
      `ALTER TABLE ${s}.work DROP CONSTRAINT IF EXISTS work_kind_check`,
      `ALTER TABLE ${s}.work ADD CONSTRAINT work_kind_check CHECK (kind IN ('task', 'timer', 'compensation', 'queued', 'outside', 'child', 'start', 'stop', 'event'))`,
    ],
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Advisory-lock class id for Stepwise migrations ("SW" in ASCII); the second key is the schema. */
const LOCK_CLASS = 0x5357;

/**
 * Brings `schema` up to date in one transaction, under a transaction-scoped advisory lock keyed by
 * the schema name, so processes starting together against an empty database migrate once: the
 * second waits for the first to commit, then finds nothing to do. Refuses a database whose schema
 * is newer than this code knows.
 *
 * An up-to-date schema is detected first without locking or DDL, so a role with only
 * SELECT/INSERT/UPDATE/DELETE on the tables (and USAGE on the schema) can run Stepwise once a
 * more privileged role has migrated.
 *
 * `quotedSchema` is the quoted identifier; `schemaName` the raw name (for the lock key and lookups).
 */
export async function migrate(client: PoolClient, schemaName: string, quotedSchema: string): Promise<number> {
  const current = await currentVersion(client, quotedSchema);
  if (current === LATEST_VERSION) return current;
  if (current > LATEST_VERSION) throw tooNew(schemaName, current);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, schemaName]);
    const { rows: ns } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schemaName]);
    if (ns.length === 0) await client.query(`CREATE SCHEMA ${quotedSchema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quotedSchema}.schema_migrations (
        version    integer PRIMARY KEY,
        name       text    NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
    const locked = await currentVersion(client, quotedSchema);
    if (locked > LATEST_VERSION) throw tooNew(schemaName, locked);
    for (const migration of MIGRATIONS) {
      if (migration.version <= locked) continue;
      for (const statement of migration.statements(quotedSchema)) await client.query(statement);
      await client.query(`INSERT INTO ${quotedSchema}.schema_migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
    await client.query('COMMIT');
    return LATEST_VERSION;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The schema's version: 0 when it (or its schema_migrations table) does not exist yet. */
async function currentVersion(client: PoolClient, quotedSchema: string): Promise<number> {
  const { rows } = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${quotedSchema}.schema_migrations`]);
  if (!rows[0]?.t) return 0;
  const { rows: v } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${quotedSchema}.schema_migrations`);
  return v[0]?.v ?? 0;
}

function tooNew(schemaName: string, version: number): Error {
  return new Error(
    `the database schema "${schemaName}" is at version ${version}, newer than this Stepwise knows (${LATEST_VERSION}); upgrade Stepwise`,
  );
}
