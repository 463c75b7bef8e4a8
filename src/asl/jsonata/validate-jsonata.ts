/**
 * Definition checks for states in JSONata mode (top-level `QueryLanguage: "JSONata"`): the
 * fields JSONata states take (Arguments, Output, Assign, Condition, ...) instead of the JSONPath
 * ones, and every `{% %}` expression must parse. Parallel and Map are not translated in JSONata
 * mode yet and are refused with a message that says so.
 */
import type { AslState } from '../types.js';
import { checkErrorEquals, checkTarget, fail, positiveInt } from '../validate.js';
import { checkExpression, expressionOf, expressionsIn } from './evaluate.js';

const COMMON = ['Type', 'Comment', 'QueryLanguage'];
const FLOW = ['Next', 'End'];
const ALLOWED: Record<string, string[]> = {
  Task: [...COMMON, ...FLOW, 'Resource', 'Arguments', 'Output', 'Assign', 'TimeoutSeconds', 'HeartbeatSeconds', 'Retry', 'Catch', 'Credentials'],
  Pass: [...COMMON, ...FLOW, 'Output', 'Assign'],
  Choice: [...COMMON, 'Choices', 'Default', 'Output', 'Assign'],
  Wait: [...COMMON, ...FLOW, 'Seconds', 'Timestamp', 'Output', 'Assign'],
  Succeed: [...COMMON, 'Output'],
  Fail: [...COMMON, 'Error', 'Cause'],
};
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]{0,79}$/;

function checkExpressions(template: unknown, state: string, field: string): void {
  for (const expression of expressionsIn(template)) {
    try {
      checkExpression(expression);
    } catch (error) {
      fail(`invalid JSONata expression: ${(error as Error).message}`, state, field);
    }
  }
}

function checkAssign(assign: unknown, state: string, field: string): void {
  if (assign === undefined) return;
  if (assign === null || typeof assign !== 'object' || Array.isArray(assign)) fail('Assign must be an object of variable names', state, field);
  for (const key of Object.keys(assign)) if (!VARIABLE.test(key)) fail(`'${key}' is not a variable name`, state, field);
  checkExpressions(assign, state, field);
}

export function checkJsonataState(name: string, state: AslState, states: Record<string, AslState>): void {
  if (state === null || typeof state !== 'object') fail('must be an object', name);
  const s = state as AslState & Record<string, unknown>;
  if (s.Type === 'Parallel' || s.Type === 'Map') fail(`${s.Type} states are not supported in JSONata mode yet (use JSONPath)`, name, 'Type');
  const allowed = ALLOWED[s.Type as string];
  if (!allowed) fail(`Type '${String(s.Type)}' is not one of ${[...Object.keys(ALLOWED), 'Parallel', 'Map'].join(', ')}`, name, 'Type');
  for (const key of Object.keys(s)) if (!allowed.includes(key)) fail(`the field is not supported by ${s.Type} states in JSONata mode`, name, key);
  if (s.QueryLanguage !== undefined && s.QueryLanguage !== 'JSONata') fail('mixing query languages in one definition is not supported yet', name, 'QueryLanguage');
  if (s.Type !== 'Choice' && s.Type !== 'Succeed' && s.Type !== 'Fail') {
    if ((s.Next === undefined) === (s.End === undefined)) fail('a state needs exactly one of Next or End', name, 'Next');
    if (s.End !== undefined && s.End !== true) fail('End must be true when present', name, 'End');
    if (s.Next !== undefined) checkTarget(s.Next, states, name, 'Next');
  }
  for (const field of ['Arguments', 'Output', 'Error', 'Cause']) checkExpressions(s[field], name, field);
  checkAssign(s.Assign, name, 'Assign');
  (s.Retry ?? []).forEach((r, i) => checkErrorEquals(r?.ErrorEquals, name, `Retry[${i}].ErrorEquals`, i === s.Retry!.length - 1));
  (s.Catch ?? []).forEach((c, i) => {
    checkErrorEquals(c?.ErrorEquals, name, `Catch[${i}].ErrorEquals`, i === s.Catch!.length - 1);
    checkTarget(c.Next, states, name, `Catch[${i}].Next`);
    for (const key of Object.keys(c)) if (!['ErrorEquals', 'Next', 'Output', 'Assign', 'Comment'].includes(key)) fail('the field is not supported in JSONata mode', name, `Catch[${i}].${key}`);
    checkExpressions(c.Output, name, `Catch[${i}].Output`);
    checkAssign(c.Assign, name, `Catch[${i}].Assign`);
  });
  if (s.Type === 'Task') {
    if (typeof s.Resource !== 'string' || s.Resource.length === 0) fail('a Task needs a Resource', name, 'Resource');
    if (s.TimeoutSeconds !== undefined) positiveInt(s.TimeoutSeconds, name, 'TimeoutSeconds');
  }
  if (s.Type === 'Choice') {
    if (!Array.isArray(s.Choices) || s.Choices.length === 0) fail('a Choice needs a non-empty Choices list', name, 'Choices');
    s.Choices.forEach((rule, i) => {
      if (expressionOf(rule?.Condition) === undefined) fail('a JSONata choice rule needs a Condition written as {% ... %}', name, `Choices[${i}].Condition`);
      checkExpressions(rule.Condition, name, `Choices[${i}].Condition`);
      checkExpressions(rule.Output, name, `Choices[${i}].Output`);
      checkAssign(rule.Assign, name, `Choices[${i}].Assign`);
      checkTarget(rule.Next, states, name, `Choices[${i}].Next`);
      for (const key of Object.keys(rule)) if (!['Condition', 'Next', 'Output', 'Assign', 'Comment'].includes(key)) fail('the field is not supported in JSONata mode', name, `Choices[${i}].${key}`);
    });
    if (s.Default !== undefined) checkTarget(s.Default, states, name, 'Default');
  }
  if (s.Type === 'Wait') {
    const given = (['Seconds', 'Timestamp'] as const).filter((f) => s[f] !== undefined);
    if (given.length !== 1) fail('a Wait needs exactly one of Seconds or Timestamp', name, given[1] ?? 'Seconds');
    if (s.Seconds !== undefined && expressionOf(s.Seconds) === undefined) positiveInt(s.Seconds, name, 'Seconds', 0);
    checkExpressions(s.Seconds, name, 'Seconds');
    checkExpressions(s.Timestamp, name, 'Timestamp');
  }
}
