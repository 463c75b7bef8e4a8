import { expect } from 'vitest';
import { expr, single, type AslCase } from './types.js';

const IO = 'Processing input and output';
const INTRINSIC = 'Intrinsic functions';

export const pathCases: AslCase[] = [
  { name: 'inputpath-selects', doc: `${IO} › InputPath`, definition: single({ Type: 'Pass', InputPath: '$.a' }), input: { a: { b: 1 }, c: 2 }, output: { b: 1 } },
  { name: 'inputpath-null', doc: `${IO} › InputPath (null gives {})`, definition: single({ Type: 'Pass', InputPath: null }), input: { a: 1 }, output: {} },
  { name: 'inputpath-missing', doc: `${IO} › InputPath; Error names › States.Runtime`, definition: single({ Type: 'Pass', InputPath: '$.nope' }), input: { a: 1 }, error: 'States.Runtime' },
  {
    name: 'parameters-static-and-paths', doc: `${IO} › Parameters`,
    definition: single({ Type: 'Pass', Parameters: { fixed: 'x', 'dyn.$': '$.a.b', nested: { 'c.$': '$.c' } } }),
    input: { a: { b: 1 }, c: 2 }, output: { fixed: 'x', dyn: 1, nested: { c: 2 } },
  },
  {
    name: 'parameters-after-inputpath', doc: `${IO} › InputPath then Parameters`,
    definition: single({ Type: 'Pass', InputPath: '$.order', Parameters: { 'id.$': '$.id' } }), input: { order: { id: 7 } }, output: { id: 7 },
  },
  {
    name: 'parameters-path-missing', doc: `${IO} › Parameters; Error names › States.ParameterPathFailure`,
    definition: single({ Type: 'Task', Resource: 'echo', Parameters: { 'x.$': '$.missing' } }), input: {}, error: 'States.ParameterPathFailure',
  },
  {
    name: 'parameters-indefinite-path', doc: `${IO} › Parameters (a path selecting several values gives an array)`,
    definition: single({ Type: 'Pass', Parameters: { 'ids.$': '$.items[*].id' } }), input: { items: [{ id: 1 }, { id: 2 }] }, output: { ids: [1, 2] },
  },
  {
    name: 'parameters-filter-path', doc: `${IO} › Parameters (JSONPath filter)`,
    definition: single({ Type: 'Pass', Parameters: { 'big.$': '$.items[?(@.n > 1)].n' } }), input: { items: [{ n: 1 }, { n: 2 }, { n: 3 }] }, output: { big: [2, 3] },
  },
  { name: 'resultpath-default-replaces', doc: `${IO} › ResultPath ($ is the default)`, definition: single({ Type: 'Task', Resource: 'double', InputPath: '$.n' }), input: { n: 4 }, output: 8 },
  {
    name: 'resultpath-field', doc: `${IO} › ResultPath (include the result with the input)`,
    definition: single({ Type: 'Task', Resource: 'double', InputPath: '$.n', ResultPath: '$.result' }), input: { n: 4 }, output: { n: 4, result: 8 },
  },
  {
    name: 'resultpath-null', doc: `${IO} › ResultPath (null discards the result)`,
    definition: single({ Type: 'Task', Resource: 'double', InputPath: '$.n', ResultPath: null }), input: { n: 4 }, output: { n: 4 },
  },
  {
    name: 'resultpath-creates-nested', doc: `${IO} › ResultPath (missing fields are created)`,
    definition: single({ Type: 'Pass', Result: 'r', ResultPath: '$.a.b.c' }), input: { keep: true }, output: { keep: true, a: { b: { c: 'r' } } },
  },
  {
    name: 'resultpath-overwrites', doc: `${IO} › ResultPath (an existing field is replaced)`,
    definition: single({ Type: 'Pass', Result: 'new', ResultPath: '$.a' }), input: { a: 'old', b: 1 }, output: { a: 'new', b: 1 },
  },
  {
    name: 'resultpath-not-an-object', doc: `${IO} › ResultPath; Error names › States.ResultPathMatchFailure`,
    definition: single({ Type: 'Task', Resource: 'echo', ResultPath: '$.a.b' }), input: { a: 5 }, error: 'States.ResultPathMatchFailure',
  },
  {
    name: 'outputpath', doc: `${IO} › OutputPath`,
    definition: single({ Type: 'Task', Resource: 'double', InputPath: '$.n', ResultPath: '$.r', OutputPath: '$.r' }), input: { n: 5 }, output: 10,
  },
  {
    name: 'resultselector-lambda-invoke', doc: `${IO} › ResultSelector; Invoke Lambda with Step Functions`,
    definition: single({
      Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:double', 'Payload.$': '$.n' },
      ResultSelector: { 'value.$': '$.Payload', 'code.$': '$.StatusCode' }, ResultPath: '$.res',
    }),
    input: { n: 4 }, output: { n: 4, res: { value: 8, code: 200 } },
  },
  {
    name: 'lambda-function-arn', doc: 'Task state › Resource (Lambda function ARN)',
    definition: single({ Type: 'Task', Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:greet', ResultSelector: { 'msg.$': '$.greeting' } }),
    input: { name: 'Ada' }, output: { msg: 'hello Ada' },
  },
  {
    name: 'context-execution-input', doc: 'Context object › Execution.Input',
    definition: single({ Type: 'Pass', InputPath: '$.a', Parameters: { 'orig.$': '$$.Execution.Input' } }), input: { a: 1 }, output: { orig: { a: 1 } },
  },
  {
    name: 'context-state-name', doc: 'Context object › State.Name',
    definition: single({ Type: 'Task', Resource: 'echo', Parameters: { 'state.$': '$$.State.Name', 'retry.$': '$$.State.RetryCount' } }, 'Here Now'), input: {}, output: { state: 'Here Now', retry: 0 },
  },
  {
    name: 'context-execution-name', doc: 'Context object › Execution.Name and Execution.Id', input: {},
    definition: single({ Type: 'Pass', Parameters: { 'name.$': '$$.Execution.Name', 'id.$': '$$.Execution.Id' } }),
    check: (out) => {
      const o = out as { name: string; id: string };
      expect(o.id.endsWith(`:${o.name}`)).toBe(true);
      expect(o.id).toMatch(/^arn:aws:states:/);
    },
    noOracle: 'execution names differ between engines',
  },
];

export const intrinsicCases: AslCase[] = [
  { name: 'format', doc: `${INTRINSIC} › States.Format`, definition: expr("States.Format('Hello, my name is {}.', $.name)"), input: { name: 'Ada' }, output: { value: 'Hello, my name is Ada.' } },
  { name: 'format-escapes', doc: `${INTRINSIC} › Reserved characters (\\{ \\} \\')`, definition: expr("States.Format('\\{{}\\} it\\'s', $.n)"), input: { n: 5 }, output: { value: "{5} it's" } },
  { name: 'string-to-json', doc: `${INTRINSIC} › States.StringToJson`, definition: expr('States.StringToJson($.s)'), input: { s: '{"a":1}' }, output: { value: { a: 1 } } },
  { name: 'json-to-string', doc: `${INTRINSIC} › States.JsonToString`, definition: expr('States.JsonToString($.o)'), input: { o: { a: 1 } }, output: { value: '{"a":1}' } },
  { name: 'array', doc: `${INTRINSIC} › States.Array`, definition: expr("States.Array('a', 1, $.b)"), input: { b: true }, output: { value: ['a', 1, true] } },
  { name: 'array-partition', doc: `${INTRINSIC} › States.ArrayPartition`, definition: expr('States.ArrayPartition($.a, 2)'), input: { a: [1, 2, 3, 4, 5] }, output: { value: [[1, 2], [3, 4], [5]] } },
  { name: 'array-contains', doc: `${INTRINSIC} › States.ArrayContains`, definition: expr('States.ArrayContains($.a, $.v)'), input: { a: [1, 2, 3], v: 2 }, output: { value: true } },
  { name: 'array-range', doc: `${INTRINSIC} › States.ArrayRange`, definition: expr('States.ArrayRange(1, 9, 2)'), input: {}, output: { value: [1, 3, 5, 7, 9] } },
  { name: 'array-get-item', doc: `${INTRINSIC} › States.ArrayGetItem`, definition: expr('States.ArrayGetItem($.a, 1)'), input: { a: [1, 2, 3] }, output: { value: 2 } },
  { name: 'array-length', doc: `${INTRINSIC} › States.ArrayLength`, definition: expr('States.ArrayLength($.a)'), input: { a: [1, 2, 3] }, output: { value: 3 } },
  { name: 'array-unique', doc: `${INTRINSIC} › States.ArrayUnique`, definition: expr('States.ArrayUnique($.a)'), input: { a: [1, 2, 3, 3, 3, 3, 3, 4] }, output: { value: [1, 2, 3, 4] } },
  { name: 'math-add', doc: `${INTRINSIC} › States.MathAdd`, definition: expr('States.MathAdd(111, -1)'), input: {}, output: { value: 110 } },
  {
    name: 'math-random', doc: `${INTRINSIC} › States.MathRandom`, definition: expr('States.MathRandom(1, 999)'), input: {},
    check: (out) => expect((out as { value: number }).value).toSatisfy((v: number) => Number.isInteger(v) && v >= 1 && v < 999),
    noOracle: 'random',
  },
  {
    name: 'uuid', doc: `${INTRINSIC} › States.UUID`, definition: expr('States.UUID()'), input: {},
    check: (out) => expect((out as { value: string }).value).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
    noOracle: 'random',
  },
  {
    name: 'hash', doc: `${INTRINSIC} › States.Hash`, definition: expr('States.Hash($.Data, $.Algorithm)'),
    input: { Data: 'input data', Algorithm: 'SHA-1' }, output: { value: 'aaff4a450a104cd177d28d18d74485e8cae074b7' },
  },
  { name: 'base64-encode', doc: `${INTRINSIC} › States.Base64Encode`, definition: expr('States.Base64Encode($.s)'), input: { s: 'Data to encode' }, output: { value: 'RGF0YSB0byBlbmNvZGU=' } },
  { name: 'base64-decode', doc: `${INTRINSIC} › States.Base64Decode`, definition: expr('States.Base64Decode($.s)'), input: { s: 'RGF0YSB0byBlbmNvZGU=' }, output: { value: 'Data to encode' } },
  { name: 'string-split', doc: `${INTRINSIC} › States.StringSplit`, definition: expr('States.StringSplit($.s, $.d)'), input: { s: 'This.is+a,test=string', d: '.+,=' }, output: { value: ['This', 'is', 'a', 'test', 'string'] } },
  {
    name: 'json-merge', doc: `${INTRINSIC} › States.JsonMerge`, definition: expr('States.JsonMerge($.json1, $.json2, false)'),
    input: { json1: { a: { a1: 1, a2: 2 }, b: 2 }, json2: { a: { a3: 1, a4: 2 }, c: 3 } }, output: { value: { a: { a3: 1, a4: 2 }, b: 2, c: 3 } },
  },
  { name: 'nested-calls', doc: `${INTRINSIC} › nesting functions`, definition: expr("States.Format('{} items', States.ArrayLength(States.Array(1, 2, 3)))"), input: {}, output: { value: '3 items' } },
  { name: 'intrinsic-failure', doc: `${INTRINSIC}; Error names › States.IntrinsicFailure`, definition: single({ Type: 'Task', Resource: 'echo', Parameters: { 'v.$': 'States.ArrayGetItem($.a, 5)' } }), input: { a: [1] }, error: 'States.IntrinsicFailure' },
];
