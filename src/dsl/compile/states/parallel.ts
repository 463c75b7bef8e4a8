import type { DoneStateEvent } from 'xstate';
import type { StateDef } from '../../definition.js';
import { branchScope } from '../../scopes.js';
import { spin } from '../entry-actions.js';
import { faultRoutes } from '../failure-routes.js';
import { onComplete, regionEndId, type CompileContext } from '../flow.js';
import { assign, assignOnAny, command, type StateConfig } from '../machine-setup.js';
import { applyResult } from '../transition-helpers.js';

/**
 * A parallel state runs each branch as a region with its own data scope ('P/i', a copy of the
 * data on entry) and joins when every region reaches its final state: the list of branch outputs
 * goes into the data.
 */
export function compileParallel(ctx: CompileContext, state: Extract<StateDef, { type: 'parallel' }>): StateConfig {
  const name = state.name;
  const scope = ctx.info(name).scope;
  const regions: Record<string, StateConfig> = {};
  state.branches.forEach((branch, i) => {
    regions[`b${i}`] = { initial: branch[0].name, states: ctx.sequence(branch, regionEndId(branchScope(name, i))) };
  });
  const scopes = state.branches.map((_, i) => branchScope(name, i));
  return {
    id: name,
    type: 'parallel',
    entry: [
      command('entered', () => ({ step: name })),
      assign(({ context }) => {
        const data = { ...context.data };
        for (const s of scopes) data[s] = context.data[scope];
        return { data };
      }),
      spin(name),
    ],
    always: faultRoutes(ctx, name),
    states: regions,
    // Exit actions run before a transition's own actions, so the join reads and drops the branches' data here.
    onDone: onComplete<DoneStateEvent>(ctx, name, [assignOnAny(({ context }) => {
      const data = { ...context.data, [scope]: applyResult(context.data[scope], state.resultPath, scopes.map((s) => context.data[s])) };
      for (const s of scopes) delete data[s];
      return { data };
    })]),
  };
}
