/**
 * A second oracle: the corpus also runs on aws-local-stepfunctions (an independent ASL
 * interpreter on npm). Cases where the two disagree are listed in KNOWN_DISAGREEMENTS with the
 * reason (and in docs/step-functions.md); any other disagreement fails.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { corpus, type AslCase } from './corpus/index.js';
import { makeHandlers } from './corpus/handlers.js';

// aws-local-stepfunctions 3 calls Promise.withResolvers (Node 22); Node 20 lacks it.
if (!('withResolvers' in Promise)) {
  Object.assign(Promise, {
    withResolvers<T>() {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((a, b) => {
        resolve = a;
        reject = b;
      });
      return { promise, resolve, reject };
    },
  });
}

/** Where the emulator differs from AWS's documentation (and from Stepwise), by case name. */
export const KNOWN_DISAGREEMENTS: Record<string, string> = {
  'parameters-path-missing': 'the emulator raises States.Runtime; AWS names States.ParameterPathFailure for a Parameters path that matches nothing',
  'resultpath-not-an-object': 'the emulator replaces the scalar with an object; AWS raises States.ResultPathMatchFailure',
  'context-state-name': 'the emulator has no $$.State.RetryCount',
  'string-split': "the emulator splits on the whole second argument; AWS's example splits on each of its characters",
  'intrinsic-failure': 'the emulator answers null for an index out of bounds; AWS raises States.IntrinsicFailure',
  'choice-is-present-false': 'the emulator does not match IsPresent: false for a missing field',
  'wait-seconds-path-not-number': "the emulator's wait override skips reading SecondsPath, so a bad value goes unnoticed",
  'map-tolerance-exceeded': 'the emulator ignores ToleratedFailurePercentage and fails with the item error',
};

type Outcome = { output?: unknown; error?: string };

function taskStates(definition: any, out: Array<[string, string]> = []): Array<[string, string]> {
  for (const [name, state] of Object.entries<any>(definition.States ?? {})) {
    if (state.Type === 'Task') out.push([name, state.Resource]);
    for (const b of state.Branches ?? []) taskStates(b, out);
    const p = state.ItemProcessor ?? state.Iterator;
    if (p) taskStates(p, out);
  }
  return out;
}

function resourceName(resource: string, input: any): string {
  if (resource.includes(':states:::lambda:invoke')) return String(input.FunctionName).split(':').pop()!;
  return resource.split(':').pop()!;
}

async function runOnEmulator(c: AslCase): Promise<Outcome> {
  const handlers = makeHandlers() as Record<string, (x: unknown, ctx: any) => Promise<unknown>>;
  const local: Record<string, (input: any) => Promise<any>> = {};
  for (const [state, resource] of taskStates(c.definition)) {
    local[state] = async (input) => {
      const invoke = resource.includes(':states:::lambda:invoke');
      const result = await handlers[resourceName(resource, input)](invoke ? input.Payload : input, { signal: new AbortController().signal });
      return invoke ? { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 } : result;
    };
  }
  const waits: Record<string, number> = {};
  const retries: Record<string, number> = {};
  const all = JSON.stringify(c.definition);
  for (const m of all.matchAll(/"([^"]+)":\{"Type":"(Wait|Task|Map|Parallel)"/g)) (m[2] === 'Wait' ? waits : retries)[m[1]] = 0;
  const machine = new StateMachine(c.definition as any, { validationOptions: { checkArn: false, checkPaths: false } });
  try {
    const output = await machine.run(c.input as any, { overrides: { taskResourceLocalHandlers: local, waitTimeOverrides: waits, retryIntervalOverrides: retries } }).result;
    return { output };
  } catch (error) {
    const e = error as { name?: string; cause?: { name?: string } };
    return { error: e.cause?.name ?? e.name };
  }
}

describe('second oracle: aws-local-stepfunctions', () => {
  const cases = corpus.filter((c) => !c.noOracle && !c.check);
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const got = await runOnEmulator(c);
    const expected: Outcome = c.error !== undefined ? { error: c.error } : { output: c.output };
    const agrees = JSON.stringify(got) === JSON.stringify(expected);
    if (KNOWN_DISAGREEMENTS[c.name]) {
      expect(agrees, `${c.name} now agrees; remove it from KNOWN_DISAGREEMENTS`).toBe(false);
      return;
    }
    expect(got).toEqual(expected);
  });
});
