/**
 * Checks an ASL definition before it is translated, the way AWS's ValidateStateMachineDefinition
 * does: a refused definition throws an AslDefinitionError (code INVALID_DEFINITION) whose
 * `state` and `field` name the problem.
 */
import { DefinitionError } from '../core/errors.js';
import { States } from './asl-errors.js';
import { COMPARISON_OPERATORS, TYPE_TESTS } from './choice-rules.js';
import { checkIntrinsic } from './intrinsics.js';
import { looksLikeIntrinsic } from './intrinsics-parser.js';
import { parseReferencePath } from './paths.js';
import type { AslMachine, AslState } from './types.js';
import { checkJsonataState } from './jsonata/validate-jsonata.js';

export class AslDefinitionError extends DefinitionError {
  constructor(
    message: string,
    state?: string,
    readonly field?: string,
  ) {
    super(message, state);
  }
}

const COMMON = ['Type', 'Comment'];
const FLOW = ['Next', 'End'];
const IO = ['InputPath', 'OutputPath'];
const ALLOWED: Record<string, string[]> = {
  Task: [...COMMON, ...FLOW, ...IO, 'Resource', 'Parameters', 'ResultSelector', 'ResultPath', 'TimeoutSeconds', 'HeartbeatSeconds', 'Retry', 'Catch', 'Credentials'],
  Pass: [...COMMON, ...FLOW, ...IO, 'Result', 'ResultPath', 'Parameters'],
  Choice: [...COMMON, ...IO, 'Choices', 'Default'],
  Wait: [...COMMON, ...FLOW, ...IO, 'Seconds', 'Timestamp', 'SecondsPath', 'TimestampPath'],
  Succeed: [...COMMON, ...IO],
  Fail: [...COMMON, 'Error', 'Cause', 'ErrorPath', 'CausePath'],
  Parallel: [...COMMON, ...FLOW, ...IO, 'Branches', 'Parameters', 'ResultSelector', 'ResultPath', 'Retry', 'Catch'],
  Map: [...COMMON, ...FLOW, ...IO, 'ItemsPath', 'ItemSelector', 'Parameters', 'ItemProcessor', 'Iterator', 'MaxConcurrency', 'ResultSelector', 'ResultPath', 'Retry', 'Catch', 'ToleratedFailureCount', 'ToleratedFailurePercentage'],
};
const MAX_NAME = 80;

/** Throws AslDefinitionError for the first problem found; returns the definition typed. */
export function validateAsl(definition: unknown): AslMachine {
  if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) {
    throw new AslDefinitionError('the definition must be a JSON object with StartAt and States');
  }
  const def = definition as Record<string, unknown>;
  if (def.QueryLanguage !== undefined && def.QueryLanguage !== 'JSONPath' && def.QueryLanguage !== 'JSONata') {
    throw new AslDefinitionError(`QueryLanguage must be 'JSONPath' or 'JSONata', not '${String(def.QueryLanguage)}'`, undefined, 'QueryLanguage');
  }
  checkMachine(def, '', def.QueryLanguage === 'JSONata' ? checkJsonataState : checkState);
  if (def.TimeoutSeconds !== undefined) positiveInt(def.TimeoutSeconds, undefined, 'TimeoutSeconds');
  return def as unknown as AslMachine;
}

export function fail(message: string, state?: string, field?: string): never {
  const where = state === undefined ? '' : field ? `state '${state}', field '${field}': ` : `state '${state}': `;
  throw new AslDefinitionError(`${where}${message}`, state, field);
}

export function positiveInt(v: unknown, state: string | undefined, field: string, min = 1): void {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > 99_999_999) fail(`must be an integer from ${min} to 99999999`, state, field);
}

type StateChecker = (name: string, state: AslState, states: Record<string, AslState>) => void;

