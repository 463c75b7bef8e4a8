import { StepErrorCodes } from '../../../core/errors.js';
import type { StateDef } from '../../definition.js';
import { stepKey, type CompletedStep, type WorkflowContext, type WorkflowEvent } from '../../machine-types.js';
import { visit, spin } from '../entry-actions.js';
import { failureRoutes, faultRoutes, retryRoute } from '../failure-routes.js';
import { onComplete, type CompileContext } from '../flow.js';
import { assign, command, enqueueActions, type Args, type StateConfig } from '../machine-setup.js';
import { applyResult, getPath, safely } from '../transition-helpers.js';

/**
 * A map runs its handler once per item of the array at `itemsPath`, at most `concurrency` at a
 * time. Progress is one character per item in the context ('.' pending, 'r' running, 'd' done);
 * each item has its own step key ('name[i]'), retries and compensation, and the state joins when
 * every item is done.
 */
export function compileMap(ctx: CompileContext, state: Extract<StateDef, { type: 'map' }>): StateConfig {
  const name = state.name;
  const scope = ctx.info(name).scope;
  const base = (c: WorkflowContext) => stepKey(name, c.visits[name] ?? 1);
  const itemOf = (c: WorkflowContext, event: WorkflowEvent): number => {
    if (!('key' in event)) return -1;
    const prefix = `${base(c)}[`;
    if (!event.key.startsWith(prefix) || !event.key.endsWith(']')) return -1;
    const i = Number(event.key.slice(prefix.length, -1));
    return Number.isInteger(i) && c.maps[name]?.progress[i] === 'r' ? i : -1;
  };
  const mine = ({ context, event }: Args) => itemOf(context, event) >= 0;
  const errorOf = ({ event }: Args) => (event as Extract<typeof event, { type: 'STEP_FAILED' }>).error;
  /** Marks pending items running, up to the concurrency limit, and asks for each. */
  const startMore = enqueueActions(({ context, enqueue }) => {
    const m: WorkflowContext['maps'][string] | undefined = context.maps[name];
    if (!m) return;
    let running = 0;
    for (const ch of m.progress) if (ch === 'r') running++;
    const progress = m.progress.split('');
    for (let i = 0; i < progress.length && running < state.concurrency; i++) {
      if (progress[i] !== '.') continue;
      progress[i] = 'r';
      running++;
      enqueue({ type: 'runTask', params: { key: stepKey(name, context.visits[name] ?? 1, i), step: name, index: i } });
    }
    enqueue.assign({ maps: { ...context.maps, [name]: { ...m, progress: progress.join('') } } });
  });
  return {
    id: name,
    entry: [
      visit(name),
      command('entered', () => ({ step: name })),
      assign(({ context }) => {
        const found = safely(() => getPath(context.data[scope], state.itemsPath));
        if (!found.ok) return { faults: { ...context.faults, [name]: found.error } };
        if (!Array.isArray(found.value)) {
          const error = { code: StepErrorCodes.MapItemsNotArray, message: `map '${name}': '${state.itemsPath}' is not an array`, terminal: true };
          return { faults: { ...context.faults, [name]: error } };
        }
        const items = found.value as unknown[];
        return {
          spins: items.length > 0 ? 0 : context.spins,
          maps: { ...context.maps, [name]: { items, results: new Array(items.length).fill(null), progress: '.'.repeat(items.length) } },
        };
      }),
      startMore,
      spin(name),
    ],
    exit: [
      command('cancelWork', ({ context }) => {
        const m = context.maps[name];
        const keys: string[] = [];
        m?.progress.split('').forEach((ch, i) => { if (ch === 'r') keys.push(stepKey(name, context.visits[name] ?? 1, i)); });
        return { kind: 'task', keys };
      }),
    ],
    always: [
      ...faultRoutes(ctx, name, state.catch),
      {
        guard: ({ context }) => context.maps[name] !== undefined && /^d*$/.test(context.maps[name].progress),
        // Exit actions run before a transition's own, so the join reads and drops the progress here.
        ...onComplete(ctx, name, [assign(({ context }) => {
          const { [name]: progress, ...maps } = context.maps;
          return { maps, data: { ...context.data, [scope]: applyResult(context.data[scope], state.resultPath, progress.results) } };
        })]),
      },
    ],
    on: {
      STEP_SUCCEEDED: {
        guard: mine,
        actions: [
          assign(({ context, event }) => {
            const i = itemOf(context, event);
            const m = context.maps[name];
            const succeeded = event as Extract<typeof event, { type: 'STEP_SUCCEEDED' }>;
            const output = succeeded.output;
            const results = m.results.slice();
            results[i] = output;
            const progress = `${m.progress.slice(0, i)}d${m.progress.slice(i + 1)}`;
            const completed: CompletedStep[] = state.compensation
              ? [...context.completed, { key: succeeded.key, step: name, compensation: state.compensation.name, input: m.items[i], output }]
              : context.completed;
            return { maps: { ...context.maps, [name]: { ...m, results, progress } }, completed };
          }),
          startMore,
        ],
      },
      STEP_FAILED: [
        retryRoute(state.retry, mine, errorOf, (c, e) => ({ key: (e as { key: string }).key, step: name, index: itemOf(c, e) })),
        ...failureRoutes(ctx, name, errorOf, mine, state.catch),
      ],
    },
  };
}
