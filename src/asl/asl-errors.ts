/**
 * ASL's predefined error names, how they line up with the codes Stepwise's engine assigns, and
 * the error a state raises while processing its data (paths, templates, intrinsic functions).
 */

export const States = {
  ALL: 'States.ALL',
  TaskFailed: 'States.TaskFailed',
  Timeout: 'States.Timeout',
  HeartbeatTimeout: 'States.HeartbeatTimeout',
  Runtime: 'States.Runtime',
  DataLimitExceeded: 'States.DataLimitExceeded',
  ParameterPathFailure: 'States.ParameterPathFailure',
  ResultPathMatchFailure: 'States.ResultPathMatchFailure',
  IntrinsicFailure: 'States.IntrinsicFailure',
  NoChoiceMatched: 'States.NoChoiceMatched',
  BranchFailed: 'States.BranchFailed',
  ExceedToleratedFailureThreshold: 'States.ExceedToleratedFailureThreshold',
  ItemReaderFailed: 'States.ItemReaderFailed',
  Permissions: 'States.Permissions',
  QueryEvaluationError: 'States.QueryEvaluationError',
} as const;

/** Engine codes that mean an ASL predefined error. */
const ENGINE_ALIASES: Record<string, string> = {
  'Stepwise.Timeout': States.Timeout,
  'Stepwise.OutputTooLarge': States.DataLimitExceeded,
  'Stepwise.HeartbeatTimeout': States.HeartbeatTimeout,
};

/**
 * The ASL name of a stored step error ('Stepwise.Timeout' → 'States.Timeout'). A transform that
 * the engine ran in the machine fails with Stepwise.ExpressionFailed; the translation puts the
 * ASL name first in its message (see `inMachine` in translate.ts), and this reads it back.
 */
export function aslErrorName(code: string, message = ''): string {
  if (code === 'Stepwise.ExpressionFailed') {
    const m = /^(States\.[A-Za-z]+): /.exec(message);
    if (m) return m[1];
  }
  return ENGINE_ALIASES[code] ?? code;
}

/** Errors that `States.ALL` does not match (AWS: "a retry or catch on States.ALL won't catch them"). */
const NOT_MATCHED_BY_ALL = new Set<string>([States.Runtime, States.DataLimitExceeded]);

/** Whether an ASL ErrorEquals list matches the ASL error name `error` (AWS's matching rules). */
export function errorEqualsMatches(errorEquals: readonly string[], error: string): boolean {
  if (errorEquals.includes(error)) return true;
  if (errorEquals.includes(States.ALL)) return !NOT_MATCHED_BY_ALL.has(error);
  if (errorEquals.includes(States.TaskFailed)) return !NOT_MATCHED_BY_ALL.has(error) && error !== States.Timeout && error !== States.HeartbeatTimeout;
  return false;
}

/**
 * Error codes that the DSL's `'*'` would match but ASL's wildcards must not, or that the engine
 * spells differently: retry and catch lists put explicit rules for these first (see rules.ts).
 */
export const SPECIAL_CODES = ['Stepwise.Timeout', States.Timeout, 'Stepwise.HeartbeatTimeout', 'Stepwise.OutputTooLarge', States.DataLimitExceeded, States.Runtime] as const;

/** An error raised while a state processes its data; `name` is the ASL error name retry and catch match. */
export class AslRuntimeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}
