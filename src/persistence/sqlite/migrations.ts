/**
 * The SQLite schema, as an ordered list of migrations. `user_version` holds how many have run;
 * a migration never changes once released: add a new one instead.
 *
 * Shape notes (measured, see docs/performance.md): history is WITHOUT ROWID keyed by
 * (execution_id, seq) so an append touches one b-tree; no AUTOINCREMENT anywhere; the status and
 * workflow indexes change only when an execution starts or ends, not on every step.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE executions (
    id          TEXT PRIMARY KEY,
    workflow    TEXT NOT NULL,
    version     TEXT NOT NULL,
    status      TEXT NOT NULL,
    input       TEXT NOT NULL,
    output      TEXT,
    error       TEXT,
    snapshot    TEXT NOT NULL,
    last_seq    INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    updated_at  INTEGER NOT NULL
  );
  CREATE INDEX executions_by_start ON executions (started_at DESC, id DESC);
  CREATE INDEX executions_by_workflow ON executions (workflow, started_at DESC, id DESC);
  CREATE INDEX executions_by_status ON executions (status, started_at DESC, id DESC);

  CREATE TABLE history (
    execution_id TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    type         TEXT NOT NULL,
    ts           INTEGER NOT NULL,
    step         TEXT,
    attempt      INTEGER,
    data         TEXT,
    PRIMARY KEY (execution_id, seq)
  ) WITHOUT ROWID;

  CREATE TABLE work (
    execution_id TEXT NOT NULL,
    kind         TEXT NOT NULL,
    key          TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    due_at       INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  INTEGER,
    PRIMARY KEY (execution_id, kind, key)
  ) WITHOUT ROWID;
  CREATE INDEX work_by_due ON work (due_at);
  `,
  // 2: claims go by kind (timers apart from handler work); a due_at-only index made a task claim
  // step over every due timer first (measured: 14% of a 10,000-timer burst).
  `
  CREATE INDEX work_by_kind_due ON work (kind, due_at);
  DROP INDEX work_by_due;
  `,
  // 3: only unleased rows are indexed for claiming. A task the engine runs at once is written
  // already leased and deleted by the next commit; keeping it out of the index saves a page in
  // both of those commits (one of ~5.6 a step). On this exclusive store a lease holds until it
  // is released (at shutdown, or by the next process at start-up), so a leased row never needs
  // to be found by its due time.
  `
  CREATE INDEX work_unleased ON work (kind, due_at) WHERE lease_owner IS NULL;
  DROP INDEX work_by_kind_due;
  `,
  // 4: rows that wait on the outside world (docs/handlers.md): a worker step's queue, the SHA-256
  // of the task token an answer must hold, the step's deadline and heartbeat interval.
  `
  ALTER TABLE work ADD COLUMN queue TEXT;
  ALTER TABLE work ADD COLUMN token_hash TEXT;
  ALTER TABLE work ADD COLUMN deadline INTEGER;
  ALTER TABLE work ADD COLUMN heartbeat_ms INTEGER;
  CREATE UNIQUE INDEX work_by_token ON work (token_hash) WHERE token_hash IS NOT NULL;
  CREATE INDEX work_queued ON work (queue, due_at) WHERE kind = 'queued' AND lease_owner IS NULL;
  `,
  // 5: child executions (invoke states). A child knows its parent's invoke step, whose `child`
  // row its end makes due; children are listed by parent (partial index: most executions have none).
  `
  ALTER TABLE executions ADD COLUMN parent_id TEXT;
  ALTER TABLE executions ADD COLUMN parent_key TEXT;
  ALTER TABLE executions ADD COLUMN parent_attempt INTEGER;
  CREATE INDEX executions_by_parent ON executions (parent_id, started_at DESC, id DESC) WHERE parent_id IS NOT NULL;
  `,
  // 6: concurrency queues (see ../queue-sql.ts): one row per scope a limited execution counts
  // against, in arrival order, kept until it ends.
  `
  CREATE TABLE queue (
    scope        TEXT NOT NULL,
    arrival      INTEGER NOT NULL,
    execution_id TEXT NOT NULL,
    lim          INTEGER NOT NULL,
    PRIMARY KEY (scope, arrival)
  ) WITHOUT ROWID;
  CREATE INDEX queue_by_execution ON queue (execution_id);
  `,
  // 7: an execution's trace context (docs/observability.md, Traces), written by its creating
  // commit when it has one, so a restarted process continues the same trace.
  `
  ALTER TABLE executions ADD COLUMN trace TEXT;
  `,
  // 8: correlated events (POST /v1/events, see event-writes.ts): the executions waiting in a keyed
  // waitForEvent state, by (name, key); the events kept for executions that reach such a wait
  // later; and which event went to which execution, so none gets one twice.
  `
  CREATE TABLE event_waits (
    name         TEXT NOT NULL,
    key          TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    PRIMARY KEY (name, key, execution_id)
  ) WITHOUT ROWID;
  CREATE INDEX event_waits_by_execution ON event_waits (execution_id);
  CREATE TABLE correlated_events (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    key         TEXT NOT NULL,
    payload     TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
  );
  CREATE INDEX correlated_events_by_key ON correlated_events (name, key, expires_at);
  CREATE INDEX correlated_events_by_expiry ON correlated_events (expires_at);
  CREATE TABLE event_deliveries (
    event_id     TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    PRIMARY KEY (event_id, execution_id)
  ) WITHOUT ROWID;
  `,
];
