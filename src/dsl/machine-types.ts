import type { StepError } from '../core/errors.js';

/** A completed step that has a compensation, kept until the execution ends. */
export interface CompletedStep {
  key: string;
  step: string;
  compensation: string;
  input: unknown;
  output: unknown;
}

/** A map state's progress; `progress[i]` is '.' pending, 'r' running or 'd' done. */
export interface MapProgress {
  items: unknown[];
  results: unknown[];
  progress: string;
}

/** An event kept in an execution's mailbox until a waitForEvent state takes it. */
export interface MailboxEvent {
  id: string;
  name: string;
  /** Set by a correlated delivery (POST /v1/events): only a wait with this key takes it. */
  key?: string;
  payload: unknown;
}

/** The machine's context. Plain JSON: it is the persisted snapshot's payload. */
export interface WorkflowContext {
  /** Data by scope: '' is the root sequence, 'P/i' branch i of parallel P. */
  data: Record<string, unknown>;
  /** Failed attempts so far, by step key (compensations under 'comp:<key>'). */
  attempts: Record<string, number>;
  /** How many times each state was entered; a loop's second visit gets new step keys. */
  visits: Record<string, number>;
  completed: CompletedStep[];
  /** The compensation stack while compensating; the last entry runs next. */
  compensating: CompletedStep[];
  maps: Record<string, MapProgress>;
  /** Due instructions for the wait state being entered, by key. */
  timers: Record<string, { durationMs?: number; until?: number }>;
  /** States entered in a row without waiting (see `spin` in compile/entry-actions.ts): a loop that never waits is stopped. */
  spins: number;
  /** The result of evaluating a choice, by state. */
  choice: Record<string, number>;
  /**
   * Errors raised while entering a state (a choice rule, transform or itemsPath that threw, a
   * fail state, an endless loop), by state: each state routes its own, like a step failure.
   */
  faults: Record<string, StepError>;
  error: StepError | null;
  output: unknown;
  cancelled: boolean;
  compensationFailures: Array<{ step: string; compensation: string; error: StepError }>;
  /**
   * Events delivered and not yet consumed, in arrival order. Optional fields below are absent
   * from snapshots written before they existed, and from executions that never used them.
   */
  mailbox?: MailboxEvent[];
  /** Ids of every event delivered (consumed or not): a repeated id changes nothing. */
  received?: string[];
  /** The correlation key of each waitForEvent state being waited in, by step key. */
  eventKeys?: Record<string, string>;
  /** The last error a catch route took: the state that raised it and where the route went. */
  caught?: { state: string; next: string } | null;
  /** The state a redrive re-enters: the one whose failure ended the execution. */
  failedAt?: string | null;
  /** The failure was held for redrive: no compensation ran. */
  held?: boolean;
  /** Compensations ran (or were due to run) for a failure: a redrive is refused. */
  compensated?: boolean;
  /** How many times the execution was redriven. */
  redrives?: number;
}

/** Events the engine sends into the machine. Each one is also a history event, so replay is possible. */
export type WorkflowEvent =
  | { type: 'STEP_SUCCEEDED'; key: string; output: unknown }
  | { type: 'STEP_FAILED'; key: string; error: StepError }
  | { type: 'TIMER_FIRED'; key: string }
  | { type: 'COMPENSATION_SUCCEEDED'; key: string }
  | { type: 'COMPENSATION_FAILED'; key: string; error: StepError }
  | { type: 'CANCEL' }
  /** The engine found the execution past its budget (a BudgetExceeded history event): it fails, compensating. */
  | { type: 'BUDGET_EXCEEDED'; error: StepError }
  | { type: 'EVENT_RECEIVED'; id: string; name: string; correlation?: string; payload: unknown }
  | { type: 'REDRIVE' };

/** What the machine asks for, as data. The engine turns commands into history events and work rows. */
export type WorkflowCommand =
  | { type: 'runTask'; params: { key: string; step: string; index?: number } }
  | { type: 'retryTask'; params: { key: string; step: string; index?: number; attempt: number; policy: number } }
  | { type: 'startTimer'; params: { key: string; step: string; durationMs?: number; until?: number } }
  | { type: 'cancelWork'; params: { kind: 'task' | 'timer'; keys: string[] } }
  | { type: 'entered'; params: { step: string } }
  | { type: 'eventConsumed'; params: { key: string; step: string; id: string; name: string; payload: unknown } }
  | { type: 'runCompensation'; params: { key: string; step: string; compensation: string } }
  | { type: 'retryCompensation'; params: { key: string; step: string; compensation: string; attempt: number; policy: number } };

export const COMMAND_TYPES = new Set<WorkflowCommand['type']>([
  'runTask', 'retryTask', 'startTimer', 'cancelWork', 'entered', 'runCompensation', 'retryCompensation', 'eventConsumed',
]);

/** Final states of every compiled machine. */
export const FINAL = { succeeded: '$succeeded', failed: '$failed', cancelled: '$cancelled' } as const;

/** The step key of a state's current visit (and map item). */
export function stepKey(step: string, visit: number, index?: number): string {
  const base = visit > 1 ? `${step}#${visit}` : step;
  return index === undefined ? base : `${base}[${index}]`;
}

/** Splits a step key back into its state name, visit and map index. */
export function parseStepKey(key: string): Readonly<{ step: string; visit: number; index?: number }> {
  // A step's key is parsed several times a step (draft, launch, claim checks): memoised, read only.
  let parsed = parsedKeys.get(key);
  if (parsed) return parsed;
  const m = /^([A-Za-z][A-Za-z0-9_-]*)(?:#(\d+))?(?:\[(\d+)\])?$/.exec(key);
  parsed = m ? { step: m[1], visit: m[2] ? Number(m[2]) : 1 } : { step: key, visit: 1 };
  if (m?.[3] !== undefined) parsed.index = Number(m[3]);
  if (parsedKeys.size >= MAX_PARSED_KEYS) parsedKeys.clear(); // map items can bring many keys
  parsedKeys.set(key, parsed);
  return parsed;
}

const MAX_PARSED_KEYS = 10_000;
const parsedKeys = new Map<string, { step: string; visit: number; index?: number }>();
