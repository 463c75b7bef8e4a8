import type { HistoryEvent, NewHistoryEvent } from './events.js';
import type { StepError } from './errors.js';
import type { ExecutionStatus } from './status.js';

/**
 * The store port: what the engine needs from a database, and nothing more. Coarse and async:
 * every method is one atomic unit of work. Adapters run each `commit` as one transaction and
 * never keep one open across an `await`; no transaction handle leaves an adapter.
 */

/** What every listing and description shows of an execution. */
export interface ExecutionSummary {
  id: string;
  workflow: string;
  /** Content hash of the definition the execution started on. */
  version: string;
  status: ExecutionStatus;
  input: unknown;
  output?: unknown;
  error?: StepError;
  startedAt: number;
  endedAt?: number;
  /** The execution that started this one with an invoke state, if any. */
  parentId?: string;
}

/** An execution with what the engine needs to continue it. */
export interface StoredExecution extends ExecutionSummary {
  /** The persisted xstate snapshot (plain JSON). */
  snapshot: unknown;
  /** The `seq` of the last appended event (0 before any); also the optimistic-concurrency version. */
  lastSeq: number;
  /** For a child execution: the parent's invoke step (its work key and attempt) that waits for its end. */
  parent?: ParentRef;
  /** Its trace context as the creating commit wrote it (opaque to the store; src/core/trace-context.ts). */
  trace?: string;
}

/**
 * What continuing an execution needs of its row (Store.getStepStates): no output, error or
 * times, and its input only while it has no snapshot. A timer burst reads one per firing.
 */
export interface StepState {
  id: string;
  workflow: string;
  version: string;
  status: ExecutionStatus;
  /** The persisted xstate snapshot; null for a spawned child not begun yet. */
  snapshot: unknown;
  lastSeq: number;
  parent?: ParentRef;
  trace?: string;
  /** Only while `snapshot` is null: the child begins from it. */
  input?: unknown;
}

/** The invoke step of a parent execution that a child's end wakes. */
export interface ParentRef {
  id: string;
  /** The parent's step key (its `child` work row's key). */
  key: string;
  attempt: number;
}

/**
 * An execution started by another's commit, in the same transaction (an invoke state's child).
 * Created only if the id is free: an id that exists is left as it is, so a commit retried after
 * a crash or a conflict never creates a second child. It is written with its ExecutionStarted
 * event and snapshot null, and a `start` work row due now: its first step is taken when that row
 * is claimed, like any due work.
 */
export interface SpawnedExecution {
  id: string;
  workflow: string;
  version: string;
  input: unknown;
  startedAt: number;
  parent: ParentRef;
}

/** Kinds of durable work. */
export type WorkKind = 'task' | 'timer' | 'compensation' | 'queued' | 'outside' | ChildWorkKind | 'event';

/**
 * What a row waiting on the outside world carries (docs/handlers.md): a 'queued' row, a worker
 * step's attempt waiting for a poll of its `queue`; an 'outside' row, an attempt handed to a
 * worker or a callback, waiting for the answer that holds the token whose SHA-256 is `tokenHash`
 * (the token itself is never stored), due when it lapses: at `deadline` (the step's timeout), or
 * earlier when no heartbeat comes within `heartbeatMs`.
 */
export interface OutsideWait {
  queue?: string;
  tokenHash?: string;
  deadline?: number;
  heartbeatMs?: number;
}
/**
 * Work rows of child executions: `child`, a parent's invoke step waiting for its child's end (due
 * at its timeout, or never, until the child's end commit makes it due); `start`, an execution
 * created without its first step (a spawned child), taken when claimed; `stop`, a request from a
 * parent that a child cancel (the parent left the invoke step).
 */
export type ChildWorkKind = 'child' | 'start' | 'stop';
/*
 * An 'event' row is a correlated event (POST /v1/events) delivered to the execution and not yet in
 * its mailbox: its key is the event's id, its payload is read from the retained event when the
 * row is claimed (see CorrelatedEvent).
 */

/** Identifies one durable work row: at most one exists per (execution, kind, key). */
export interface WorkRef {
  executionId: string;
  kind: WorkKind;
  /** The step key: a state name, or `map[i]` for a map item, or a compensation's key. */
  key: string;
}

export interface WorkItem extends WorkRef, OutsideWait {
  attempt: number;
  dueAt: number;
  leaseOwner?: string;
  leaseUntil?: number;
}

/** A work row to create (or replace, when one with the same ref exists). */
export interface NewWork extends WorkRef, OutsideWait {
  attempt: number;
  dueAt: number;
  /** Claim it in the same transaction for this owner until `leaseUntil` (the engine runs it next). */
  leaseOwner?: string;
  leaseUntil?: number;
}

