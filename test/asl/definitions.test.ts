/**
 * Definition checks (AWS's InvalidDefinition): a refused definition throws AslDefinitionError
 * (code INVALID_DEFINITION) naming the state and the field; plus loading `.asl.json` files and the
 * intrinsic-function parser's refusals.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aslWorkflow } from '../../src/asl/asl-workflow.js';
import { parseIntrinsic } from '../../src/asl/intrinsics-parser.js';
import { loadAslFile } from '../../src/asl/load.js';
import { AslDefinitionError } from '../../src/asl/validate.js';
import { virtualEngine } from '../helpers/virtual-engine.js';

const task = (extra: Record<string, unknown> = {}) => ({ Type: 'Task', Resource: 'h', End: true, ...extra });
const machine = (states: Record<string, unknown>, startAt = Object.keys(states)[0]) => ({ StartAt: startAt, States: states });
const handlers = { h: async (x: unknown) => x };

const refused: Array<[string, unknown, string | undefined, string | undefined]> = [
  ['not an object', [], undefined, undefined],
  ['StartAt names no state', machine({ A: task() }, 'B'), undefined, 'StartAt'],
  ['unknown state type', machine({ A: { Type: 'Loop', End: true } }), 'A', 'Type'],
  ['field not allowed for the type', machine({ A: { Type: 'Pass', Resource: 'h', End: true } }), 'A', 'Resource'],
  ['both Next and End', machine({ A: task({ Next: 'A' }) }), 'A', 'Next'],
  ['Next to nowhere', machine({ A: { Type: 'Pass', Next: 'Z' } }), 'A', 'Next'],
  ['unreachable state', machine({ A: task(), B: task() }), 'B', undefined],
  ['Task without Resource', machine({ A: { Type: 'Task', End: true } }), 'A', 'Resource'],
  ['Resource with no handler', machine({ A: task({ Resource: 'arn:aws:lambda:us-east-1:1:function:missing' }) }), 'A', 'Resource'],
  ['HeartbeatSeconds not below TimeoutSeconds', machine({ A: task({ TimeoutSeconds: 5, HeartbeatSeconds: 5 }) }), 'A', 'HeartbeatSeconds'],
  ['States.ALL not last', machine({ A: task({ Retry: [{ ErrorEquals: ['States.ALL'] }, { ErrorEquals: ['X'] }] }) }), 'A', 'Retry[0].ErrorEquals'],
  ['BackoffRate below 1', machine({ A: task({ Retry: [{ ErrorEquals: ['X'], BackoffRate: 0.5 }] }) }), 'A', 'Retry[0].BackoffRate'],
  ['bad JitterStrategy', machine({ A: task({ Retry: [{ ErrorEquals: ['X'], JitterStrategy: 'SOME' }] }) }), 'A', 'Retry[0].JitterStrategy'],
  ['Catch to nowhere', machine({ A: task({ Catch: [{ ErrorEquals: ['X'], Next: 'Z' }] }) }), 'A', 'Catch[0].Next'],
  ['ResultPath not a reference path', machine({ A: task({ ResultPath: '$.a[*]' }) }), 'A', 'ResultPath'],
  ['unknown intrinsic', machine({ A: { Type: 'Pass', Parameters: { 'x.$': 'States.Launch()' }, End: true } }), 'A', 'Parameters'],
  ['Choice without Choices', machine({ A: { Type: 'Choice', Choices: [] } }), 'A', 'Choices'],
  ['unknown comparison', machine({ A: { Type: 'Choice', Choices: [{ Variable: '$.x', NumericAbout: 1, Next: 'A' }] } }), 'A', 'Choices[0].NumericAbout'],
  ['comparison value of the wrong type', machine({ A: { Type: 'Choice', Choices: [{ Variable: '$.x', NumericEquals: '1', Next: 'A' }] } }), 'A', 'Choices[0].NumericEquals'],
  ['Wait with two durations', machine({ A: { Type: 'Wait', Seconds: 1, SecondsPath: '$.s', End: true } }), 'A', 'SecondsPath'],
  ['Map in DISTRIBUTED mode', machine({ A: { Type: 'Map', End: true, ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' }, StartAt: 'P', States: { P: { Type: 'Pass', End: true } } } } }), 'A', 'ItemProcessor'],
  ['unknown query language', { QueryLanguage: 'XPath', ...machine({ A: { Type: 'Pass', End: true } }) }, undefined, 'QueryLanguage'],
  ['JSONata: Parallel not yet', { QueryLanguage: 'JSONata', ...machine({ A: { Type: 'Parallel', End: true, Branches: [] } }) }, 'A', 'Type'],
  ['JSONata: a JSONPath field', { QueryLanguage: 'JSONata', ...machine({ A: { Type: 'Pass', InputPath: '$.a', End: true } }) }, 'A', 'InputPath'],
  ['JSONata: an expression that does not parse', { QueryLanguage: 'JSONata', ...machine({ A: { Type: 'Pass', Output: '{% $states.input. %}', End: true } }) }, 'A', 'Output'],
  ['JSONata: a rule without Condition', { QueryLanguage: 'JSONata', ...machine({ A: { Type: 'Choice', Choices: [{ Variable: '$.x', IsNull: true, Next: 'A' }] } }) }, 'A', 'Choices[0].Condition'],
  ['JSONata: a bad variable name', { QueryLanguage: 'JSONata', ...machine({ A: { Type: 'Pass', Assign: { 'a-b': 1 }, End: true } }) }, 'A', 'Assign'],
  ['Retry on Parallel', machine({ A: { Type: 'Parallel', End: true, Retry: [{ ErrorEquals: ['X'] }], Branches: [machine({ B: { Type: 'Pass', End: true } })] } }), 'A', 'Retry'],
];

describe('ASL definition checks', () => {
  it.each(refused)('refuses: %s', (_why, definition, state, field) => {
    let error: unknown;
    try {
      aslWorkflow('checked', definition, { handlers });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AslDefinitionError);
    const e = error as AslDefinitionError;
    expect(e.code).toBe('INVALID_DEFINITION');
    expect(e.state).toBe(state);
    expect(e.field).toBe(field);
    if (state) expect(e.message).toContain(`state '${state}'`);
  });

  it('accepts state names AWS allows and the DSL would not (spaces, punctuation, 80 characters)', async () => {
    const long = `Step ${'x'.repeat(75)}`;
    const wf = aslWorkflow('names', machine({ 'Get the order!': { Type: 'Pass', Next: long }, [long]: { Type: 'Pass', Result: 'ok', End: true } }));
    const h = await virtualEngine([wf]);
    try {
      expect((await h.runToEnd(await h.start('names', {}))).output).toBe('ok');
    } finally {
      await h.close();
    }
  });

  it('gives a changed definition a new version, the same text the same one', () => {
    const a = aslWorkflow('v', machine({ A: { Type: 'Pass', Result: 1, End: true } }));
    const b = aslWorkflow('v', machine({ A: { Type: 'Pass', Result: 2, End: true } }));
    const c = aslWorkflow('v', machine({ A: { Type: 'Pass', Result: 1, End: true } }));
    expect(a.version).not.toBe(b.version);
    expect(a.version).toBe(c.version);
  });
});

describe('intrinsic function parser', () => {
  it('parses nested calls, escaped quotes and braces, and bracketed paths', () => {
    expect(parseIntrinsic("States.Format('it\\'s {}', States.ArrayGetItem($['a,b'][0], 1))")).toEqual({
      kind: 'call', name: 'States.Format',
      args: [{ kind: 'literal', value: "it's {}" }, { kind: 'call', name: 'States.ArrayGetItem', args: [{ kind: 'path', path: "$['a,b'][0]" }, { kind: 'literal', value: 1 }] }],
    });
  });

  it.each([
    ["States.Format('x'", "missing ')'"],
    ["States.Format('x)", 'unterminated string'],
    ['States.Array(1 2)', "expected ',' or ')'"],
    ['States.Array(foo)', 'expected a string'],
    ['States.Array(1) extra', 'unexpected text'],
  ])('refuses %s with a message naming the problem', (text, why) => {
    expect(() => parseIntrinsic(text)).toThrow(why);
  });
});

describe('loadAslFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-asl-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the workflow after the file and runs it', async () => {
    const path = join(dir, 'orders.asl.json');
    writeFileSync(path, JSON.stringify(machine({ A: task({ Resource: 'arn:aws:lambda:eu-west-1:1:function:h' }) })));
    const wf = loadAslFile(path, handlers);
    expect(wf.name).toBe('orders');
    const h = await virtualEngine([wf]);
    try {
      expect((await h.runToEnd(await h.start('orders', { a: 1 }))).output).toEqual({ a: 1 });
    } finally {
      await h.close();
    }
  });

  it('names the file in a definition error', () => {
    const path = join(dir, 'broken.asl.json');
    writeFileSync(path, '{"StartAt": ');
    expect(() => loadAslFile(path, handlers)).toThrow(/broken\.asl\.json: the definition is not valid JSON/);
  });
});
