import { choice, single, type AslCase } from './types.js';

const CHOICE = 'Choice state › Choice Rules';
const m = (name: string, rule: Record<string, unknown>, input: unknown, output: 'matched' | 'default'): AslCase => ({
  name: `choice-${name}`, doc: CHOICE, definition: choice(rule), input, output,
});

export const choiceCases: AslCase[] = [
  m('string-equals', { Variable: '$.s', StringEquals: 'abc' }, { s: 'abc' }, 'matched'),
  m('string-equals-type-mismatch', { Variable: '$.s', StringEquals: '1' }, { s: 1 }, 'default'),
  m('string-less-than', { Variable: '$.s', StringLessThan: 'b' }, { s: 'a' }, 'matched'),
  m('string-matches', { Variable: '$.f', StringMatches: 'log-*.txt' }, { f: 'log-2024.txt' }, 'matched'),
  m('string-matches-escaped-star', { Variable: '$.f', StringMatches: 'a\\*b' }, { f: 'axxb' }, 'default'),
  m('numeric-equals', { Variable: '$.n', NumericEquals: 3 }, { n: 3 }, 'matched'),
  m('numeric-greater-than-equals', { Variable: '$.n', NumericGreaterThanEquals: 3 }, { n: 2.5 }, 'default'),
  m('numeric-less-than-path', { Variable: '$.n', NumericLessThanPath: '$.limit' }, { n: 2, limit: 3 }, 'matched'),
  m('boolean-equals', { Variable: '$.ok', BooleanEquals: true }, { ok: true }, 'matched'),
  m('timestamp-less-than', { Variable: '$.t', TimestampLessThan: '2020-01-01T00:00:00Z' }, { t: '2019-06-01T12:00:00Z' }, 'matched'),
  m('string-equals-path', { Variable: '$.a', StringEqualsPath: '$.b' }, { a: 'x', b: 'x' }, 'matched'),
  m('and', { And: [{ Variable: '$.n', NumericGreaterThan: 1 }, { Variable: '$.n', NumericLessThan: 5 }] }, { n: 3 }, 'matched'),
  m('or', { Or: [{ Variable: '$.n', NumericEquals: 1 }, { Variable: '$.n', NumericEquals: 2 }] }, { n: 3 }, 'default'),
  m('not', { Not: { Variable: '$.s', StringEquals: 'x' } }, { s: 'y' }, 'matched'),
  m('is-present-false', { Variable: '$.missing', IsPresent: false }, {}, 'matched'),
  m('is-null', { Variable: '$.v', IsNull: true }, { v: null }, 'matched'),
  m('is-numeric', { Variable: '$.v', IsNumeric: true }, { v: '1' }, 'default'),
  m('is-timestamp', { Variable: '$.v', IsTimestamp: true }, { v: '2024-02-29T10:00:00Z' }, 'matched'),
  {
    name: 'choice-first-match-wins', doc: CHOICE, input: { n: 10 }, output: 'first',
    definition: {
      StartAt: 'C',
      States: {
        C: { Type: 'Choice', Choices: [{ Variable: '$.n', NumericGreaterThan: 5, Next: 'First' }, { Variable: '$.n', NumericGreaterThan: 1, Next: 'Second' }] },
        First: { Type: 'Pass', Result: 'first', End: true },
        Second: { Type: 'Pass', Result: 'second', End: true },
      },
    },
  },
  {
    name: 'choice-no-match-no-default', doc: 'Choice state; Error names › States.NoChoiceMatched', input: { n: 0 }, error: 'States.NoChoiceMatched',
    definition: { StartAt: 'C', States: { C: { Type: 'Choice', Choices: [{ Variable: '$.n', NumericEquals: 1, Next: 'P' }] }, P: { Type: 'Pass', End: true } } },
  },
  {
    name: 'choice-missing-variable', doc: 'Choice state (a Variable that matches nothing is a runtime error)', input: {}, error: 'States.Runtime',
    definition: choice({ Variable: '$.missing', NumericEquals: 1 }),
  },
  {
    name: 'choice-input-output-path', doc: 'Choice state › InputPath and OutputPath', input: { inner: { n: 1, keep: 'y' }, drop: 1 }, output: { n: 1, keep: 'y' },
    definition: {
      StartAt: 'C',
      States: {
        C: { Type: 'Choice', InputPath: '$.inner', Choices: [{ Variable: '$.n', NumericEquals: 1, Next: 'Out' }], Default: 'Out' },
        Out: { Type: 'Pass', End: true },
      },
    },
  },
];

