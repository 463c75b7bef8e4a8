/**
 * A state's data flow in JSONPath mode, as AWS's "Processing input and output" describes it:
 * InputPath → Parameters → (the state's work) → ResultSelector → ResultPath → OutputPath.
 * Pure functions over plain JSON, shared by the DSL translation and the in-process Map iteration.
 */
import { applyResultPath, selectPath } from './paths.js';
import { applyTemplate } from './templates.js';
import type { AslState } from './types.js';

/** The `$$` context object a state sees. */
export interface AslContext {
  Execution: { Id: string; Name: string; Input: unknown; StartTime: string; RoleArn?: string };
  StateMachine: { Id: string; Name: string };
  State?: { Name: string; EnteredTime: string; RetryCount: number };
  Map?: { Item: { Index: number; Value: unknown } };
  Task?: { Token: string };
}

/** The state's effective input: InputPath, then Parameters. */
export function stateInput(state: AslState, raw: unknown, context: unknown): unknown {
  const selected = selectPath(state.InputPath, raw, 'InputPath');
  return state.Parameters === undefined ? selected : applyTemplate(state.Parameters, selected, context, 'Parameters');
}

/** The state's output from its raw input and its result: ResultSelector, ResultPath, OutputPath. */
export function stateOutput(state: AslState, raw: unknown, result: unknown, context: unknown): unknown {
  const selected = state.ResultSelector === undefined ? result : applyTemplate(state.ResultSelector, result, context, 'ResultSelector');
  return selectPath(state.OutputPath, applyResultPath(raw, state.ResultPath, selected), 'OutputPath');
}

/** A Pass state's output: Result (literal) or the effective input, placed by ResultPath. */
export function passOutput(state: AslState, raw: unknown, context: unknown): unknown {
  const result = state.Result !== undefined ? state.Result : stateInput(state, raw, context);
  return selectPath(state.OutputPath, applyResultPath(raw, state.ResultPath, result), 'OutputPath');
}

/** Choice, Wait and Succeed only filter: OutputPath of InputPath. */
export function filteredOutput(state: AslState, raw: unknown): unknown {
  return selectPath(state.OutputPath, selectPath(state.InputPath, raw, 'InputPath'), 'OutputPath');
}

/** The error output a Catch places at its ResultPath. */
export function errorOutput(error: string, cause: string): { Error: string; Cause: string } {
  return { Error: error, Cause: cause };
}
