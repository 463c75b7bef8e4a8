import type { AslCase } from './types.js';

const JSONATA = 'Transforming data with JSONata in Step Functions';
const VARIABLES = 'Passing data between states with variables';
const NO_ORACLE = 'aws-local-stepfunctions 3.0.0 has no JSONata mode';

const jsonata = (states: Record<string, unknown>, startAt = Object.keys(states)[0]) => ({ QueryLanguage: 'JSONata', StartAt: startAt, States: states });
const c = (x: Omit<AslCase, 'noOracle'>): AslCase => ({ ...x, noOracle: NO_ORACLE });

export const jsonataCases: AslCase[] = [
  c({ name: 'jsonata-pass-output', doc: `${JSONATA} › Output`, definition: jsonata({ P: { Type: 'Pass', Output: '{% $states.input.a + 1 %}', End: true } }), input: { a: 41 }, output: 42 }),
  c({
    name: 'jsonata-template-literals-and-nesting', doc: `${JSONATA} › Writing JSONata expressions (only whole {% %} strings are evaluated)`,
    definition: jsonata({ P: { Type: 'Pass', Output: { literal: 'a {% not %} b', sum: '{% $sum($states.input.xs) %}', list: ['{% $count($states.input.xs) %}', 'x'] }, End: true } }),
    input: { xs: [1, 2, 3] }, output: { literal: 'a {% not %} b', sum: 6, list: [3, 'x'] },
  }),
  c({
    name: 'jsonata-task-arguments-result', doc: `${JSONATA} › Arguments and $states.result`,
    definition: jsonata({ T: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:double', Arguments: '{% $states.input.n %}', Output: { 'in.$': 'kept literally', doubled: '{% $states.result %}' }, End: true } }),
    input: { n: 5 }, output: { 'in.$': 'kept literally', doubled: 10 },
  }),
  c({
    name: 'jsonata-assign-then-read', doc: `${VARIABLES} › Assign and reading $variable`,
    definition: jsonata({
      A: { Type: 'Pass', Assign: { total: '{% $states.input.price * $states.input.qty %}' }, Next: 'B' },
      B: { Type: 'Pass', Output: { total: '{% $total %}' }, End: true },
    }),
    input: { price: 2.5, qty: 4 }, output: { total: 10 },
  }),
  c({
    name: 'jsonata-assign-sees-old-values', doc: `${VARIABLES} › Evaluation of Assign and Output (both see the values from before the state)`,
    definition: jsonata({
      A: { Type: 'Pass', Assign: { x: 1 }, Next: 'B' },
      B: { Type: 'Pass', Assign: { x: '{% $x + 1 %}' }, Output: { before: '{% $x %}' }, Next: 'C' },
      C: { Type: 'Pass', Output: { before: '{% $states.input.before %}', after: '{% $x %}' }, End: true },
    }),
    input: {}, output: { before: 1, after: 2 },
  }),
  c({
    name: 'jsonata-choice-condition', doc: `${JSONATA} › Choice state Condition`,
    definition: jsonata({
      C: { Type: 'Choice', Choices: [{ Condition: '{% $states.input.n > 10 %}', Next: 'Big' }], Default: 'Small' },
      Big: { Type: 'Pass', Output: 'big', End: true },
      Small: { Type: 'Pass', Output: 'small', End: true },
    }),
    input: { n: 11 }, output: 'big',
  }),
  c({
    name: 'jsonata-choice-rule-assign', doc: `${VARIABLES} › Assign in a Choice rule`,
    definition: jsonata({
      C: { Type: 'Choice', Choices: [{ Condition: '{% $states.input.n > 0 %}', Assign: { sign: 'positive' }, Next: 'Say' }], Default: 'Say', Assign: { sign: 'not positive' } },
      Say: { Type: 'Pass', Output: '{% $sign %}', End: true },
    }),
    input: { n: -3 }, output: 'not positive',
  }),
  c({
    name: 'jsonata-choice-no-match', doc: `${JSONATA} › Choice state; Error names › States.NoChoiceMatched`,
    definition: jsonata({ C: { Type: 'Choice', Choices: [{ Condition: '{% false %}', Next: 'P' }] }, P: { Type: 'Pass', End: true } }), input: {}, error: 'States.NoChoiceMatched',
  }),
  c({
    name: 'jsonata-wait-seconds-expression', doc: `${JSONATA} › Wait state Seconds`,
    definition: jsonata({ W: { Type: 'Wait', Seconds: '{% $states.input.delay * 2 %}', Output: '{% $states.input.delay %}', End: true } }), input: { delay: 30 }, output: 30,
  }),
  c({
    name: 'jsonata-fail-expressions', doc: `${JSONATA} › Fail state Error and Cause`,
    definition: jsonata({ F: { Type: 'Fail', Error: "{% 'Order.' & $states.input.reason %}", Cause: '{% $string($states.input.id) %}' } }),
    input: { reason: 'Rejected', id: 7 }, error: 'Order.Rejected', cause: '7',
  }),
  c({
    name: 'jsonata-catch-error-output', doc: `${JSONATA} › Catch with Output and $states.errorOutput`,
    definition: jsonata({
      T: { Type: 'Task', Resource: 'fail', End: true, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Handled', Output: { failed: '{% $states.errorOutput.Error %}', order: '{% $states.input.id %}' } }] },
      Handled: { Type: 'Pass', End: true },
    }),
    input: { error: 'Declined', id: 9 }, output: { failed: 'Declined', order: 9 },
  }),
  c({
    name: 'jsonata-catch-default-output', doc: `${JSONATA} › Catch (without Output the error output passes on)`,
    definition: jsonata({ T: { Type: 'Task', Resource: 'fail', End: true, Catch: [{ ErrorEquals: ['CustomError'], Next: 'Handled' }] }, Handled: { Type: 'Pass', End: true } }),
    input: { cause: 'nope' }, output: { Error: 'CustomError', Cause: 'nope' },
  }),
  c({
    name: 'jsonata-evaluation-error', doc: `${JSONATA}; Error names › States.QueryEvaluationError`,
    definition: jsonata({ P: { Type: 'Pass', Output: "{% $number('not a number') + $undefinedFunction() %}", End: true } }), input: {}, error: 'States.QueryEvaluationError',
  }),
  c({
    name: 'jsonata-context-object', doc: `${JSONATA} › $states.context`,
    definition: jsonata({ P: { Type: 'Pass', Output: { input: '{% $states.context.Execution.Input %}', state: '{% $states.context.State.Name %}' }, End: true } }, 'P'),
    input: { a: 1 }, output: { input: { a: 1 }, state: 'P' },
  }),
  c({
    name: 'jsonata-retry', doc: `${JSONATA}; Handling errors › Retry (the same in both query languages)`,
    definition: jsonata({ T: { Type: 'Task', Resource: 'flaky', Arguments: { failures: 1 }, Output: '{% $states.result.calls %}', Retry: [{ ErrorEquals: ['Flaky'], MaxAttempts: 2 }], End: true } }),
    input: {}, output: 2,
  }),
];