export function checkMachine(machine: Record<string, unknown>, where: string, check: StateChecker = checkState): void {
  const states = machine.States as Record<string, AslState> | undefined;
  if (states === null || typeof states !== 'object' || Array.isArray(states) || Object.keys(states).length === 0) {
    fail(`${where}States must be an object holding at least one state`, undefined, 'States');
  }
  if (typeof machine.StartAt !== 'string' || !(machine.StartAt in states)) {
    fail(`${where}StartAt '${String(machine.StartAt)}' names no state`, undefined, 'StartAt');
  }
  for (const [name, state] of Object.entries(states)) check(name, state, states);
  // AWS refuses a state no path reaches.
  const reached = new Set<string>();
  const visit = (name: string) => {
    if (reached.has(name)) return;
    reached.add(name);
    const s = states[name];
    for (const next of [s.Next, s.Default, ...(s.Choices ?? []).map((c) => c.Next), ...(s.Catch ?? []).map((c) => c.Next)]) {
      if (typeof next === 'string') visit(next);
    }
  };
  visit(machine.StartAt as string);
  for (const name of Object.keys(states)) if (!reached.has(name)) fail('no transition reaches this state', name);
}

export function checkTarget(target: unknown, states: Record<string, AslState>, state: string, field: string): void {
  if (typeof target !== 'string' || !(target in states)) fail(`'${String(target)}' names no state in the same scope`, state, field);
}

function checkPath(value: unknown, state: string, field: string, nullable = true): void {
  if (value === undefined || (value === null && nullable)) return;
  if (typeof value !== 'string' || !value.startsWith('$')) fail('must be a JSONPath starting with $', state, field);
}

function checkTemplate(template: unknown, state: string, field: string): void {
  if (Array.isArray(template)) return template.forEach((t) => checkTemplate(t, state, field));
  if (template === null || typeof template !== 'object') return;
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) {
      if (typeof value !== 'string') fail(`'${key}' must hold a path or an intrinsic function`, state, field);
      if (looksLikeIntrinsic(value)) {
        try {
          checkIntrinsic(value);
        } catch (error) {
          fail((error as Error).message, state, field);
        }
      } else if (!value.startsWith('$')) fail(`'${key}' must hold a path or an intrinsic function, got '${value}'`, state, field);
    } else checkTemplate(value, state, field);
  }
}

export function checkErrorEquals(list: unknown, state: string, field: string, isLast: boolean): void {
  if (!Array.isArray(list) || list.length === 0 || !list.every((e) => typeof e === 'string' && e.length > 0)) {
    fail('ErrorEquals must be a non-empty list of error names', state, field);
  }
  if (list.includes(States.ALL) && (list.length > 1 || !isLast)) fail(`${States.ALL} must appear alone, in the last rule`, state, field);
}

