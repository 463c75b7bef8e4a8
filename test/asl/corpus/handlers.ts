import type { StepContext, VirtualClock } from '../../../src/index.js';

/**
 * A case's handlers, made fresh for each run so counters start at zero. With the virtual clock the
 * engine runs on, `slow` sleeps on it, so the test helper knows it waits for time to pass.
 */
export function makeHandlers(clock?: VirtualClock) {
  const calls = new Map<string, number>();
  const count = (key: string) => {
    const n = (calls.get(key) ?? 0) + 1;
    calls.set(key, n);
    return n;
  };
  return {
    double: async (x: unknown) => (x as number) * 2,
    echo: async (x: unknown) => x,
    sum: async (x: unknown) => (x as number[]).reduce((a, b) => a + b, 0),
    greet: async (x: unknown) => ({ greeting: `hello ${(x as { name: string }).name}`, status: 200 }),
    /** Throws an Error named `input.error` (default CustomError) with message `input.cause`. */
    fail: async (x: unknown) => {
      const input = (x ?? {}) as { error?: string; cause?: string };
      const error = new Error(input.cause ?? 'boom');
      error.name = input.error ?? 'CustomError';
      throw error;
    },
    /** Fails with Flaky the first `input.failures` calls, then answers 'recovered'. */
    flaky: async (x: unknown) => {
      const n = count('flaky');
      if (n <= ((x as { failures?: number })?.failures ?? 2)) {
        const error = new Error(`failure ${n}`);
        error.name = 'Flaky';
        throw error;
      }
      return { recovered: true, calls: n };
    },
    /** Fails for items holding `bad: true`. */
    checkItem: async (x: unknown) => {
      if ((x as { bad?: boolean }).bad) {
        const error = new Error(`bad item ${(x as { id?: unknown }).id}`);
        error.name = 'BadItem';
        throw error;
      }
      return (x as { id: unknown }).id;
    },
    /** Never answers on its own: it ends when its AbortSignal fires (a timeout). */
    slow: (_x: unknown, ctx: StepContext) => (clock
      ? clock.sleep(undefined, ctx.signal).then(() => { throw new Error('aborted'); })
      : new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))))),
  };
}
export type CaseHandlers = ReturnType<typeof makeHandlers>;