/** One execution's progress, committed atomically: events, snapshot and the work they imply. */
export interface ExecutionCommit {
  executionId: string;
  /** Set on the commit that creates the execution; the commit fails with 'exists' if the id is taken. */
  create?: { workflow: string; version: string; input: unknown; startedAt: number; trace?: string };
  /** The execution's `lastSeq` this commit was computed from; 0 together with `create`. */
  expectedSeq: number;
  /** Appended with seq expectedSeq+1, expectedSeq+2, …; the execution's lastSeq becomes expectedSeq+events.length. */
  events: NewHistoryEvent[];
  snapshot: unknown;
  status: ExecutionStatus;
  output?: unknown;
  error?: StepError;
  endedAt?: number;
  /**
   * A redrive took an ended (FAILED) execution back to RUNNING: the store sets `status` and
   * clears its output, error and end time.
   */
  reopen?: boolean;
  /** Work rows this commit consumes. Each must still be leased by `owner`, or the commit is refused. */
  consume?: Array<WorkRef & { owner: string }>;
  /** Work rows to create or replace. */
  schedule?: NewWork[];
  /** Work rows to delete whoever holds them (steps the execution has left, e.g. on cancel). */
  drop?: WorkRef[];
  /** Child executions to create with this commit (each only if its id is free). */
  spawn?: SpawnedExecution[];
  /**
   * A child's ending commit: its parent's `child` row for this key and attempt becomes due at
   * `dueAt`, if it still exists with that attempt (a parent that moved on is left alone).
   */
  wake?: ParentRef & { dueAt: number };
  /**
   * The running children that invoke steps of this execution started under these keys get a
   * `stop` row due at `dueAt` (the parent left the step: cancel, timeout, a failure elsewhere).
   */
  stopChildren?: { keys: string[]; dueAt: number };
  /**
   * A creating commit of a workflow with a concurrency limit (status QUEUED, snapshot null): the
   * execution joins the queue of each scope in arrival order, and its `start` row is written due
   * at `dueAt` when it is within every scope's limit, else parked until a slot frees.
   */
  enqueue?: { scopes: ConcurrencyScope[]; dueAt: number };
  /**
   * The ending commit of an execution that joined queues: it leaves them, and the queued
   * executions now within every limit of theirs get their `start` row due at `dueAt`.
   */
  dequeue?: { dueAt: number };
  /**
   * The keyed waitForEvent states the execution waits in once this commit lands, all of them (they
   * replace the previous set; empty when it waits in none, or ends); set only when the set
   * changes. In the same transaction, each unexpired retained event (as of `now`) matching one of
   * them and not delivered to this execution before gets an 'event' row (see `publishEvent`).
   */
  eventWaits?: { waits: EventWait[]; now: number };
}

/** A keyed wait: the event's name and the correlation key the wait computed. */
export interface EventWait {
  name: string;
  key: string;
}

/** A correlated event (POST /v1/events) as the store keeps it until `expiresAt`. */
export interface CorrelatedEvent {
  id: string;
  name: string;
  key: string;
  payload: unknown;
  receivedAt: number;
  expiresAt: number;
}

/** What `publishEvent` did: `created` false when an event with this id is kept already (then `event` is that one). */
export interface PublishOutcome {
  created: boolean;
  event: CorrelatedEvent;
  /** The executions it was delivered to: by this call, or for a replay every one so far. */
  deliveredTo: string[];
}

/** One concurrency limit an execution counts against: `workflow` or `workflow/key`, at most `limit` running. */
export interface ConcurrencyScope {
  scope: string;
  limit: number;
}

export type CommitOutcome =
  /**
   * `snapshotChars`: the stored snapshot's length (JSON characters), where the store knows it
   * without extra work (SQLite): the engine bounds by it the memory of executions it keeps restored.
   */
  | { ok: true; lastSeq: number; snapshotChars?: number }
  /** `expectedSeq` is stale: another commit for this execution landed first. Reload and recompute. */
  | { ok: false; reason: 'conflict' }
  /** A consumed work row is gone or leased by someone else: the result must not be applied. */
  | { ok: false; reason: 'lease-lost'; work: WorkRef }
  /** `create` named an id that exists. */
  | { ok: false; reason: 'exists' };

export interface ListQuery {
  workflow?: string;
  status?: ExecutionStatus;
  /** Only the children of this execution. */
  parentId?: string;
  limit: number;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string;
}

/** Counts for gauges: a few aggregate queries over indexed columns, no row scan of history. */
export interface StoreStats {
  /** Executions RUNNING, per workflow. */
  running: { workflow: string; count: number }[];
  /** Work rows due now that no one holds, per kind, with the earliest due time among them. */
  due: { kind: WorkKind; count: number; oldestDueAt: number }[];
  /** Timer rows not yet fired (due or not). */
  timersPending: number;
}