function checkState(name: string, state: AslState, states: Record<string, AslState>): void {
  if (name.length === 0 || name.length > MAX_NAME) fail(`a state name must have 1 to ${MAX_NAME} characters`, name);
  if (state === null || typeof state !== 'object') fail('must be an object', name);
  const allowed = ALLOWED[state.Type as string];
  if (!allowed) fail(`Type '${String(state.Type)}' is not one of ${Object.keys(ALLOWED).join(', ')}`, name, 'Type');
  for (const key of Object.keys(state)) if (!allowed.includes(key)) fail(`the field is not supported by ${state.Type} states`, name, key);
  const terminal = state.Type === 'Choice' || state.Type === 'Succeed' || state.Type === 'Fail';
  if (!terminal) {
    if (state.End !== undefined && state.End !== true) fail('End must be true when present', name, 'End');
    if ((state.Next === undefined) === (state.End === undefined)) fail('a state needs exactly one of Next or End', name, 'Next');
    if (state.Next !== undefined) checkTarget(state.Next, states, name, 'Next');
  }
  for (const f of ['InputPath', 'OutputPath'] as const) checkPath(state[f], name, f);
  if (state.ResultPath !== undefined && state.ResultPath !== null) {
    try {
      parseReferencePath(String(state.ResultPath));
    } catch (error) {
      fail((error as Error).message, name, 'ResultPath');
    }
  }
  for (const f of ['Parameters', 'ResultSelector', 'ItemSelector'] as const) checkTemplate(state[f], name, f);
  if (state.Retry !== undefined) {
    if (!Array.isArray(state.Retry)) fail('must be a list', name, 'Retry');
    state.Retry.forEach((r, i) => {
      checkErrorEquals(r?.ErrorEquals, name, `Retry[${i}].ErrorEquals`, i === state.Retry!.length - 1);
      if (r.IntervalSeconds !== undefined) positiveInt(r.IntervalSeconds, name, `Retry[${i}].IntervalSeconds`);
      if (r.MaxAttempts !== undefined) positiveInt(r.MaxAttempts, name, `Retry[${i}].MaxAttempts`, 0);
      if (r.MaxDelaySeconds !== undefined) positiveInt(r.MaxDelaySeconds, name, `Retry[${i}].MaxDelaySeconds`);
      if (r.BackoffRate !== undefined && !(typeof r.BackoffRate === 'number' && r.BackoffRate >= 1)) fail('must be a number >= 1.0', name, `Retry[${i}].BackoffRate`);
      if (r.JitterStrategy !== undefined && r.JitterStrategy !== 'FULL' && r.JitterStrategy !== 'NONE') fail("must be 'FULL' or 'NONE'", name, `Retry[${i}].JitterStrategy`);
    });
  }
  if (state.Catch !== undefined) {
    if (!Array.isArray(state.Catch)) fail('must be a list', name, 'Catch');
    state.Catch.forEach((c, i) => {
      checkErrorEquals(c?.ErrorEquals, name, `Catch[${i}].ErrorEquals`, i === state.Catch!.length - 1);
      checkTarget(c.Next, states, name, `Catch[${i}].Next`);
      if (c.ResultPath !== undefined && c.ResultPath !== null) {
        try {
          parseReferencePath(String(c.ResultPath));
        } catch (error) {
          fail((error as Error).message, name, `Catch[${i}].ResultPath`);
        }
      }
    });
  }
  switch (state.Type) {
    case 'Task':
      if (typeof state.Resource !== 'string' || state.Resource.length === 0) fail('a Task needs a Resource', name, 'Resource');
      if (state.TimeoutSeconds !== undefined) positiveInt(state.TimeoutSeconds, name, 'TimeoutSeconds');
      if (state.HeartbeatSeconds !== undefined) {
        positiveInt(state.HeartbeatSeconds, name, 'HeartbeatSeconds');
        if (state.TimeoutSeconds !== undefined && state.HeartbeatSeconds >= state.TimeoutSeconds) fail('must be smaller than TimeoutSeconds', name, 'HeartbeatSeconds');
      }
      break;
    case 'Choice':
      if (!Array.isArray(state.Choices) || state.Choices.length === 0) fail('a Choice needs a non-empty Choices list', name, 'Choices');
      state.Choices.forEach((rule, i) => {
        checkRule(rule, name, `Choices[${i}]`, true);
        checkTarget(rule.Next, states, name, `Choices[${i}].Next`);
      });
      if (state.Default !== undefined) checkTarget(state.Default, states, name, 'Default');
      break;
    case 'Wait': {
      const given = (['Seconds', 'Timestamp', 'SecondsPath', 'TimestampPath'] as const).filter((f) => state[f] !== undefined);
      if (given.length !== 1) fail('a Wait needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath', name, given[1] ?? 'Seconds');
      if (state.Seconds !== undefined) positiveInt(state.Seconds, name, 'Seconds', 0);
      if (state.Timestamp !== undefined && (typeof state.Timestamp !== 'string' || Number.isNaN(Date.parse(state.Timestamp)))) fail('must be an ISO-8601 timestamp', name, 'Timestamp');
      checkPath(state.SecondsPath, name, 'SecondsPath', false);
      checkPath(state.TimestampPath, name, 'TimestampPath', false);
      break;
    }
    case 'Fail':
      for (const f of ['Error', 'Cause'] as const) if (state[f] !== undefined && typeof state[f] !== 'string') fail('must be a string', name, f);
      if (state.Error !== undefined && state.ErrorPath !== undefined) fail('give Error or ErrorPath, not both', name, 'ErrorPath');
      if (state.Cause !== undefined && state.CausePath !== undefined) fail('give Cause or CausePath, not both', name, 'CausePath');
      break;
    case 'Parallel':
      if (!Array.isArray(state.Branches) || state.Branches.length === 0) fail('a Parallel needs a non-empty Branches list', name, 'Branches');
      state.Branches.forEach((b, i) => checkMachine(b as unknown as Record<string, unknown>, `Branches[${i}]: `));
      break;
    case 'Map': {
      const processor = state.ItemProcessor ?? state.Iterator;
      if (!processor || typeof processor !== 'object') fail('a Map needs an ItemProcessor', name, 'ItemProcessor');
      const mode = state.ItemProcessor?.ProcessorConfig?.Mode;
      if (mode !== undefined && mode !== 'INLINE') fail(`ProcessorConfig.Mode '${mode}' is not supported (only INLINE)`, name, 'ItemProcessor');
      const { ProcessorConfig: _config, ...machine } = processor as AslMachine & { ProcessorConfig?: unknown };
      checkMachine(machine as unknown as Record<string, unknown>, 'ItemProcessor: ');
      checkPath(state.ItemsPath, name, 'ItemsPath', false);
      if (state.MaxConcurrency !== undefined) positiveInt(state.MaxConcurrency, name, 'MaxConcurrency', 0);
      if (state.ToleratedFailureCount !== undefined) positiveInt(state.ToleratedFailureCount, name, 'ToleratedFailureCount', 0);
      const pct = state.ToleratedFailurePercentage;
      if (pct !== undefined && !(typeof pct === 'number' && pct >= 0 && pct <= 100)) fail('must be a number from 0 to 100', name, 'ToleratedFailurePercentage');
      if (state.Parameters !== undefined && state.ItemSelector !== undefined) fail('give ItemSelector or Parameters, not both', name, 'Parameters');
      break;
    }
    default:
      break;
  }
}

