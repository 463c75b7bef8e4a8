/**
 * The workflow module bench/coldstart.ts serves to time a resume: one task that prints a marker
 * line on stdout when it starts, then (in the process the benchmark kills) never returns, so the
 * execution is left running; the next process picks it up and prints the marker again.
 * It imports the package root, as an application's module does.
 */
import { workflow } from '../src/index.js';

/** bench/coldstart.ts waits for this line (not exported: serve reads every export). */
const STEP_STARTED = 'coldstart: step started';

export const coldstart = workflow<{ n: number }>('coldstart')
  .task('first', async (input) => {
    process.stdout.write(`${STEP_STARTED}\n`);
    if (process.env.STEPWISE_COLDSTART_HANG === '1') await new Promise(() => undefined);
    return input;
  })
  .build();
