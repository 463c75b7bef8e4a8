import type { Clock } from '../core/clock.js';
import { StepwiseError } from '../core/errors.js';
import { ExecutionStatus } from '../core/status.js';
import type { ExecutionCommit, StepState, Store } from '../core/store.js';
import { decodeTrace } from '../core/trace-context.js';
import type { Workflow } from '../dsl/workflow.js';
import { isStoreUnavailable } from '../core/errors.js';
import { restore } from './decide.js';
import { storedTransitions } from './execution-budget.js';
import type { Live } from './draft.js';
import { settleUnapplied, type Input } from './inputs.js';
import type { Ledger } from './ledger.js';
import type { Logger } from './logger.js';
import { HAND_BACK_DELAY_MS } from './previous-runs.js';
import { refKey } from '../core/work-ref.js';

/**
 * Loads every execution of a batch that is not in memory with one store call (one query on
 * PostgreSQL): only the columns a step needs when the store can (a timer burst reads one row per
 * firing, and the input, output and error it would parse are not used), else the whole row.
 */
export async function loadExecutions(store: Store, ids: string[]): Promise<Map<string, StepState>> {
  return store.getStepStates ? store.getStepStates(ids) : store.getExecutions(ids);
}

export interface LoaderDeps {
  store: Store;
  clock: Clock;
  ledger: Ledger;
  log: Logger;
  /** The definition an execution runs on, if this process has that version. */
  workflowVersion(name: string, version: string): Workflow | undefined;
}

/** A batch's executions, ready for the draft step, and those whose inputs could not be applied. */
export interface LoadedBatch {
  ready: Array<{ live: Live; inputs: Input[] }>;
  failed: Array<{ id: string; inputs: Input[]; error: unknown }>;
}

/**
 * Turns a batch of inputs into live states: from the cache (`cached`, asked once per execution),
 * from one batched read of the store, or new (a start). Inputs that cannot apply here are settled on the spot: work rows whose
 * execution is gone are let go, and work of a definition version this process lacks is handed
 * back to the store for a process that has it.
 */
export async function loadBatch(batch: Map<string, Input[]>, cached: (id: string) => Live | undefined, deps: LoaderDeps): Promise<LoadedBatch> {
  const result: LoadedBatch = { ready: [], failed: [] };
  // A start is committed optimistically, without reading first: an id that exists already makes
  // the store refuse the creating commit ('exists'), which settles the start as a read would have.
  // Only ids with other inputs are read (a read is one round trip on PostgreSQL, before the commit).
  const missing: string[] = [];
  const held = new Map<string, Live>();
  for (const [id, inputs] of batch) {
    const live = cached(id);
    if (live) held.set(id, live);
    else if (!inputs.every(isCreate)) missing.push(id);
  }
  const { stored, failed } = missing.length > 0 ? await readMissing(deps.store, missing) : NOTHING_READ;
  for (const [id, inputs] of batch) {
    const live = held.get(id);
    if (live) {
      result.ready.push({ live, inputs });
      continue;
    }
    if (failed.has(id)) {
      result.failed.push({ id, inputs, error: failed.get(id) });
      continue;
    }
    try {
      const loaded = liveFrom(id, stored.get(id), inputs, deps);
      if (loaded) result.ready.push({ live: loaded, inputs });
    } catch (error) {
      result.failed.push({ id, inputs, error });
    }
  }
  return result;
}

const isCreate = (i: Input): boolean => i.kind === 'create';

const NOTHING_READ: { stored: ReadonlyMap<string, StepState>; failed: ReadonlyMap<string, unknown> } = { stored: new Map(), failed: new Map() };

/**
 * One batched read. When it fails for a reason other than a storage fault (a bug, or a row the
 * store refuses), each execution is read alone, so that one cannot stall the others.
 */
async function readMissing(store: Store, ids: string[]): Promise<{ stored: Map<string, StepState>; failed: Map<string, unknown> }> {
  const failed = new Map<string, unknown>();
  try {
    return { stored: await loadExecutions(store, ids), failed };
  } catch (error) {
    if (isStoreUnavailable(error) || ids.length === 1) return { stored: new Map(), failed: new Map(ids.map((id) => [id, error])) };
    const stored = new Map<string, StepState>();
    for (const id of ids) {
      try {
        for (const [key, execution] of await loadExecutions(store, [id])) stored.set(key, execution);
      } catch (alone) {
        failed.set(id, alone);
      }
    }
    return { stored, failed };
  }
}