function checkRule(rule: Record<string, unknown>, state: string, field: string, top: boolean): void {
  if (rule === null || typeof rule !== 'object') fail('a choice rule must be an object', state, field);
  const keys = Object.keys(rule).filter((k) => k !== 'Next' && k !== 'Comment');
  if (top && typeof rule.Next !== 'string') fail('a top-level choice rule needs Next', state, `${field}.Next`);
  if (!top && 'Next' in rule) fail('a nested choice rule must not have Next', state, `${field}.Next`);
  if ('And' in rule || 'Or' in rule) {
    const op = 'And' in rule ? 'And' : 'Or';
    const list = rule[op];
    if (keys.length !== 1 || !Array.isArray(list) || list.length === 0) fail(`${op} must be the rule's only operator and hold a non-empty list`, state, `${field}.${op}`);
    list.forEach((r, i) => checkRule(r as Record<string, unknown>, state, `${field}.${op}[${i}]`, false));
    return;
  }
  if ('Not' in rule) {
    if (keys.length !== 1) fail("Not must be the rule's only operator", state, `${field}.Not`);
    return checkRule(rule.Not as Record<string, unknown>, state, `${field}.Not`, false);
  }
  if (typeof rule.Variable !== 'string' || !rule.Variable.startsWith('$')) fail('a comparison needs a Variable path', state, `${field}.Variable`);
  const operators = keys.filter((k) => k !== 'Variable');
  if (operators.length !== 1) fail('a comparison needs exactly one operator', state, field);
  const op = operators[0];
  const value = rule[op];
  if (TYPE_TESTS.includes(op)) {
    if (typeof value !== 'boolean') fail('must be true or false', state, `${field}.${op}`);
  } else if (!COMPARISON_OPERATORS.includes(op)) {
    fail(`'${op}' is not a comparison operator`, state, `${field}.${op}`);
  } else if (op.endsWith('Path')) {
    checkPath(value, state, `${field}.${op}`, false);
  } else {
    const kind = op.startsWith('Numeric') ? 'number' : op.startsWith('Boolean') ? 'boolean' : 'string';
    if (typeof value !== kind) fail(`must be a ${kind}`, state, `${field}.${op}`);
    if (op.startsWith('Timestamp') && Number.isNaN(Date.parse(value as string))) fail('must be an ISO-8601 timestamp', state, `${field}.${op}`);
  }
}