export interface ClaimRequest {
  owner: string;
  now: number;
  leaseUntil: number;
  limit: number;
  /** Only rows of these kinds (timers are claimed apart from handler work, which is capacity-bound). @default all */
  kinds?: WorkKind[];
  /** With kind 'queued': only rows of this queue (required then). */
  queue?: string;
}

export interface Store {
  /** A short name for logs and docs ('sqlite', 'postgres'). */
  readonly kind: string;
  /**
   * True when the store belongs to one process (an SQLite file, which the adapter enforces: a
   * second store on the file fails with STORE_LOCKED): at start-up every lease left by a
   * previous process is void, and the engine calls `releaseAllLeases`. An exclusive store may
   * hold a lease until it is released instead of until `leaseUntil` (no one else could take the
   * work over), so claims and `nextDueAt` need only consider unleased rows.
   */
  readonly exclusive: boolean;

  /**
   * Applies every commit in one transaction where possible. Each commit succeeds or fails on its
   * own (a failed one writes nothing); outcomes are returned in order. Throws only for a storage
   * fault (busy, locked, disk full), in which case nothing was written. Resolves once the
   * transaction is durable.
   */
  commit(commits: ExecutionCommit[]): Promise<CommitOutcome[]>;

  getExecution(id: string): Promise<StoredExecution | undefined>;
  /**
   * The executions with these ids that exist, keyed by id (ids that do not exist are absent; a
   * repeated id is read once). One query on a shared store, so a batch that needs many executions
   * not in memory costs one round trip, not one per execution.
   */
  getExecutions(ids: readonly string[]): Promise<Map<string, StoredExecution>>;
  /**
   * Like getExecutions, but only what continuing them needs (StepState): the engine's batch
   * loader reads through it when a store has it, and falls back to getExecutions.
   */
  getStepStates?(ids: readonly string[]): Promise<Map<string, StepState>>;
  listExecutions(query: ListQuery): Promise<{ items: ExecutionSummary[]; nextCursor?: string }>;
  /** Events with `seq > afterSeq`, in order, at most `limit`. */
  readHistory(executionId: string, afterSeq: number, limit: number): Promise<HistoryEvent[]>;

  /** Leases up to `limit` due work rows that no one holds (or whose lease expired), earliest first. */
  claimWork(request: ClaimRequest): Promise<WorkItem[]>;
  /** Extends the owner's leases on these rows; returns the refs it no longer holds. */
  renewLeases(owner: string, refs: WorkRef[], leaseUntil: number): Promise<WorkRef[]>;
  /** Hands back every lease `owner` holds (graceful shutdown). */
  releaseLeases(owner: string): Promise<void>;
  /** Voids every lease (exclusive stores only, at start-up). */
  releaseAllLeases(): Promise<void>;
  /**
   * Leases the 'outside' row whose token hash is `tokenHash` to `owner`, if no one holds it (or
   * its lease lapsed): the one way an answer from outside takes a row, so at most one is applied.
   */
  claimByToken(tokenHash: string, owner: string, now: number, leaseUntil: number): Promise<WorkItem | undefined>;
  /** A heartbeat: moves an unleased 'outside' row's due time to `now + heartbeatMs` (never past its deadline); false when no such row. */
  extendByToken(tokenHash: string, now: number): Promise<boolean>;
  /** The earliest due time of unleased (or lease-expired, as of `now`) work, if any; 'queued' rows, which polls take, are not counted. */
  nextDueAt(now: number): Promise<number | undefined>;
  /** The work rows of one execution (for describe, cancel and tests). */
  listWork(executionId: string): Promise<WorkItem[]>;

  /**
   * Optional: calls `listener` when another process may have made work due (PostgreSQL
   * LISTEN/NOTIFY). Returns an unsubscribe function. Without it the engine polls on its interval.
   */
  onWorkAvailable?(listener: () => void): () => void;

  /**
   * Keeps a correlated event until `event.expiresAt` and, in the same transaction, delivers it
   * (an 'event' row due now) to every execution waiting on its name and key (`eventWaits`).
   * Idempotent by id: an id kept already changes nothing (`created: false`). An execution gets an
   * event at most once, however often it waits on that key. Expired events (as of `now`) that no
   * 'event' row still needs are purged here, a bounded number per call.
   */
  publishEvent(event: CorrelatedEvent, now: number): Promise<PublishOutcome>;
  /** The kept correlated events with these ids, by id (an 'event' row's payload). */
  readCorrelatedEvents(ids: readonly string[]): Promise<Map<string, CorrelatedEvent>>;
  /** Deletes up to `limit` events expired as of `now` that no 'event' row still needs; returns how many. */
  purgeCorrelatedEvents(now: number, limit: number): Promise<number>;

  /** Optional: cheap counts for metrics gauges, read when /metrics is scraped (docs/observability.md). */
  stats?(now: number): Promise<StoreStats>;

  close(): Promise<void>;
}
