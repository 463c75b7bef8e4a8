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
}

/** An execution with what the engine needs to continue it. */
export interface StoredExecution extends ExecutionSummary {
  /** The persisted xstate snapshot (plain JSON). */
  snapshot: unknown;
  /** The `seq` of the last appended event (0 before any); also the optimistic-concurrency version. */
  lastSeq: number;
}

/** Kinds of durable work. */
export type WorkKind = 'task' | 'timer' | 'compensation';

/** Identifies one durable work row: at most one exists per (execution, kind, key). */
export interface WorkRef {
  executionId: string;
  kind: WorkKind;
  /** The step key: a state name, or `map[i]` for a map item, or a compensation's key. */
  key: string;
}

export interface WorkItem extends WorkRef {
  attempt: number;
  dueAt: number;
  leaseOwner?: string;
  leaseUntil?: number;
}

/** A work row to create (or replace, when one with the same ref exists). */
export interface NewWork extends WorkRef {
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
  create?: { workflow: string; version: string; input: unknown; startedAt: number };
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
}

export type CommitOutcome =
  | { ok: true; lastSeq: number }
  /** `expectedSeq` is stale: another commit for this execution landed first. Reload and recompute. */
  | { ok: false; reason: 'conflict' }
  /** A consumed work row is gone or leased by someone else: the result must not be applied. */
  | { ok: false; reason: 'lease-lost'; work: WorkRef }
  /** `create` named an id that exists. */
  | { ok: false; reason: 'exists' };

export interface ListQuery {
  workflow?: string;
  status?: ExecutionStatus;
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
   * fault (busy, locked, disk full), in which case nothing was written.
   */
  commit(commits: ExecutionCommit[]): Promise<CommitOutcome[]>;

  getExecution(id: string): Promise<StoredExecution | undefined>;
  /**
   * The executions with these ids that exist, keyed by id (ids that do not exist are absent; a
   * repeated id is read once). One query on a shared store, so a batch that needs many executions
   * not in memory costs one round trip, not one per execution.
   */
  getExecutions(ids: readonly string[]): Promise<Map<string, StoredExecution>>;
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
  /** The earliest due time of unleased (or lease-expired, as of `now`) work, if any. */
  nextDueAt(now: number): Promise<number | undefined>;
  /** The work rows of one execution (for describe, cancel and tests). */
  listWork(executionId: string): Promise<WorkItem[]>;

  /**
   * Optional: calls `listener` when another process may have made work due (PostgreSQL
   * LISTEN/NOTIFY). Returns an unsubscribe function. Without it the engine polls on its interval.
   */
  onWorkAvailable?(listener: () => void): () => void;

  /** Optional: cheap counts for metrics gauges, read when /metrics is scraped (docs/observability.md). */
  stats?(now: number): Promise<StoreStats>;

  close(): Promise<void>;
}
