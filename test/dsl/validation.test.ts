import { describe, expect, expectTypeOf, it } from 'vitest';
import { DefinitionError, callback, worker, workflow } from '../../src/index.js';

const noop = async (x: unknown) => x;

function refusal(build: () => unknown): DefinitionError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(DefinitionError);
    return error as DefinitionError;
  }
  throw new Error('the definition was accepted');
}

describe('a definition is checked when it is built', () => {
  it('refuses a target that does not exist, naming both states', () => {
    const e = refusal(() => workflow('w').task('a', noop, { next: 'nowhere' }).build());
    expect(e.message).toBe("state 'a' goes to unknown state 'nowhere'");
    expect(e.state).toBe('a');
    expect(e.code).toBe('INVALID_DEFINITION');
  });

  it('refuses an unreachable state', () => {
    const e = refusal(() => workflow('w').task('a', noop).succeed('done').task('orphan', noop).build());
    expect(e.message).toContain("'orphan' is unreachable");
    expect(e.state).toBe('orphan');
  });

  it('refuses a duplicate name, also across parallel branches', () => {
    expect(refusal(() => workflow('w').task('a', noop).task('a', noop).build()).message).toBe("duplicate state name 'a'");
    const e = refusal(() => workflow('w').task('a', noop).parallel('p', [(b) => b.task('a', noop)]).build());
    expect(e.message).toBe("duplicate state name 'a'");
  });

  it('refuses a task without a handler', () => {
    const e = refusal(() => workflow('w').task('a', undefined as never).build());
    expect(e.message).toBe("task 'a' has no handler");
  });

  it('refuses a choice without a default', () => {
    const e = refusal(() => workflow('w').choice('c', { choices: [{ when: () => true, next: 'x' }] } as never).succeed('x').build());
    expect(e.message).toBe("choice 'c' has no default");
  });

  it('refuses a map without items path', () => {
    const e = refusal(() => workflow<{ items: number[] }>('w').map('m', { handler: noop } as never).build());
    expect(e.message).toBe("map 'm' has no itemsPath");
  });

  it('refuses a jump out of a parallel branch', () => {
    const e = refusal(() => workflow('w').task('a', noop).parallel('p', [(b) => b.task('b', noop, { next: 'a' })]).build());
    expect(e.message).toBe("state 'b' goes to 'a', which is outside its parallel branch");
  });

  it('refuses bad retry policies and names the state', () => {
    const e = refusal(() => workflow('w').task('pay', noop, { retry: [{ maxAttempts: 0 }] }).build());
    expect(e.message).toBe("state 'pay': retry policy 1: maxAttempts must be an integer >= 1");
  });

  it('refuses a wait without a duration, and invalid names', () => {
    expect(refusal(() => workflow('w').wait('w1', {} as never).build()).message).toBe("wait 'w1' needs exactly one of durationMs or until");
    expect(refusal(() => workflow('w').task('has space', noop).build()).state).toBe('has space');
    expect(refusal(() => workflow('').task('a', noop).build()).message).toContain('workflow name');
  });

  it('refuses a compensation named like a state', () => {
    const e = refusal(() => workflow('w').task('a', noop, { compensate: { name: 'b', handler: noop } }).task('b', noop).build());
    expect(e.message).toBe("compensation 'b' of 'a' has the name of a state");
  });

  it('accepts a valid definition and compiles it to an xstate machine that can be drawn', () => {
    const wf = workflow<{ n: number }>('w')
      .task('a', async (x) => ({ m: x.n + 1 }))
      .choice('c', { choices: [{ when: (d) => d.m > 1, next: 'big', label: 'm > 1' }], default: 'small' })
      .succeed('big')
      .succeed('small')
      .build();
    expect(wf.machine.id).toBe('w');
    expect(wf.version).toMatch(/^[0-9a-f]{16}$/);
    expect(wf.toMermaid()).toContain('c -->|"m > 1"| big');
    const description = wf.describe();
    expect(description.states.map((s) => s.name)).toEqual(['a', 'c', 'big', 'small']);
    const machine = JSON.stringify(description.machine);
    for (const state of ['"a"', '"c"', '"big"', '"small"']) expect(machine).toContain(state);
  });

  it('gives the same version to the same definition and another to a changed one', () => {
    const make = (max: number) => workflow('w').task('a', noop, { retry: [{ maxAttempts: max }] }).build();
    expect(make(3).version).toBe(make(3).version);
    expect(make(3).version).not.toBe(make(4).version);
  });

  it('does not let the compiled form of a function change the version', () => {
    const a = workflow<{ n: number }>('w').choice('c', { choices: [{ when: (d) => d.n > 1, next: 'x' }], default: 'x' }).succeed('x').build();
    const b = workflow<{ n: number }>('w').choice('c', { choices: [{ when: (d) => { return d.n > 1; }, next: 'x' }], default: 'x' }).succeed('x').build();
    expect(a.version).toBe(b.version);
  });

  it('takes an explicit version, and refuses a malformed one', () => {
    expect(workflow('w', { version: 'v2' }).task('a', noop).build().version).toBe('v2');
    expect(() => workflow('w', { version: 'has space' })).toThrow(DefinitionError);
  });
});

describe('types flow from step to step', () => {
  it('gives each handler the previous output type', () => {
    workflow<{ cart: string[] }>('typed')
      .task('count', async (input) => {
        expectTypeOf(input).toEqualTypeOf<{ cart: string[] }>();
        return { count: input.cart.length };
      })
      .task('double', async (input) => {
        expectTypeOf(input).toEqualTypeOf<{ count: number }>();
        return input.count * 2;
      }, { resultPath: 'doubled' })
      .task('check', async (input) => {
        expectTypeOf(input.doubled).toEqualTypeOf<number>();
        expectTypeOf(input.count).toEqualTypeOf<number>();
        return null;
      })
      .build();
  });
});

describe('loops and self-targets', () => {
  it('refuses a loop of choice states only, and a pass that goes to itself', () => {
    const e = refusal(() => workflow<{ n: number }>('spin')
      .choice('a', { choices: [{ when: (d) => d.n > 0, next: 'b' }], default: 'done' })
      .choice('b', { choices: [{ when: (d) => d.n > 1, next: 'a' }], default: 'done' })
      .succeed('done')
      .build());
    expect(e.message).toBe("choice states 'a' -> 'b' -> 'a' loop forever (nothing between them changes the data or waits)");
    expect(refusal(() => workflow('p').pass('p', { next: 'p' }).build()).message).toBe("pass 'p' goes to itself and would loop forever");
  });

  it('accepts a loop through a wait', () => {
    expect(() => workflow<{ n: number }>('poll')
      .wait('w', { durationMs: 10 })
      .choice('c', { choices: [{ when: (d) => d.n > 0, next: 'w' }], default: 'done' })
      .succeed('done')
      .build()).not.toThrow();
  });

  it('refuses a worker() or callback() handler as a compensation: undo runs in process', () => {
    for (const [kind, handler] of [['worker', worker('refunds')], ['callback', callback(() => undefined)]] as const) {
      const e = refusal(() => workflow('saga').task('pay', async () => 1, { compensate: { name: 'refund', handler } }).build());
      expect(e.message).toBe(`state 'pay': compensation 'refund' must be an in-process function, not a ${kind}() handler`);
    }
  });
});
