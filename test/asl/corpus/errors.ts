import { single, type AslCase } from './types.js';

const RETRY = 'Handling errors › Retrying after an error';
const CATCH = 'Handling errors › Fallback states';

/** A Task 'T' with fallback states 'Caught' (passes its input) and 'Other' (gives 'other'), kept when referenced. */
const task = (resource: string, extra: Record<string, unknown>): Record<string, unknown> => {
  const text = JSON.stringify(extra);
  return {
    StartAt: 'T',
    States: {
      T: { Type: 'Task', Resource: resource, End: true, ...extra },
      ...(text.includes('"Caught"') ? { Caught: { Type: 'Pass', End: true } } : {}),
      ...(text.includes('"Other"') ? { Other: { Type: 'Pass', Result: 'other', End: true } } : {}),
    },
  };
};

export const errorCases: AslCase[] = [
  {
    name: 'retry-then-succeed', doc: `${RETRY} › Retrier fields`, input: { failures: 2 }, output: { recovered: true, calls: 3 },
    definition: single({ Type: 'Task', Resource: 'flaky', Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 }] }),
  },
  {
    name: 'retry-exhausted', doc: `${RETRY} › MaxAttempts`, input: { failures: 5 }, error: 'Flaky',
    definition: single({ Type: 'Task', Resource: 'flaky', Retry: [{ ErrorEquals: ['Flaky'], MaxAttempts: 2 }] }),
  },
  {
    name: 'retry-max-attempts-zero', doc: `${RETRY} › MaxAttempts (0 means never retry)`, input: { failures: 1 }, error: 'Flaky',
    definition: single({ Type: 'Task', Resource: 'flaky', Retry: [{ ErrorEquals: ['Flaky'], MaxAttempts: 0 }, { ErrorEquals: ['States.ALL'], MaxAttempts: 5 }] }),
  },
  {
    name: 'retry-all-with-max-delay-and-jitter', doc: `${RETRY} › MaxDelaySeconds and JitterStrategy`, input: { failures: 3 }, output: { recovered: true, calls: 4 },
    definition: single({ Type: 'Task', Resource: 'flaky', Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, BackoffRate: 3, MaxDelaySeconds: 5, JitterStrategy: 'FULL', MaxAttempts: 3 }] }),
  },
  {
    name: 'retry-task-failed', doc: `${RETRY}; Error names › States.TaskFailed`, input: { failures: 1 }, output: { recovered: true, calls: 2 },
    definition: single({ Type: 'Task', Resource: 'flaky', Retry: [{ ErrorEquals: ['States.TaskFailed'] }] }),
  },
  {
    name: 'retry-not-matching', doc: `${RETRY} (only listed errors are retried)`, input: { failures: 1 }, error: 'Flaky',
    definition: single({ Type: 'Task', Resource: 'flaky', Retry: [{ ErrorEquals: ['SomethingElse'], MaxAttempts: 3 }] }),
  },
  {
    name: 'catch-default-resultpath', doc: `${CATCH} › ResultPath (default $: the error output replaces the input)`,
    input: { error: 'CustomError', cause: 'it broke' }, output: { Error: 'CustomError', Cause: 'it broke' },
    definition: task('fail', { Catch: [{ ErrorEquals: ['CustomError'], Next: 'Caught' }] }),
  },
  {
    name: 'catch-resultpath-field', doc: `${CATCH} › ResultPath (error output added to the input)`,
    input: { error: 'CustomError', cause: 'x' }, output: { error: 'CustomError', cause: 'x', err: { Error: 'CustomError', Cause: 'x' } },
    definition: task('fail', { Catch: [{ ErrorEquals: ['CustomError'], Next: 'Caught', ResultPath: '$.err' }] }),
  },
  {
    name: 'catch-resultpath-null', doc: `${CATCH} › ResultPath null (the input passes on)`, input: { error: 'CustomError' }, output: { error: 'CustomError' },
    definition: task('fail', { Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught', ResultPath: null }] }),
  },
  {
    name: 'catch-first-match-wins', doc: `${CATCH} (catchers are scanned in order)`, input: { error: 'CustomError' }, output: 'other',
    definition: task('fail', { Catch: [{ ErrorEquals: ['CustomError'], Next: 'Other' }, { ErrorEquals: ['States.ALL'], Next: 'Caught' }] }),
  },
  {
    name: 'catch-all', doc: `${CATCH}; Error names › States.ALL`, input: { error: 'Anything' }, output: { Error: 'Anything', Cause: 'boom' },
    definition: task('fail', { Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }] }),
  },
  {
    name: 'catch-task-failed', doc: `${CATCH}; Error names › States.TaskFailed`, input: { error: 'Custom' }, output: 'other',
    definition: task('fail', { Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Other' }] }),
  },
  {
    name: 'catch-after-retries', doc: `${RETRY}; ${CATCH} (Catch applies once retries are exhausted)`, input: { failures: 9 }, output: 'other',
    definition: task('flaky', { Retry: [{ ErrorEquals: ['Flaky'], MaxAttempts: 2 }], Catch: [{ ErrorEquals: ['Flaky'], Next: 'Other' }] }),
  },
  {
    name: 'timeout-uncaught', doc: 'Task state › TimeoutSeconds; Error names › States.Timeout', input: {}, error: 'States.Timeout',
    definition: single({ Type: 'Task', Resource: 'slow', TimeoutSeconds: 5 }), noOracle: 'needs a handler that waits for its AbortSignal',
  },
  {
    name: 'timeout-not-task-failed', doc: 'Error names › States.TaskFailed (matches any error except States.Timeout)', input: {}, output: 'other',
    definition: task('slow', { TimeoutSeconds: 5, Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Caught' }, { ErrorEquals: ['States.Timeout'], Next: 'Other' }] }),
    noOracle: 'needs a handler that waits for its AbortSignal',
  },
  {
    name: 'timeout-caught-by-all', doc: 'Error names › States.ALL (matches States.Timeout)', input: {}, output: { Error: 'States.Timeout' },
    definition: {
      StartAt: 'T',
      States: {
        T: { Type: 'Task', Resource: 'slow', TimeoutSeconds: 5, End: true, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Keep' }] },
        Keep: { Type: 'Pass', Parameters: { 'Error.$': '$.Error' }, End: true },
      },
    },
    noOracle: 'needs a handler that waits for its AbortSignal',
  },
  {
    name: 'timeout-task-failed-uncaught', doc: 'Error names › States.TaskFailed (a timeout stays uncaught)', input: {}, error: 'States.Timeout',
    definition: task('slow', { TimeoutSeconds: 5, Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Caught' }] }),
    noOracle: 'needs a handler that waits for its AbortSignal',
  },
  {
    name: 'parallel-catch-branch-failure', doc: `Parallel state › Catch (a failed branch fails the Parallel); ${CATCH}`,
    input: { keep: 1 }, output: { keep: 1, err: { Error: 'BranchBroke', Cause: 'in branch' } },
    definition: {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel', Next: 'Done', Catch: [{ ErrorEquals: ['BranchBroke'], Next: 'Done', ResultPath: '$.err' }],
          Branches: [
            { StartAt: 'F', States: { F: { Type: 'Fail', Error: 'BranchBroke', Cause: 'in branch' } } },
            { StartAt: 'Ok', States: { Ok: { Type: 'Pass', End: true } } },
          ],
        },
        Done: { Type: 'Pass', End: true },
      },
    },
  },
  {
    name: 'parallel-uncaught-branch-error', doc: 'Parallel state (an uncaught branch error fails the execution)', input: {}, error: 'CustomError',
    definition: single({ Type: 'Parallel', Branches: [{ StartAt: 'T', States: { T: { Type: 'Task', Resource: 'fail', End: true } } }] }),
  },
  {
    name: 'map-catch', doc: `Map state › Catch; ${CATCH}`, input: { items: [{ id: 1, bad: true }] }, output: { items: [{ id: 1, bad: true }], err: { Error: 'BadItem', Cause: 'bad item 1' } },
    definition: {
      StartAt: 'M',
      States: {
        M: { Type: 'Map', ItemsPath: '$.items', End: true, Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Handled', ResultPath: '$.err' }], ItemProcessor: { StartAt: 'K', States: { K: { Type: 'Task', Resource: 'checkItem', End: true } } } },
        Handled: { Type: 'Pass', End: true },
      },
    },
  },
  {
    name: 'catch-inside-map-item', doc: `${CATCH} (inside a Map iteration)`, input: [{ id: 1 }, { id: 2, bad: true }], output: [1, 'skipped'],
    definition: single({
      Type: 'Map',
      ItemProcessor: {
        StartAt: 'K',
        States: { K: { Type: 'Task', Resource: 'checkItem', End: true, Catch: [{ ErrorEquals: ['BadItem'], Next: 'Skip' }] }, Skip: { Type: 'Pass', Result: 'skipped', End: true } },
      },
    }),
  },
  {
    name: 'loop-until-done', doc: 'Choice state (a loop back to an earlier state)', input: { n: 1 }, output: { n: 16 },
    definition: {
      StartAt: 'Double',
      States: {
        Double: { Type: 'Task', Resource: 'double', InputPath: '$.n', ResultPath: '$.n', Next: 'Enough' },
        Enough: { Type: 'Choice', Choices: [{ Variable: '$.n', NumericLessThan: 10, Next: 'Double' }], Default: 'Done' },
        Done: { Type: 'Succeed' },
      },
    },
  },
];