function liveFrom(id: string, stored: StepState | undefined, inputs: Input[], deps: LoaderDeps): Live | undefined {
  const create = inputs.find((i): i is Extract<Input, { kind: 'create' }> => i.kind === 'create');
  if (!stored && create) {
    // A new execution: the draft's create commit fills in the snapshot.
    const fresh: Live = { id, wf: create.wf, snapshot: undefined, lastSeq: 0, status: ExecutionStatus.RUNNING };
    if (create.trace) fresh.trace = create.trace;
    return fresh;
  }
  if (!stored) {
    // Work rows that outlived their execution: nothing to run; give back what they hold here.
    for (const i of inputs) {
      settleUnapplied(i, new StepwiseError('EXECUTION_NOT_FOUND', `no execution has id '${id}'`));
      if ('work' in i) deps.ledger.unhold(refKey(i.work));
    }
    releaseClaims(inputs, deps.ledger);
    return undefined;
  }
  const wf = deps.workflowVersion(stored.workflow, stored.version);
  if (!wf) {
    deps.log.warn({ executionId: id, workflow: stored.workflow, version: stored.version }, 'definition version not registered here; leaving the work for a process that has it');
    for (const i of inputs) {
      if (i.kind === 'create') i.done.resolve(undefined); // the id exists: the caller compares inputs
      else settleUnapplied(i, new StepwiseError('INTERNAL', `workflow '${stored.workflow}' version ${stored.version} is not registered in this process`));
    }
    releaseClaims(inputs, deps.ledger);
    handBack(stored, inputs, deps);
    return undefined;
  }
  const live: Live = { id, wf, snapshot: undefined, lastSeq: stored.lastSeq, status: stored.status };
  // A spawned child not begun yet has no snapshot: its `start` row begins it from its input.
  if (stored.snapshot === null) live.pending = { input: stored.input };
  else live.snapshot = restore(wf, stored.snapshot);
  const transitions = storedTransitions(stored.snapshot);
  if (transitions !== undefined) live.transitions = transitions;
  if (stored.parent) live.parent = stored.parent;
  if (stored.trace !== undefined) {
    const trace = decodeTrace(stored.trace);
    if (trace) live.trace = trace;
  }
  return live;
}

/** Claims that will not run: their reserved capacity is given back (their leases stay held until let go). */
export function releaseClaims(inputs: Input[], ledger: Ledger): void {
  for (const i of inputs) if (i.kind === 'claimed') ledger.unreserve(refKey(i.work));
}

/**
 * Gives claimed work this process cannot run (its definition version is not registered here)
 * back to the store, unleased and due in a minute, for a process that has the version.
 */
function handBack(stored: StepState, inputs: Input[], deps: LoaderDeps): void {
  const rows = inputs.flatMap((i) => ('work' in i && i.kind !== 'result' ? [i.work] : []));
  if (rows.length === 0) return;
  const dueAt = deps.clock.now() + HAND_BACK_DELAY_MS;
  const commit: ExecutionCommit = {
    executionId: stored.id, expectedSeq: stored.lastSeq, events: [], snapshot: stored.snapshot, status: stored.status,
    // The row as it was (a worker step's queue, a task token's hash, deadlines), unleased and due later.
    schedule: rows.map((w) => {
      const { leaseOwner: _owner, leaseUntil: _until, ...row } = w;
      return { ...row, dueAt };
    }),
  };
  const warn = (detail: object) => deps.log.warn({ executionId: stored.id, ...detail }, 'could not hand work back; it stays leased here until this process stops');
  deps.store.commit([commit]).then(
    ([outcome]) => {
      if (outcome?.ok) for (const w of rows) deps.ledger.unhold(refKey(w));
      else warn({ outcome });
    },
    (error) => warn({ err: (error as Error).message }),
  );
}
