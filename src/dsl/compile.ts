import type { AnyStateMachine } from 'xstate';
import { StepErrorCodes } from '../core/errors.js';
import type { StateDef, WorkflowDefinition } from './definition.js';
import { compileCompensating } from './compile/compensation.js';
import { COMPENSATING_ID, type CompileContext } from './compile/flow.js';
import { assign, machineSetup, type StateConfig } from './compile/machine-setup.js';
import { compileChoice } from './compile/states/choice.js';
import { compileFail } from './compile/states/fail.js';
import { compileMap } from './compile/states/map.js';
import { compileParallel } from './compile/states/parallel.js';
import { compilePass } from './compile/states/pass.js';
import { compileSucceed } from './compile/states/succeed.js';
import { compileTask } from './compile/states/task.js';
import { compileWait } from './compile/states/wait.js';
import { compileWaitForEvent, receiveEvent } from './compile/states/wait-for-event.js';
import { compileFailedEnd } from './compile/redrive.js';
import { FINAL, type WorkflowContext } from './machine-types.js';
import type { StateInfo } from './scopes.js';

/**
 * Compiles a validated definition into an xstate v5 machine. The machine is pure: it never runs
 * a handler or a timer itself. Entering a task asks for `runTask` (as data); the engine runs the
 * handler and sends STEP_SUCCEEDED or STEP_FAILED back. Retries, catch routes, joins, map
 * progress and compensation order are all decided here, so the same history always folds to the
 * same snapshot. Each kind of state has its compiler in compile/states/; error routing, the
 * compensation sub-machine and the helpers that run inside transitions live beside them.
 */
export function compileMachine(def: WorkflowDefinition, index: Map<string, StateInfo>): AnyStateMachine {
  const ctx: CompileContext = {
    index,
    info: (name) => index.get(name)!,
    sequence: (states, regionEnd) => {
      const out: Record<string, StateConfig> = {};
      for (const state of states) out[state.name] = compileState(ctx, state);
      if (regionEnd) out.$end = { id: regionEnd, type: 'final' };
      return out;
    },
  };
  return machineSetup.createMachine({
    id: def.name,
    context: ({ input }) => initialContext(input),
    initial: 'run',
    states: {
      run: {
        initial: def.states[0].name,
        states: ctx.sequence(def.states),
        on: {
          CANCEL: {
            target: `#${COMPENSATING_ID}`,
            actions: assign({ cancelled: true, error: { code: StepErrorCodes.Cancelled, message: 'the execution was cancelled' } }),
          },
          // Like a cancel, it leaves whatever runs (no catch route takes it: a catch would only
          // spend more) and compensates; unlike one, the execution ends FAILED.
          BUDGET_EXCEEDED: {
            target: `#${COMPENSATING_ID}`,
            actions: assign(({ event }) => ({ error: (event as Extract<typeof event, { type: 'BUDGET_EXCEEDED' }>).error })),
          },
          EVENT_RECEIVED: { actions: receiveEvent() },
        },
      },
      compensating: compileCompensating(index),
      [FINAL.succeeded]: { id: FINAL.succeeded, type: 'final' },
      [FINAL.failed]: compileFailedEnd(index),
      [FINAL.cancelled]: { id: FINAL.cancelled, type: 'final' },
    },
  });
}

function compileState(ctx: CompileContext, state: StateDef): StateConfig {
  switch (state.type) {
    case 'task': return compileTask(ctx, state);
    case 'map': return compileMap(ctx, state);
    case 'choice': return compileChoice(ctx, state);
    case 'parallel': return compileParallel(ctx, state);
    case 'wait': return compileWait(ctx, state);
    case 'waitForEvent': return compileWaitForEvent(ctx, state);
    case 'pass': return compilePass(ctx, state);
    case 'succeed': return compileSucceed(ctx, state);
    case 'fail': return compileFail(ctx, state);
  }
}

function initialContext(input: unknown): WorkflowContext {
  return {
    data: { '': input ?? null }, attempts: {}, visits: {}, completed: [], compensating: [], maps: {}, timers: {},
    choice: {}, spins: 0, faults: {}, error: null, output: null, cancelled: false, compensationFailures: [],
  };
}