export const stateCases: AslCase[] = [
  { name: 'pass-result-resultpath', doc: 'Pass state › Result and ResultPath', definition: single({ Type: 'Pass', Result: { x: 1 }, ResultPath: '$.r' }), input: { a: 1 }, output: { a: 1, r: { x: 1 } } },
  { name: 'pass-through', doc: 'Pass state (no Result: input to output)', definition: single({ Type: 'Pass' }), input: { a: [1, 2] }, output: { a: [1, 2] } },
  { name: 'succeed-outputpath', doc: 'Succeed state › InputPath and OutputPath', definition: single({ Type: 'Succeed', OutputPath: '$.a' }), input: { a: { b: 1 } }, output: { b: 1 } },
  { name: 'fail-error-cause', doc: 'Fail state › Error and Cause', definition: single({ Type: 'Fail', Error: 'ErrorA', Cause: 'Kaiju attack' }), input: {}, error: 'ErrorA', cause: 'Kaiju attack' },
  {
    name: 'fail-error-path', doc: 'Fail state › ErrorPath and CausePath', definition: single({ Type: 'Fail', ErrorPath: '$.e', CausePath: '$.c' }),
    input: { e: 'Dynamic', c: 'from input' }, error: 'Dynamic', cause: 'from input',
  },
  { name: 'wait-seconds', doc: 'Wait state › Seconds', definition: single({ Type: 'Wait', Seconds: 10 }), input: { a: 1 }, output: { a: 1 } },
  { name: 'wait-seconds-path', doc: 'Wait state › SecondsPath', definition: single({ Type: 'Wait', SecondsPath: '$.delay' }), input: { delay: 30 }, output: { delay: 30 } },
  { name: 'wait-timestamp', doc: 'Wait state › Timestamp', definition: single({ Type: 'Wait', Timestamp: '2016-03-14T01:59:00Z' }), input: { a: 1 }, output: { a: 1 } },
  { name: 'wait-timestamp-path', doc: 'Wait state › TimestampPath', definition: single({ Type: 'Wait', TimestampPath: '$.at' }), input: { at: '2016-03-14T01:59:00Z' }, output: { at: '2016-03-14T01:59:00Z' } },
  { name: 'wait-seconds-path-not-number', doc: 'Wait state › SecondsPath (must select a number)', definition: single({ Type: 'Wait', SecondsPath: '$.delay' }), input: { delay: 'soon' }, error: 'States.Runtime' },
  {
    name: 'parallel-results-in-branch-order', doc: 'Parallel state › output is an array of branch outputs', input: { n: 3 }, output: { n: 3, out: [6, 'b'] },
    definition: single({
      Type: 'Parallel', ResultPath: '$.out',
      Branches: [
        { StartAt: 'D', States: { D: { Type: 'Task', Resource: 'double', InputPath: '$.n', End: true } } },
        { StartAt: 'B', States: { B: { Type: 'Pass', Result: 'b', End: true } } },
      ],
    }),
  },
  {
    name: 'parallel-parameters-resultselector', doc: 'Parallel state › Parameters and ResultSelector', input: { n: 2 }, output: { first: 4 },
    definition: single({
      Type: 'Parallel', Parameters: { 'x.$': '$.n' }, ResultSelector: { 'first.$': '$[0]' },
      Branches: [{ StartAt: 'D', States: { D: { Type: 'Task', Resource: 'double', InputPath: '$.x', End: true } } }],
    }),
  },
  {
    name: 'parallel-branch-multi-state', doc: 'Parallel state › Branches (each a state machine)', input: 5, output: [['big', 10]],
    definition: single({
      Type: 'Parallel',
      Branches: [{
        StartAt: 'D',
        States: {
          D: { Type: 'Task', Resource: 'double', Next: 'C' },
          C: { Type: 'Choice', Choices: [{ Variable: '$', NumericGreaterThan: 5, Next: 'Big' }], Default: 'Small' },
          Big: { Type: 'Pass', Parameters: { 'v.$': "States.Array('big', $)" }, OutputPath: '$.v', End: true },
          Small: { Type: 'Pass', Result: 'small', End: true },
        },
      }],
    }),
  },
  {
    name: 'parallel-branch-succeed', doc: 'Parallel state; Succeed state (ends its branch)', input: { a: 1 }, output: [{ a: 1 }, 'x'],
    definition: single({
      Type: 'Parallel',
      Branches: [
        { StartAt: 'Ok', States: { Ok: { Type: 'Succeed' } } },
        { StartAt: 'X', States: { X: { Type: 'Pass', Result: 'x', End: true } } },
      ],
    }),
  },
  {
    name: 'map-items-path-selector', doc: 'Map state › ItemsPath and ItemSelector ($$.Map.Item)', input: { detail: { items: ['a', 'b'] }, tag: 't' },
    output: { detail: { items: ['a', 'b'] }, tag: 't', out: [{ index: 0, value: 'a', tag: 't' }, { index: 1, value: 'b', tag: 't' }] },
    definition: single({
      Type: 'Map', ItemsPath: '$.detail.items', ResultPath: '$.out', MaxConcurrency: 1,
      ItemSelector: { 'index.$': '$$.Map.Item.Index', 'value.$': '$$.Map.Item.Value', 'tag.$': '$.tag' },
      ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'E', States: { E: { Type: 'Task', Resource: 'echo', End: true } } },
    }),
  },
  {
    name: 'map-multi-state-processor', doc: 'Map state › ItemProcessor', input: [1, 5, 2], output: ['small', 'big', 'small'],
    definition: single({
      Type: 'Map',
      ItemProcessor: {
        StartAt: 'D',
        States: {
          D: { Type: 'Task', Resource: 'double', Next: 'C' },
          C: { Type: 'Choice', Choices: [{ Variable: '$', NumericGreaterThan: 5, Next: 'Big' }], Default: 'Small' },
          Big: { Type: 'Pass', Result: 'big', End: true },
          Small: { Type: 'Pass', Result: 'small', End: true },
        },
      },
    }),
  },
  {
    name: 'map-iterator-parameters', doc: 'Map state › Iterator and Parameters (older field names)', input: { xs: [1, 2] }, output: [2, 4],
    definition: single({ Type: 'Map', ItemsPath: '$.xs', Parameters: { 'n.$': '$$.Map.Item.Value' }, Iterator: { StartAt: 'D', States: { D: { Type: 'Task', Resource: 'double', InputPath: '$.n', End: true } } } }),
  },
  { name: 'map-empty', doc: 'Map state (an empty array gives [])', input: [], output: [], definition: single({ Type: 'Map', ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } } }) },
  {
    name: 'map-items-not-array', doc: 'Map state › ItemsPath (must select an array)', input: { xs: 1 }, error: 'States.Runtime',
    definition: single({ Type: 'Map', ItemsPath: '$.xs', ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } } }),
  },
  {
    name: 'map-item-failure-fails-map', doc: 'Map state (a failed iteration fails the Map)', input: [{ id: 1 }, { id: 2, bad: true }], error: 'BadItem',
    definition: single({ Type: 'Map', ItemProcessor: { StartAt: 'K', States: { K: { Type: 'Task', Resource: 'checkItem', End: true } } } }),
  },
  {
    name: 'map-tolerated-count', doc: 'Map state › ToleratedFailureCount', input: [{ id: 1 }, { id: 2, bad: true }, { id: 3 }],
    output: [1, { Error: 'BadItem', Cause: 'bad item 2' }, 3],
    definition: single({ Type: 'Map', ToleratedFailureCount: 1, ItemProcessor: { StartAt: 'K', States: { K: { Type: 'Task', Resource: 'checkItem', End: true } } } }),
    noOracle: 'the emulator does not record failed iterations the same way',
  },
  {
    name: 'map-tolerance-exceeded', doc: 'Map state › ToleratedFailurePercentage; Error names › States.ExceedToleratedFailureThreshold',
    input: [{ id: 1, bad: true }, { id: 2, bad: true }, { id: 3 }], error: 'States.ExceedToleratedFailureThreshold',
    definition: single({ Type: 'Map', ToleratedFailurePercentage: 50, ItemProcessor: { StartAt: 'K', States: { K: { Type: 'Task', Resource: 'checkItem', End: true } } } }),
  },
  {
    name: 'map-nested-parallel-in-item', doc: 'Map state › ItemProcessor with a Parallel state', input: [1, 2], output: [[2, 1], [4, 2]],
    definition: single({
      Type: 'Map',
      ItemProcessor: {
        StartAt: 'P',
        States: {
          P: {
            Type: 'Parallel', End: true,
            Branches: [
              { StartAt: 'D', States: { D: { Type: 'Task', Resource: 'double', End: true } } },
              { StartAt: 'E', States: { E: { Type: 'Pass', End: true } } },
            ],
          },
        },
      },
    }),
  },
];
